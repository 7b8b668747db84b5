/**
 * The failure-window runner (spec §4, design "Failure windows"): one implementation for
 * every merchant operation that has a window. Attempts follow the scenario's backoff
 * schedule until one succeeds or the window closes; every attempt is recorded; the merchant
 * is told on the first failure; a restart signal cuts the current backoff short. When the
 * window runs out, the policy table says what happens (`onWindowExhausted`):
 *
 * - `wait-for-restart` (renewal, status, release): the merchant is told, the workflow waits
 *   without limit for an operator's restart, and each restart opens a new window;
 * - `unsubscribe-and-refund` (create, upgrade): the failure goes back to the caller, whose
 *   order is refunded.
 *
 * The runner knows nothing of subscriptions: a workflow lends it a `WindowHost`.
 */
import { ActivityFailure, ApplicationFailure, patched, TimeoutFailure } from '@temporalio/workflow';
import type { AttemptContext } from '../../activities/subscription/records';
import { ErrorType } from '../../shared/errors';
import type { MerchantCallOutcome } from '../../protocol/outcome';
import type { WindowHost } from './host';
import { backoffDelayMs, type RetryWindowPolicy, type Scenario } from './policy';

/** One merchant operation inside its window. */
export interface WindowCall<T> {
  scenario: Scenario;
  /** The protocol operation, for steps, the timeline and notices (refreshInstance, …). */
  operation: string;
  /** When the window opens; see `windowOpensAt`. */
  opensAtMs: number;
  /** Names this occurrence in idempotency keys (the event id, or the timer and its time). */
  occurrence: string;
  /** What the merchant's notices call the work ("Provisioning of order X", "refreshInstance for instance Y"). */
  subject: string;
  /**
   * One attempt. Most operations are one recorded call (`singleCall`); an attempt may also
   * poll (create after `000004`) within `window.deadlineMs`.
   */
  attempt: (window: OpenWindow) => Promise<AttemptResult<T>>;
}

/** What an attempt can use while the window is open. */
export interface OpenWindow {
  readonly deadlineMs: number;
  /** Runs one merchant call as one recorded attempt; `run` hands `attempt` to the activity, which records it. */
  call(operation: string, run: MerchantCall, businessId?: string): Promise<MerchantCallOutcome>;
  /** Waits up to `ms` (a poll interval), less if an operator restarts; answers whether a restart cut it short. */
  waitOrRestart(ms: number): Promise<boolean>;
}

/**
 * `done`: the work is finished. `failed`: this attempt failed, try again after a backoff.
 * `window-ended`: the window closed while the attempt was still waiting on the merchant.
 */
export type AttemptResult<T> = { kind: 'done'; value: T } | { kind: 'failed'; outcome: MerchantCallOutcome } | { kind: 'window-ended'; outcome: MerchantCallOutcome };

/** One merchant call; the activity records `attempt` on the timeline itself when it is given. */
export type MerchantCall = (attempt: AttemptContext | undefined) => Promise<MerchantCallOutcome>;

export type WindowResult<T> = { ok: true; value: T } | { ok: false; outcome: MerchantCallOutcome };

export function describeOutcome(outcome: MerchantCallOutcome): string {
  return [outcome.resultCode, outcome.error ?? outcome.resultMsg].filter(Boolean).join(' ') || 'no answer';
}

const minutes = (ms: number): number => Math.round(ms / 60_000);

/** Change id: a merchant call records its own attempt, in its own activity (one round trip, not two). */
export const ATTEMPTS_RECORDED_BY_THE_CALL = 'attempts-recorded-by-the-call';

/** Change id (workflow versioning): windows open when the workflow takes the event up. */
export const WINDOW_OPENS_WHEN_TAKEN_UP = 'window-opens-when-taken-up';

/**
 * When the window of an event opens: its acceptance, or the time its timer was due. An
 * event that had to wait behind another scenario (one held for an operator's restart, say)
 * gets its window from the moment it is taken up instead: the merchant is given the whole
 * window for failures of its own, never less because of ours. (The create window is always
 * measured from payment, spec §4, so create does not call this.)
 */
export function windowOpensAt(startedAtMs: number): number {
  // Runs recorded before this change opened every window at `startedAtMs` and replay that way.
  return patched(WINDOW_OPENS_WHEN_TAKEN_UP) ? Math.max(startedAtMs, Date.now()) : startedAtMs;
}

/** An attempt that is one recorded call: success is done, anything else a failure. */
export function singleCall(run: MerchantCall): WindowCall<MerchantCallOutcome>['attempt'] {
  return async (window) => {
    const outcome = await window.call('', run);
    return outcome.kind === 'success' ? { kind: 'done', value: outcome } : { kind: 'failed', outcome };
  };
}

/**
 * Runs the operation to the end the policy prescribes: success, or (for scenarios whose
 * window ends in a refund) the last failure, for the caller to refund.
 */
