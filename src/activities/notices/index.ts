/** The notices capability: messages to merchants and buyers, and callbacks to the order system. */
import { createNotificationActivities, type NotificationDeps } from './notifications';
import { createOrderSystemActivities, type OrderSystemDeps } from './order-system';

export type NoticeActivityDeps = NotificationDeps & OrderSystemDeps;

export function createNoticeActivities(deps: NoticeActivityDeps) {
  return { ...createNotificationActivities(deps), ...createOrderSystemActivities(deps) };
}
