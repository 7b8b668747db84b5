/**
 * Release (spec §2.5): after the retention period of an expired instance, at the end of an
 * unconverted trial, or when an unsubscription succeeded (then the unsubscribe order is
 * named). 1-hour window, then a manual restart. The subscription ends with it.
 */
import { log } from '@temporalio/workflow';
import { stepKey } from '../../../shared/ids';
import { retryUntilDone } from '../../windows/runner';
import type { SubscriptionState } from '../state';

export type ReleaseCause = { kind: 'retention-ended' } | { kind: 'trial-ended' } | { kind: 'unsubscribed'; orderId: string; orderLineId?: string };

export async function release(state: SubscriptionState, cause: ReleaseCause, startedAtMs: number, occurrence: string): Promise<void> {
  const unsubscribe = cause.kind === 'unsubscribed' ? { orderId: cause.orderId, orderLineId: cause.orderLineId } : {};
  await retryUntilDone(state, {
    scenario: 'release',
    activity: 'releaseInstance',
    call: () => state.activities.merchant.callReleaseInstance({ ...state.instanceCall(), ...unsubscribe }),
    startedAtMs,
    occurrence,
  });
  const order = state.requireOrder();
  state.frozenBy = [];
  state.setStatus('released');
  state.setStep('released', cause.kind);
  await state.saveInstance('released');
  await state.updateOrderLine({ status: 'released' });
  await state.tellOrderSystem({
    idempotencyKey: stepKey(state.workflowId, 'released'),
    type: 'instance.released',
    data: { instanceId: state.instanceId, orderId: order.orderId, orderLineId: order.orderLineId, cause: cause.kind, ...unsubscribe },
  });
  log.info('instance released', { workflowId: state.workflowId, instanceId: state.instanceId, cause: cause.kind });
  state.ended = true;
}
