/**
 * Freeze and unfreeze (spec §2.4, updateInstanceStatus), for expiry and for violations.
 * An instance frozen for two reasons is unfrozen only when both are gone; each call runs
 * in the 1-hour status window and waits for a manual restart when that runs out.
 */
import { stepKey } from '../../../shared/ids';
import { retryUntilDone } from '../../windows/runner';
import type { SubscriptionState } from '../state';

export type FreezeReason = 'expiry' | 'violation';

async function setMerchantStatus(state: SubscriptionState, status: 'FREEZE' | 'UNFREEZE', startedAtMs: number, occurrence: string): Promise<void> {
  await retryUntilDone(state, {
    scenario: 'status',
    activity: 'updateInstanceStatus',
    call: () => state.activities.merchant.callUpdateInstanceStatus({ ...state.instanceCall(), status }),
    startedAtMs,
    occurrence,
  });
}

/** Adds a freeze reason; the merchant is asked to freeze only when the instance was running. */
export async function freeze(state: SubscriptionState, reason: FreezeReason, startedAtMs: number, occurrence: string): Promise<void> {
  if (state.frozenBy.includes(reason)) return;
  if (state.frozenBy.length === 0) await setMerchantStatus(state, 'FREEZE', startedAtMs, occurrence);
  state.frozenBy.push(reason);
  if (reason === 'expiry') state.frozenSinceMs = startedAtMs;
  state.setStatus('frozen');
  await state.saveInstance('frozen');
  await state.tellOrderSystem({
    idempotencyKey: stepKey(state.workflowId, `freeze:${occurrence}`),
    type: 'instance.frozen',
    data: { instanceId: state.instanceId, orderId: state.requireOrder().orderId, reason },
  });
}

/** Removes a freeze reason; the merchant is asked to unfreeze when none is left. */
export async function unfreeze(state: SubscriptionState, reason: FreezeReason, startedAtMs: number, occurrence: string): Promise<void> {
  if (!state.frozenBy.includes(reason)) return;
  if (state.frozenBy.length === 1) await setMerchantStatus(state, 'UNFREEZE', startedAtMs, occurrence);
  state.frozenBy = state.frozenBy.filter((r) => r !== reason);
  if (reason === 'expiry') state.frozenSinceMs = undefined;
  if (state.frozenBy.length > 0) return;
  state.setStatus('active');
  await state.saveInstance('active');
  await state.tellOrderSystem({
    idempotencyKey: stepKey(state.workflowId, `unfreeze:${occurrence}`),
    type: 'instance.unfrozen',
    data: { instanceId: state.instanceId, orderId: state.requireOrder().orderId, reason },
  });
}
