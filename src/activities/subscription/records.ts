/** Business-state writes the workflows make; each is idempotent, so Temporal may retry it. */
import type { Queryable } from '../../db/pool';
import { insertCallAttempt } from '../../db/repositories/subscription/call-attempts';
import { upsertInstance } from '../../db/repositories/subscription/instances';
import { updateOrderLineStatus } from '../../db/repositories/subscription/orders';
import { upsertSubscriptionOrder } from '../../db/repositories/subscription/subscription-orders';
import type { CallAttemptRecord } from '../../db/repositories/subscription/call-attempts';
import type { InstanceRecord } from '../../db/repositories/subscription/instances';
import type { OrderLineStatusUpdate } from '../../db/repositories/subscription/orders';
import type { SubscriptionOrderRecord } from '../../db/repositories/subscription/subscription-orders';
import { instanceIdTaken } from './instance-id-taken';

export type { CallAttemptRecord, InstanceRecord, OrderLineStatusUpdate, SubscriptionOrderRecord };

export function createSubscriptionRecordActivities({ db }: { db: Queryable }) {
  return {
    async recordCallAttempt(attempt: CallAttemptRecord): Promise<void> {
      await insertCallAttempt(db, attempt);
    },
    async updateOrderLine(update: OrderLineStatusUpdate): Promise<void> {
      await updateOrderLineStatus(db, update);
    },
    /** Fails with a non-retryable InstanceIdTaken when the instance id is another subscription's. */
    async saveInstance(instance: InstanceRecord): Promise<void> {
      if (!(await upsertInstance(db, instance))) throw instanceIdTaken(instance);
    },
    /** Records a renewal, upgrade or unsubscribe order of the subscription and where it stands. */
    async saveSubscriptionOrder(order: SubscriptionOrderRecord): Promise<void> {
      await upsertSubscriptionOrder(db, order);
    },
  };
}

/** The subscription's own records: idempotent writes, retried until they land. */
export type SubscriptionRecordActivities = ReturnType<typeof createSubscriptionRecordActivities>;
