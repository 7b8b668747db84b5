/** The tenant sync's activities, proxied per purpose (presets in ../activity-options). */
import { proxyActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../../activities/notices/notifications';
import type { OrderSystemActivities } from '../../activities/notices/order-system';
import type { KitCallActivities } from '../../activities/tenant-sync/kit-calls';
import { BOOKKEEPING, MERCHANT_OPERATION, ORDER_SYSTEM_CALLBACK } from '../activity-options';

/**
 * The Kit call: one attempt (spec §4: no automatic retry). A regular activity, not a local
 * one: a local activity whose workflow task is lost runs again when the task is retried, which
 * sends the call a second time without anyone deciding so. (One benchmark run with local
 * activities made 278 authSync calls where 200 were due; with regular ones, every run made 200.)
 */
export const kit = proxyActivities<Pick<KitCallActivities, 'callKitSync'>>(MERCHANT_OPERATION);
export const records = proxyActivities<Pick<KitCallActivities, 'recordKitCall' | 'skipKitCall'>>(BOOKKEEPING);
export const notices = proxyActivities<Pick<NotificationActivities, 'notifyMerchant'>>(BOOKKEEPING);
export const orderSystem = proxyActivities<OrderSystemActivities>(ORDER_SYSTEM_CALLBACK);
