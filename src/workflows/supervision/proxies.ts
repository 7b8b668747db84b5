/** The supervision's activities, proxied per purpose (presets in ../activity-options). */
import { proxyActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../../activities/notices/notifications';
import type { SupervisionActivities } from '../../activities/supervision/records';
import { BOOKKEEPING } from '../activity-options';

export const records = proxyActivities<Pick<SupervisionActivities, 'recordSupervisionStep'>>(BOOKKEEPING);
export const notices = proxyActivities<Pick<SupervisionActivities, 'notifyAccountManager'> & Pick<NotificationActivities, 'notifyMerchant'>>(BOOKKEEPING);
