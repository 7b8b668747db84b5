/** The subscription's activities, proxied per purpose (presets in ../activity-options). */
import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../../activities/notices/notifications';
import type { OrderSystemActivities } from '../../activities/notices/order-system';
import type { MerchantOperationActivities } from '../../activities/subscription/merchant-operations';
import type { SubscriptionRecordActivities } from '../../activities/subscription/records';
import { BOOKKEEPING, LOCAL_BOOKKEEPING, LOCAL_MERCHANT_OPERATION, MERCHANT_OPERATION, ORDER_SYSTEM_CALLBACK } from '../activity-options';

/** Change id: merchant operations run as local activities (no server round trip around each call). */
export const MERCHANT_OPERATIONS_RUN_LOCALLY = 'merchant-operations-run-locally';

const remoteMerchant = proxyActivities<MerchantOperationActivities>(MERCHANT_OPERATION);
const localMerchant = proxyLocalActivities<MerchantOperationActivities>(LOCAL_MERCHANT_OPERATION);

/**
 * The merchant operations, each one attempt (the workflow owns retries). They run as local
 * activities: the worker makes the call inside the workflow task, so a call costs no server
 * round trip to schedule and none to complete. Runs recorded before scheduled each call as
 * an activity and replay that way. Ask for it right before the call: the patch marker goes
 * where the call is.
 */
export function merchant(): MerchantOperationActivities {
  return patched(MERCHANT_OPERATIONS_RUN_LOCALLY) ? localMerchant : remoteMerchant;
}
export const records = proxyActivities<SubscriptionRecordActivities>(BOOKKEEPING);
export const notices = proxyActivities<NotificationActivities>(BOOKKEEPING);
/** Short writes on the hot path, run by the worker inside the workflow task: no server round trip. */
export const localRecords = proxyLocalActivities<Pick<SubscriptionRecordActivities, 'activateInstance'>>(LOCAL_BOOKKEEPING);
export const orderSystem = proxyActivities<OrderSystemActivities>(ORDER_SYSTEM_CALLBACK);

/** The change check's deadline is configuration, so its options are made per call; it also bounds the wait for a worker. */
export function changeCheckCall(deadlineMs: number): Pick<MerchantOperationActivities, 'callChangeInstanceCheck'> {
  return proxyActivities<Pick<MerchantOperationActivities, 'callChangeInstanceCheck'>>({ scheduleToCloseTimeout: deadlineMs, retry: { maximumAttempts: 1 } });
}
