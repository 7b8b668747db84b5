/**
 * Orders left unapplied when a subscription ends (spec §4: a paid order that cannot be
 * fulfilled is unsubscribed and refunded). A renewal or upgrade can still be waiting in the
 * inbox when the create fails for good, or when the instance is released while it waited: a
 * release held for an operator's restart can take days, and the order system may sell a
 * renewal meanwhile. Each such order is refunded once; any other event is only logged.
 */
import { patched } from '@temporalio/workflow';
import { stepKey } from '../../../shared/ids';
import { records } from '../proxies';
import { tellOrderSystem } from '../bookkeeping';
import type { Subscription } from '../context';
import { logIgnored } from '../inbox';
import type { OrderRenewedEvent, OrderUpgradedEvent } from '../messages';

/**
 * Change id: a renewal that names the subscription's own order is not a paid order but its
 * validity, moved by its supervision at acceptance (README, Supervision): it is not refunded,
 * or the order system would be asked twice to refund the one order.
 */
export const OWN_ORDER_RENEWALS_NOT_REFUNDED = 'own-order-renewals-not-refunded';

export async function refundUnappliedOrders(sub: Subscription): Promise<void> {
  for (let event = sub.state.inbox.shift(); event; event = sub.state.inbox.shift()) {
    if (event.kind === 'order.renewed' && event.orderId === sub.state.order?.orderId && patched(OWN_ORDER_RENEWALS_NOT_REFUNDED)) {
      logIgnored(sub, event, "the validity of the subscription's own order, moved by its supervision: nothing else was paid");
    } else if (event.kind === 'order.renewed' || event.kind === 'order.upgraded') await refund(sub, event);
    else logIgnored(sub, event, `subscription ended (status ${sub.state.status})`);
  }
}

async function refund(sub: Subscription, event: OrderRenewedEvent | OrderUpgradedEvent): Promise<void> {
  const kind = event.kind === 'order.renewed' ? 'renewal' : 'upgrade';
  const record = { orderId: event.orderId, orderLineId: event.orderLineId, workflowId: sub.workflowId, kind, scene: event.kind === 'order.renewed' ? event.scene : undefined } as const;
  const reason =
    sub.state.status === 'released'
      ? `instance ${sub.state.instanceId} was released before ${kind} order ${event.orderId} could be applied`
      : `the subscription's create failed; ${kind} order ${event.orderId} has no instance to apply to`;
  await records.saveSubscriptionOrder({ ...record, status: 'failed', detail: { reason } });
  const money = event.kind === 'order.upgraded' ? { amount: event.amount, currency: event.currency } : {};
  await tellOrderSystem(sub, {
    idempotencyKey: stepKey(sub.workflowId, `${kind}:${event.eventId}:unsubscribe-and-refund`),
    type: 'order.unsubscribe_requested',
    data: { orderId: event.orderId, orderLineId: event.orderLineId, refund: true, ...money, reason },
  });
  await records.saveSubscriptionOrder({ ...record, status: 'refunded' });
}
