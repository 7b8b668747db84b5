/** The subscription capability's activities: its merchant operations and its records. */
import type { Db } from '../../db/pool';
import type { NotificationDeps } from '../notices/notifications';
import { createMerchantOperationActivities, type MerchantOperationDeps } from './merchant-operations';
import { createSubscriptionRecordActivities } from './records';

/** The records write some rows in one transaction, so they need the pool itself (and the mailer for a failed-orders sanction). */
export type SubscriptionActivityDeps = MerchantOperationDeps & { db: Db } & Pick<NotificationDeps, 'mailer'>;

export function createSubscriptionActivities(deps: SubscriptionActivityDeps) {
  return { ...createMerchantOperationActivities(deps), ...createSubscriptionRecordActivities(deps) };
}
