/** Business-state writes the workflows make; each is idempotent, so Temporal may retry it. */
import { insertCallAttempt } from '../../db/repositories/subscription/call-attempts';
import { upsertInstance } from '../../db/repositories/subscription/instances';
import { updateOrderLineStatus } from '../../db/repositories/subscription/orders';
import { upsertSubscriptionOrder } from '../../db/repositories/subscription/subscription-orders';
import type { AttemptContext, CallAttemptRecord } from '../../db/repositories/subscription/call-attempts';
import type { InstanceRecord } from '../../db/repositories/subscription/instances';
import type { OrderLineStatusUpdate } from '../../db/repositories/subscription/orders';
import type { SubscriptionOrderRecord } from '../../db/repositories/subscription/subscription-orders';
import { instanceIdTaken } from './instance-id-taken';
import { createFailedOrderSanctions, type FailedOrderSanctionDeps } from '../governance/failed-orders';

export type { AttemptContext, CallAttemptRecord, InstanceRecord, OrderLineStatusUpdate, SubscriptionOrderRecord };

/** `mailer` (optional) tells a merchant whose product a failed order delisted by e-mail too. */
export function createSubscriptionRecordActivities(deps: FailedOrderSanctionDeps) {
  const { db } = deps;
  const failedOrders = createFailedOrderSanctions(deps);
  return {
    async recordCallAttempt(attempt: CallAttemptRecord): Promise<void> {
      await insertCallAttempt(db, attempt);
    },
    async updateOrderLine(update: OrderLineStatusUpdate): Promise<void> {
      await updateOrderLineStatus(db, update);
      // A create whose window ran out may put its product over the month's limit of failed orders (spec §4).
      if (update.status === 'failed') await failedOrders.afterOrderLineFailed(update);
    },
    /** Fails with a non-retryable InstanceIdTaken when the instance id is another subscription's. */
    async saveInstance(instance: InstanceRecord): Promise<void> {
      if (!(await upsertInstance(db, instance))) throw instanceIdTaken(instance);
    },
    /**
     * The instance is up: its row and its order line's, in one transaction (one round trip
     * where saveInstance and updateOrderLine took two, run as a local activity by the
     * create). Fails with a non-retryable InstanceIdTaken, writing nothing, when the instance
     * id is another subscription's.
     */
    async activateInstance({ instance, orderLine }: { instance: InstanceRecord; orderLine: OrderLineStatusUpdate }): Promise<void> {
      await db.withTransaction(async (tx) => {
        if (!(await upsertInstance(tx, instance))) throw instanceIdTaken(instance);
        await updateOrderLineStatus(tx, orderLine);
      });
    },
    /** Records a renewal, upgrade or unsubscribe order of the subscription and where it stands. */
    async saveSubscriptionOrder(order: SubscriptionOrderRecord): Promise<void> {
      await upsertSubscriptionOrder(db, order);
    },
  };
}

/** The subscription's own records: idempotent writes, retried until they land. */
export type SubscriptionRecordActivities = ReturnType<typeof createSubscriptionRecordActivities>;
