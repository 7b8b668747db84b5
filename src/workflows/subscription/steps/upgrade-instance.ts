/**
 * Upgrade (spec §2.6, upgradeInstance): a paid upgrade order changes the SKU or the
 * quantity; the instance keeps its id. 3-hour window; when it runs out, the upgrade order
 * fails and is unsubscribed and refunded, and the instance keeps its old specification.
 */
import { stepKey } from '../../../shared/ids';
import type { OrderUpgradedEvent } from '../messages';
import { describeOutcome, retryWithinWindow } from '../../windows/runner';
import type { SubscriptionState } from '../state';

export async function upgrade(state: SubscriptionState, event: OrderUpgradedEvent): Promise<void> {
  const { bookkeeping, merchant } = state.activities;
  const record = { orderId: event.orderId, orderLineId: event.orderLineId, workflowId: state.workflowId, kind: 'upgrade' as const };
  await bookkeeping.saveSubscriptionOrder({ ...record, status: 'pending', detail: { skuCode: event.skuCode, fromSkuCode: state.skuCode } });
  const result = await retryWithinWindow(state, {
    scenario: 'upgrade',
    activity: 'upgradeInstance',
    call: () => merchant.callUpgradeInstance({ ...state.instanceCall(), orderId: event.orderId, orderLineId: event.orderLineId }),
    startedAtMs: event.acceptedAtMs,
    occurrence: event.eventId,
  });
  if (result.ok) {
    state.skuCode = event.skuCode;
    await state.saveInstance(state.frozenBy.length ? 'frozen' : 'active');
    await bookkeeping.saveSubscriptionOrder({ ...record, status: 'completed' });
    await state.tellOrderSystem({
      idempotencyKey: stepKey(state.workflowId, `upgraded:${event.eventId}`),
      type: 'instance.upgraded',
      data: { instanceId: state.instanceId, orderId: event.orderId, orderLineId: event.orderLineId, skuCode: event.skuCode },
    });
    state.setStep(state.status, `upgraded to ${event.skuCode}`);
    return;
  }
  const reason = `merchant did not apply upgrade order ${event.orderId} within ${Math.round(state.policy.upgrade.windowMs / 60_000)} minutes: ${describeOutcome(result.outcome)}`;
  await bookkeeping.saveSubscriptionOrder({ ...record, status: 'failed', detail: { reason } });
  await state.tellOrderSystem({
    idempotencyKey: stepKey(state.workflowId, `upgrade:${event.eventId}:unsubscribe-and-refund`),
    type: 'order.unsubscribe_requested',
    data: { orderId: event.orderId, orderLineId: event.orderLineId, refund: true, amount: event.amount, currency: event.currency, reason },
  });
  await bookkeeping.saveSubscriptionOrder({ ...record, status: 'refunded' });
  await bookkeeping.notifyMerchant({
    idempotencyKey: stepKey(state.workflowId, `upgrade:${event.eventId}:failed`),
    merchantId: state.requireOrder().merchantId,
    subject: `Upgrade order ${event.orderId} failed and was refunded`,
    body: `${reason}. The upgrade order was unsubscribed and refunded; instance ${state.instanceId} keeps SKU ${state.skuCode}.`,
  });
  state.setSearchStatus(state.status);
  state.setStep(state.status, `upgrade ${event.orderId} refunded; SKU ${state.skuCode} kept`);
}
