/** The subscription's activities, proxied per purpose (presets in ../activity-options). */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../../activities/notices/notifications';
import type { OrderSystemActivities } from '../../activities/notices/order-system';
import type { MerchantOperationActivities } from '../../activities/subscription/merchant-operations';
import type { SubscriptionRecordActivities } from '../../activities/subscription/records';
import { BOOKKEEPING, LOCAL_BOOKKEEPING, MERCHANT_OPERATION, ORDER_SYSTEM_CALLBACK } from '../activity-options';

export const merchant = proxyActivities<MerchantOperationActivities>(MERCHANT_OPERATION);
export const records = proxyActivities<SubscriptionRecordActivities>(BOOKKEEPING);
export const notices = proxyActivities<NotificationActivities>(BOOKKEEPING);
/** Short writes on the hot path, run by the worker inside the workflow task: no server round trip. */
export const localRecords = proxyLocalActivities<Pick<SubscriptionRecordActivities, 'activateInstance'>>(LOCAL_BOOKKEEPING);
export const orderSystem = proxyActivities<OrderSystemActivities>(ORDER_SYSTEM_CALLBACK);

/** The change check's deadline is configuration, so its options are made per call; it also bounds the wait for a worker. */
export function changeCheckCall(deadlineMs: number): Pick<MerchantOperationActivities, 'callChangeInstanceCheck'> {
  return proxyActivities<Pick<MerchantOperationActivities, 'callChangeInstanceCheck'>>({ scheduleToCloseTimeout: deadlineMs, retry: { maximumAttempts: 1 } });
}
