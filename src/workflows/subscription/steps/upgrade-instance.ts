/**
 * Upgrade (spec §2.6, upgradeInstance): a paid upgrade order changes the SKU or the
 * quantity; the instance keeps its id. 3-hour window; when it runs out, the upgrade order
 * fails and is unsubscribed and refunded, and the instance keeps its old specification.
 */
import { stepKey } from '../../../shared/ids';
import { describeOutcome, runInWindow, singleCall, windowOpensAt } from '../../windows/runner';
import { merchant, records } from '../proxies';
import { currentInstanceStatus, notifyMerchant, saveInstance, tellOrderSystem } from '../bookkeeping';
import { instanceCall, type Subscription } from '../context';
import type { OrderUpgradedEvent } from '../messages';
import { restoreSearchStatus, setStep } from '../status';
import { windowHost } from '../window-host';

export async function upgrade(sub: Subscription, event: OrderUpgradedEvent): Promise<void> {
  const record = { orderId: event.orderId, orderLineId: event.orderLineId, workflowId: sub.workflowId, kind: 'upgrade' as const };
  await records.saveSubscriptionOrder({ ...record, status: 'pending', detail: { skuCode: event.skuCode, fromSkuCode: sub.state.skuCode } });
  const result = await runInWindow(windowHost(sub), {
    scenario: 'upgrade',
    operation: 'upgradeInstance',
    opensAtMs: windowOpensAt(event.acceptedAtMs),
    occurrence: event.eventId,
    subject: `upgradeInstance for instance ${sub.state.instanceId} (order ${event.orderId})`,
    attempt: singleCall((attempt) => merchant().callUpgradeInstance({ attempt, ...instanceCall(sub), orderId: event.orderId, orderLineId: event.orderLineId })),
  });
  if (result.ok) {
    sub.state.skuCode = event.skuCode;
    await saveInstance(sub, currentInstanceStatus(sub));
    await records.saveSubscriptionOrder({ ...record, status: 'completed' });
    await tellOrderSystem(sub, {
      idempotencyKey: stepKey(sub.workflowId, `upgraded:${event.eventId}`),
      type: 'instance.upgraded',
      data: { instanceId: sub.state.instanceId, orderId: event.orderId, orderLineId: event.orderLineId, skuCode: event.skuCode },
    });
    setStep(sub, sub.state.status === 'frozen' ? 'frozen' : 'active', `upgraded to ${event.skuCode}`);
    return;
  }
  const reason = `merchant did not apply upgrade order ${event.orderId} within ${Math.round(sub.policy.upgrade.windowMs / 60_000)} minutes: ${describeOutcome(result.outcome)}`;
  await records.saveSubscriptionOrder({ ...record, status: 'failed', detail: { reason } });
  await tellOrderSystem(sub, {
    idempotencyKey: stepKey(sub.workflowId, `upgrade:${event.eventId}:unsubscribe-and-refund`),
    type: 'order.unsubscribe_requested',
    data: { orderId: event.orderId, orderLineId: event.orderLineId, refund: true, amount: event.amount, currency: event.currency, reason },
  });
  await records.saveSubscriptionOrder({ ...record, status: 'refunded' });
  await notifyMerchant(
    sub,
    `upgrade:${event.eventId}:failed`,
    `Upgrade order ${event.orderId} failed and was refunded`,
    `${reason}. The upgrade order was unsubscribed and refunded; instance ${sub.state.instanceId} keeps SKU ${sub.state.skuCode}.`,
  );
  restoreSearchStatus(sub);
  setStep(sub, sub.state.status === 'frozen' ? 'frozen' : 'active', `upgrade ${event.orderId} refunded; SKU ${sub.state.skuCode} kept`);
}
