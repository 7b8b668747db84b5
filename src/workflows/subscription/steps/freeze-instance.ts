/**
 * Freeze and unfreeze (spec §2.4, updateInstanceStatus), for expiry and for violations.
 * An instance frozen for two reasons is unfrozen only when both are gone; each call runs
 * in the 1-hour status window and waits for a manual restart when that runs out.
 */
import { stepKey } from '../../../shared/ids';
import { runInWindow, singleCall, windowOpensAt } from '../../windows/runner';
import { merchant } from '../proxies';
import { saveInstance, tellOrderSystem } from '../bookkeeping';
import { instanceCall, requireOrder, type Subscription } from '../context';
import type { FreezeReason } from '../state';
import { setStatus } from '../status';
import { windowHost } from '../window-host';

async function setMerchantStatus(sub: Subscription, status: 'FREEZE' | 'UNFREEZE', startedAtMs: number, occurrence: string): Promise<void> {
  await runInWindow(windowHost(sub), {
    scenario: 'status',
    operation: 'updateInstanceStatus',
    opensAtMs: windowOpensAt(startedAtMs),
    occurrence,
    subject: `updateInstanceStatus ${status} for instance ${sub.state.instanceId}`,
    attempt: singleCall((attempt) => merchant().callUpdateInstanceStatus({ attempt, ...instanceCall(sub), status })),
  });
}

/** Adds a freeze reason; the merchant is asked to freeze only when the instance was running. */
export async function freeze(sub: Subscription, reason: FreezeReason, startedAtMs: number, occurrence: string): Promise<void> {
  const { state } = sub;
  if (state.frozenBy.includes(reason)) return;
  if (state.frozenBy.length === 0) await setMerchantStatus(sub, 'FREEZE', startedAtMs, occurrence);
  state.frozenBy.push(reason);
  if (reason === 'expiry') state.frozenSinceMs = startedAtMs;
  await settle(sub, 'frozen', reason, `freeze:${occurrence}`);
}

/** Removes a freeze reason; the merchant is asked to unfreeze when none is left. */
export async function unfreeze(sub: Subscription, reason: FreezeReason, startedAtMs: number, occurrence: string): Promise<void> {
  const { state } = sub;
  if (!state.frozenBy.includes(reason)) return;
  if (state.frozenBy.length === 1) await setMerchantStatus(sub, 'UNFREEZE', startedAtMs, occurrence);
  state.frozenBy = state.frozenBy.filter((r) => r !== reason);
  if (reason === 'expiry') state.frozenSinceMs = undefined;
  if (state.frozenBy.length > 0) return;
  await settle(sub, 'active', reason, `unfreeze:${occurrence}`);
}

/** The new status, on the instance row and to the order system. */
async function settle(sub: Subscription, status: 'frozen' | 'active', reason: FreezeReason, step: string): Promise<void> {
  setStatus(sub, status);
  await saveInstance(sub, status);
  await tellOrderSystem(sub, {
    idempotencyKey: stepKey(sub.workflowId, step),
    type: status === 'frozen' ? 'instance.frozen' : 'instance.unfrozen',
    data: { instanceId: sub.state.instanceId, orderId: requireOrder(sub).orderId, reason },
  });
}
