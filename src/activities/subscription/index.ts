/** The subscription capability's activities: its merchant operations and its records. */
import { createMerchantOperationActivities, type MerchantOperationDeps } from './merchant-operations';
import { createSubscriptionRecordActivities } from './records';

export type SubscriptionActivityDeps = MerchantOperationDeps;

export function createSubscriptionActivities(deps: SubscriptionActivityDeps) {
  return { ...createMerchantOperationActivities(deps), ...createSubscriptionRecordActivities(deps) };
}