export async function runInWindow<T>(host: WindowHost, w: WindowCall<T>): Promise<WindowResult<T>> {
  const policy = host.policy[w.scenario];
  let window = w;
  for (let round = 1; ; round += 1) {
    const result = await runOneWindow(host, window);
    if (result.ok || policy.onWindowExhausted === 'unsubscribe-and-refund') return result;
    const reason = `${w.operation} failed for ${minutes(policy.windowMs)} minutes: ${describeOutcome(result.outcome)}`;
    await host.notifyMerchant({
      key: `${w.scenario}:${w.occurrence}:window-exhausted:${round}`,
      subject: `${w.subject} stopped: fix your interface and ask for a restart`,
      body: `${reason}. Automatic retries have stopped; the call is retried when an operator restarts it.`,
    });
    await host.waitForRestart(reason);
    window = { ...w, opensAtMs: Date.now(), occurrence: `${w.occurrence}:restart-${round}` };
  }
}

/**
 * One window and no more, whatever the policy says; at least one attempt is always made,
 * even when the window has passed already (a refund is never requested without asking the
 * merchant). Used directly only where the caller has its own ending.
 */
export async function runOneWindow<T>(host: WindowHost, w: WindowCall<T>): Promise<WindowResult<T>> {
  const policy = host.policy[w.scenario];
  const deadlineMs = w.opensAtMs + policy.windowMs;
  host.discardStaleRestart();
  let failures = 0;
  const window: OpenWindow = {
    deadlineMs,
    call: (operation, run, businessId) => recordedCall(host, w.scenario, operation || w.operation, run, businessId),
    waitOrRestart: (ms) => host.waitOrRestart(ms),
  };
  for (;;) {
    host.setStep('calling-merchant', `${w.operation} attempt ${failures + 1}`);
    const result = await w.attempt(window);
    if (result.kind === 'done') {
      if (failures > 0) host.restoreSearchStatus();
      return { ok: true, value: result.value };
    }
    if (result.kind === 'window-ended') return { ok: false, outcome: result.outcome };
    failures += 1;
    host.setSearchStatus('retrying');
    if (failures === 1) await host.notifyMerchant(firstFailureNotice(w, policy, result.outcome));
    const remaining = deadlineMs - Date.now();
    if (remaining <= 0) return { ok: false, outcome: result.outcome };
    const delay = Math.min(backoffDelayMs(policy, failures), remaining);
    host.setStep('backing-off', `${w.operation} failed: ${describeOutcome(result.outcome)}; next attempt in ${Math.round(delay / 1000)} s`);
    const restarted = await host.waitOrRestart(delay);
    // No attempt starts after the window closed, unless an operator asked for one.
    if (!restarted && Date.now() >= deadlineMs) return { ok: false, outcome: result.outcome };
  }
}

function firstFailureNotice(w: WindowCall<unknown>, policy: RetryWindowPolicy, outcome: MerchantCallOutcome): { key: string; subject: string; body: string } {
  const ending =
    policy.onWindowExhausted === 'unsubscribe-and-refund'
      ? 'after that the order is refunded automatically.'
      : 'after that, retries stop until an operator restarts them.';
  return {
    key: `${w.scenario}:${w.occurrence}:first-failure`,
    subject: `${w.subject} is failing`,
    body:
      `The ${outcome.activity} call failed: ${describeOutcome(outcome)}. ` +
      `We keep retrying for up to ${minutes(policy.windowMs)} minutes from ${new Date(w.opensAtMs).toISOString()}; ${ending}`,
  };
}

/**
 * What went wrong when an activity failed, or undefined for anything else. A regular
 * activity's failure comes wrapped in an ActivityFailure; a local activity's is its own
 * ApplicationFailure or TimeoutFailure.
 */
export function activityFailure(error: unknown): string | undefined {
  if (error instanceof ActivityFailure) return error.cause?.message ?? error.message;
  // InvalidInput is what workflow code itself throws (no order, no instance yet) while it
  // builds the call: that must fail the workflow as before, not count as a merchant attempt.
  if (error instanceof ApplicationFailure && error.type === ErrorType.InvalidInput) return undefined;
  if (error instanceof ApplicationFailure || error instanceof TimeoutFailure) return error.message;
  return undefined;
}

/**
 * One merchant call as one recorded attempt. The call records the attempt itself; the
 * workflow records it only when the call could not: the activity failed inside Temporal
 * (timeout, worker lost: a failed attempt, not an error) or its write did not land.
 */
export async function recordedCall(host: WindowHost, scenario: Scenario, operation: string, run: MerchantCall, businessId?: string): Promise<MerchantCallOutcome> {
  // Runs recorded before this change made a separate recordCallAttempt activity after every call.
  const selfRecording = patched(ATTEMPTS_RECORDED_BY_THE_CALL);
  const attempt = host.nextAttempt({ scenario, businessId });
  const startedAtMs = Date.now();
  let outcome: MerchantCallOutcome;
  try {
    outcome = await run(selfRecording ? attempt : undefined);
  } catch (error) {
    const failure = activityFailure(error);
    if (failure === undefined) throw error;
    outcome = { kind: 'failure', activity: operation, startedAtMs, latencyMs: Date.now() - startedAtMs, error: failure };
  }
  if (!outcome.attemptRecorded) await host.recordAttempt(attempt, outcome);
  return outcome;
}
