/** Which subscription a later event is about, from what the event names. */
import type { Queryable } from '../../db/pool';
import { workflowIdByInstance, workflowIdsByOrderLine } from '../../db/repositories/subscription/subscriptions';
import { AppError } from '../errors';
import type { SubscriptionTarget } from './schemas';

/** The workflow of the subscription the event names: 422 when we do not know it, or when its order line holds several. */
export async function subscriptionNamedBy(db: Queryable, target: SubscriptionTarget): Promise<string> {
  if (target.instanceId) {
    const workflowId = await workflowIdByInstance(db, target.instanceId);
    if (workflowId) return workflowId;
    throw new AppError(422, 'unknown_subscription', `instance ${target.instanceId} is unknown`, [{ field: 'data.instanceId', reason: 'unknown instance' }]);
  }
  // The schema requires one of the two.
  const line = target.subscription!;
  const named = `order line ${line.orderId}/${line.orderLineId}${line.productId ? ` product ${line.productId}` : ''}`;
  const [workflowId, ...others] = await workflowIdsByOrderLine(db, line);
  if (!workflowId) throw new AppError(422, 'unknown_subscription', `${named} is unknown`, [{ field: 'data.subscription', reason: 'unknown order line' }]);
  if (others.length > 0) {
    throw new AppError(422, 'ambiguous_subscription', `${named} has ${others.length + 1} pay-per-use items or packages; name one`, [
      { field: 'data.subscription.productId', reason: 'required when pay-per-use items or packages share the order line' },
    ]);
  }
  return workflowId;
}
