/**
 * What a subscription writes and tells as it goes: its instance and order line rows, the
 * merchant's notices, and callbacks to the order system. Every write carries an idempotency
 * key or is an upsert, so Temporal may retry it.
 */
import { ActivityFailure } from '@temporalio/workflow';
import type { OrderSystemCallback } from '../../activities/notices/callbacks';
import type { InstanceRecord, OrderLineStatusUpdate } from '../../activities/subscription/records';
import { stepKey } from '../../shared/ids';
import { localRecords, notices, orderSystem, records } from './proxies';
import { requireOrder, type Subscription } from './context';
import { waitForRestart } from './restart';

/** Writes the instance as it stands now (status, specification, expiry). */
export async function saveInstance(sub: Subscription, status: InstanceStatus): Promise<void> {
  const instance = instanceRecord(sub, status);
  if (instance) await records.saveInstance(instance);
}

/** The instance row and its order line's, both active, in one transaction, by a local activity: the create's hot path. */
export async function activateInstance(sub: Subscription): Promise<void> {
  const order = requireOrder(sub);
  const instance = instanceRecord(sub, 'active');
  if (!instance) return;
  await localRecords.activateInstance({
    instance,
    orderLine: { orderId: order.orderId, orderLineId: order.orderLineId, productId: order.productId, status: 'active', instanceId: instance.instanceId },
  });
}

type InstanceStatus = 'active' | 'frozen' | 'released';

function instanceRecord(sub: Subscription, status: InstanceStatus): InstanceRecord | undefined {
  const order = requireOrder(sub);
  const { instanceId, productId, skuCode, expireAtMs } = sub.state;
  if (!instanceId) return undefined;
  return {
    instanceId,
    workflowId: sub.workflowId,
    merchantId: order.merchantId,
    orderId: order.orderId,
    orderLineId: order.orderLineId,
    productId,
    skuCode,
    status,
    expireTime: expireAtMs === undefined ? undefined : new Date(expireAtMs).toISOString(),
  };
}

/** The instance's status row after a change that keeps its freeze (renewal, upgrade). */
export const currentInstanceStatus = (sub: Subscription): 'active' | 'frozen' => (sub.state.frozenBy.length ? 'frozen' : 'active');

/** Moves this subscription's order line (for pay-per-use: its billing item's row). */
export async function updateOrderLine(sub: Subscription, update: Omit<OrderLineStatusUpdate, 'orderId' | 'orderLineId' | 'productId'>): Promise<void> {
  const order = requireOrder(sub);
  await records.updateOrderLine({ orderId: order.orderId, orderLineId: order.orderLineId, productId: order.productId, ...update });
}

/** Tells the subscription's merchant, once per step of this workflow. */
export async function notifyMerchant(sub: Subscription, step: string, subject: string, body: string): Promise<void> {
  await notices.notifyMerchant({ idempotencyKey: stepKey(sub.workflowId, step), merchantId: requireOrder(sub).merchantId, subject, body });
}

/**
 * Delivers a callback to the order system. Outages are retried by the activity; a
 * rejection waits for an operator's restart and is sent again, so no callback is lost.
 */
export async function tellOrderSystem(sub: Subscription, callback: OrderSystemCallback): Promise<void> {
  for (;;) {
    try {
      await orderSystem.notifyOrderSystem(callback);
      return;
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      const previousStep = sub.state.step;
      await waitForRestart(sub, `order system rejected ${callback.type}: ${error.cause?.message ?? error.message}`);
      sub.state.step = previousStep;
    }
  }
}
