/** The tenant sync's activities, proxied per purpose (presets in ../activity-options). */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../../activities/notices/notifications';
import type { OrderSystemActivities } from '../../activities/notices/order-system';
import type { KitCallActivities } from '../../activities/tenant-sync/kit-calls';
import { BOOKKEEPING, LOCAL_MERCHANT_OPERATION, ORDER_SYSTEM_CALLBACK } from '../activity-options';

/** The Kit call: one attempt (spec §4: no automatic retry), as a local activity (no server round trip around it). */
export const kit = proxyLocalActivities<Pick<KitCallActivities, 'callKitSync'>>(LOCAL_MERCHANT_OPERATION);
export const records = proxyActivities<Pick<KitCallActivities, 'recordKitCall' | 'skipKitCall'>>(BOOKKEEPING);
export const notices = proxyActivities<Pick<NotificationActivities, 'notifyMerchant'>>(BOOKKEEPING);
export const orderSystem = proxyActivities<OrderSystemActivities>(ORDER_SYSTEM_CALLBACK);
