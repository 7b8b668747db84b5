/**
 * The failure window every merchant call runs in (spec §4, design "Failure windows"):
 * attempts on the scenario's backoff schedule until one succeeds or the window ends (see
 * `WindowCall.startedAtMs` for when it opens); every attempt recorded; the merchant
 * notified on the first failure; a restart signal cuts the current backoff short.
 */
import { patched } from '@temporalio/workflow';
import { stepKey } from '../../shared/ids';
import { backoffDelayMs, type Scenario } from './policy';
import type { MerchantCallOutcome } from '../../protocol/outcome';
import type { SubscriptionState } from '../subscription/state';

export interface WindowCall {
  scenario: Scenario;
  /** The protocol activity, for steps, the timeline and notices (refreshInstance, …). */
  activity: string;
  /** One attempt. */
  call: () => Promise<MerchantCallOutcome>;
  /**
   * When the window opens: the event's acceptance, or the time its timer was due. An event
   * that had to wait behind another scenario (one held for an operator's restart, say) gets
   * its window from the moment the subscription takes it up instead: the merchant is given
   * the whole window for failures of its own, never less because of ours.
   */
  startedAtMs: number;
  /** Names this occurrence in idempotency keys (the event id, or the timer and its time). */
  occurrence: string;
}

export type WindowResult = { ok: true; outcome: MerchantCallOutcome } | { ok: false; outcome: MerchantCallOutcome };

export function describeOutcome(outcome: MerchantCallOutcome): string {
  return [outcome.resultCode, outcome.error ?? outcome.resultMsg].filter(Boolean).join(' ') || 'no answer';
}

const minutes = (ms: number): number => Math.round(ms / 60_000);

/** Change id (workflow versioning): windows open when the subscription takes the event up. */
export const WINDOW_OPENS_WHEN_TAKEN_UP = 'window-opens-when-taken-up';

/** Attempts until success or the end of the window; at least one attempt is always made. */
export async function retryWithinWindow(state: SubscriptionState, w: WindowCall): Promise<WindowResult> {
  const policy = state.policy[w.scenario];
  // Runs recorded before this change opened every window at `startedAtMs` and replay that way.
  const opensAtMs = patched(WINDOW_OPENS_WHEN_TAKEN_UP) ? Math.max(w.startedAtMs, Date.now()) : w.startedAtMs;
  const deadlineMs = opensAtMs + policy.windowMs;
  state.discardStaleRestart();
  let failures = 0;
  for (;;) {
    state.setStep('calling-merchant', `${w.activity} attempt ${failures + 1}`);
    const outcome = await state.attempt(w.scenario, w.activity, w.call);
    if (outcome.kind === 'success') {
      if (failures > 0) state.setSearchStatus(state.status);
      return { ok: true, outcome };
    }
    failures += 1;
    state.setSearchStatus('retrying');
    if (failures === 1) {
      await state.activities.bookkeeping.notifyMerchant({
        idempotencyKey: stepKey(state.workflowId, `${w.scenario}:${w.occurrence}:first-failure`),
        merchantId: state.requireOrder().merchantId,
        subject: `${w.activity} for instance ${state.instanceId ?? '(new)'} is failing`,
        body:
          `The ${w.activity} call for order ${state.requireOrder().orderId} failed: ${describeOutcome(outcome)}. ` +
          `We keep retrying for up to ${minutes(policy.windowMs)} minutes from ${new Date(opensAtMs).toISOString()}.`,
      });
    }
    const remaining = deadlineMs - Date.now();
    if (remaining <= 0) return { ok: false, outcome };
    const delay = Math.min(backoffDelayMs(policy, failures), remaining);
    state.setStep('backing-off', `${w.activity} failed: ${describeOutcome(outcome)}; next attempt in ${Math.round(delay / 1000)} s`);
    const restarted = await state.waitOrRestart(delay);
    // No attempt starts after the window closed, unless an operator asked for one.
    if (!restarted && Date.now() >= deadlineMs) return { ok: false, outcome };
  }
}

/**
 * For scenarios whose window ends in a manual restart (renewal, status, release): when the
 * window runs out, the merchant is told and the subscription waits, without limit, for an
 * operator's restart; each restart opens a new window.
 */
export async function retryUntilDone(state: SubscriptionState, w: WindowCall): Promise<MerchantCallOutcome> {
  let window = w;
  for (let round = 1; ; round += 1) {
    const result = await retryWithinWindow(state, window);
    if (result.ok) return result.outcome;
    const reason = `${w.activity} failed for ${minutes(state.policy[w.scenario].windowMs)} minutes: ${describeOutcome(result.outcome)}`;
    await state.activities.bookkeeping.notifyMerchant({
      idempotencyKey: stepKey(state.workflowId, `${w.scenario}:${w.occurrence}:window-exhausted:${round}`),
      merchantId: state.requireOrder().merchantId,
      subject: `${w.activity} for instance ${state.instanceId ?? ''} stopped: fix your interface and ask for a restart`,
      body: `${reason}. Automatic retries have stopped; the call is retried when an operator restarts it.`,
    });
    await state.waitForRestart(reason);
    window = { ...w, startedAtMs: Date.now(), occurrence: `${w.occurrence}:restart-${round}` };
  }
}
