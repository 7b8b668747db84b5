/** The penalty notice's activity, proxied per purpose (presets in ../../activity-options). */
import { proxyActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../../../activities/notices/notifications';
import { BOOKKEEPING } from '../../activity-options';

/** Idempotent by the notice's key (one in-site message, one e-mail), so retried until it lands. */
export const notices = proxyActivities<Pick<NotificationActivities, 'notifyMerchant'>>(BOOKKEEPING);
