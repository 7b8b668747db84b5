/**
 * Renewal (spec §2.3, refreshInstance): a renewal, a trial conversion (TRIAL_TO_FORMAL), a
 * cancelled renewal period or a change at renewal sets a new expiry. A renewal during the
 * retention period first unfreezes the instance, so the release never happens. 1-hour
 * window, then a manual restart (no refund).
 */
import { log } from '@temporalio/workflow';
import { stepKey } from '../../../shared/ids';
import { runInWindow, singleCall, windowOpensAt } from '../../windows/runner';
import { merchant, records } from '../proxies';
import { currentInstanceStatus, saveInstance, tellOrderSystem } from '../bookkeeping';
import { instanceCall, type Subscription } from '../context';
import type { OrderRenewedEvent } from '../messages';
import { windowHost } from '../window-host';
import { unfreeze } from './freeze-instance';

export async function renew(sub: Subscription, event: OrderRenewedEvent): Promise<void> {
  const record = { orderId: event.orderId, orderLineId: event.orderLineId, workflowId: sub.workflowId, kind: 'renewal' as const, scene: event.scene };
  await records.saveSubscriptionOrder({ ...record, status: 'pending', detail: { expireTime: event.expireTime } });
  if (sub.state.frozenBy.includes('expiry')) await unfreeze(sub, 'expiry', event.acceptedAtMs, `${event.eventId}:unfreeze`);
  await runInWindow(windowHost(sub), {
    scenario: 'renewal',
    operation: 'refreshInstance',
    opensAtMs: windowOpensAt(event.acceptedAtMs),
    occurrence: event.eventId,
    subject: `refreshInstance for instance ${sub.state.instanceId}`,
    attempt: singleCall((attempt) =>
      merchant().callRefreshInstance({
        attempt,
        ...instanceCall(sub),
        scene: event.scene,
        orderId: event.orderId,
        orderLineId: event.orderLineId,
        expireTime: event.expireTime,
        productId: event.productId,
      }),
    ),
  });
  applyRenewal(sub, event);
  await saveInstance(sub, currentInstanceStatus(sub));
  await records.saveSubscriptionOrder({ ...record, status: 'completed' });
  await tellOrderSystem(sub, {
    idempotencyKey: stepKey(sub.workflowId, `renewed:${event.eventId}`),
    type: 'instance.renewed',
    data: { instanceId: sub.state.instanceId, orderId: event.orderId, orderLineId: event.orderLineId, scene: event.scene, expireTime: event.expireTime },
  });
  log.info('instance renewed', { workflowId: sub.workflowId, scene: event.scene, expireTime: event.expireTime });
}

/** The new expiry starts a new reminder cycle; a conversion ends the trial; a change at renewal may change the product. */
function applyRenewal(sub: Subscription, event: OrderRenewedEvent): void {
  sub.state.expireAtMs = Date.parse(event.expireTime);
  sub.state.remindersSent = [];
  if (event.scene === 'TRIAL_TO_FORMAL') sub.state.trial = false;
  if (event.productId) sub.state.productId = event.productId;
}
