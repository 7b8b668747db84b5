/**
 * Orders left unapplied when a subscription ends (spec §4: a paid order that cannot be
 * fulfilled is unsubscribed and refunded). A renewal or upgrade can still be waiting in the
 * inbox when the create fails for good, or when the instance is released while it waited: a
 * release held for an operator's restart can take days, and the order system may sell a
 * renewal meanwhile. Each such order is refunded once; any other event is only logged.
 */
import { stepKey } from '../../../shared/ids';
import type { OrderRenewedEvent, OrderUpgradedEvent } from '../messages';
import type { SubscriptionState } from '../state';

export async function refundUnappliedOrders(state: SubscriptionState): Promise<void> {
  for (let event = state.inbox.shift(); event; event = state.inbox.shift()) {
    if (event.kind === 'order.renewed' || event.kind === 'order.upgraded') await refund(state, event);
    else state.logIgnored(event, `subscription ended (status ${state.status})`);
  }
}

async function refund(state: SubscriptionState, event: OrderRenewedEvent | OrderUpgradedEvent): Promise<void> {
  const { bookkeeping } = state.activities;
  const kind = event.kind === 'order.renewed' ? 'renewal' : 'upgrade';
  const record = { orderId: event.orderId, orderLineId: event.orderLineId, workflowId: state.workflowId, kind, scene: event.kind === 'order.renewed' ? event.scene : undefined } as const;
  const reason =
    state.status === 'released'
      ? `instance ${state.instanceId} was released before ${kind} order ${event.orderId} could be applied`
      : `the subscription's create failed; ${kind} order ${event.orderId} has no instance to apply to`;
  await bookkeeping.saveSubscriptionOrder({ ...record, status: 'failed', detail: { reason } });
  const money = event.kind === 'order.upgraded' ? { amount: event.amount, currency: event.currency } : {};
  await state.tellOrderSystem({
    idempotencyKey: stepKey(state.workflowId, `${kind}:${event.eventId}:unsubscribe-and-refund`),
    type: 'order.unsubscribe_requested',
    data: { orderId: event.orderId, orderLineId: event.orderLineId, refund: true, ...money, reason },
  });
  await bookkeeping.saveSubscriptionOrder({ ...record, status: 'refunded' });
}
