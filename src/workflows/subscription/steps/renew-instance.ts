/**
 * Renewal (spec §2.3, refreshInstance): a renewal, a trial conversion (TRIAL_TO_FORMAL), a
 * cancelled renewal period or a change at renewal sets a new expiry. A renewal during the
 * retention period first unfreezes the instance, so the release never happens. 1-hour
 * window, then a manual restart (no refund).
 */
import { log } from '@temporalio/workflow';
import { stepKey } from '../../../shared/ids';
import type { OrderRenewedEvent } from '../messages';
import { retryUntilDone } from '../../windows/runner';
import type { SubscriptionState } from '../state';
import { unfreeze } from './freeze-instance';

export async function renew(state: SubscriptionState, event: OrderRenewedEvent): Promise<void> {
  const { bookkeeping, merchant } = state.activities;
  const record = { orderId: event.orderId, orderLineId: event.orderLineId, workflowId: state.workflowId, kind: 'renewal' as const, scene: event.scene };
  await bookkeeping.saveSubscriptionOrder({ ...record, status: 'pending', detail: { expireTime: event.expireTime } });
  if (state.frozenBy.includes('expiry')) await unfreeze(state, 'expiry', event.acceptedAtMs, `${event.eventId}:unfreeze`);
  await retryUntilDone(state, {
    scenario: 'renewal',
    activity: 'refreshInstance',
    call: () =>
      merchant.callRefreshInstance({
        ...state.instanceCall(),
        scene: event.scene,
        orderId: event.orderId,
        orderLineId: event.orderLineId,
        expireTime: event.expireTime,
        productId: event.productId,
      }),
    startedAtMs: event.acceptedAtMs,
    occurrence: event.eventId,
  });
  state.expireAtMs = Date.parse(event.expireTime);
  state.remindersSent = [];
  if (event.scene === 'TRIAL_TO_FORMAL') state.trial = false;
  if (event.productId) state.productId = event.productId;
  await state.saveInstance(state.frozenBy.length ? 'frozen' : 'active');
  await bookkeeping.saveSubscriptionOrder({ ...record, status: 'completed' });
  await state.tellOrderSystem({
    idempotencyKey: stepKey(state.workflowId, `renewed:${event.eventId}`),
    type: 'instance.renewed',
    data: { instanceId: state.instanceId, orderId: event.orderId, orderLineId: event.orderLineId, scene: event.scene, expireTime: event.expireTime },
  });
  log.info('instance renewed', { workflowId: state.workflowId, scene: event.scene, expireTime: event.expireTime });
}
