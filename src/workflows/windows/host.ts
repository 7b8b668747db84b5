/**
 * What a workflow lends the failure-window runner: where attempts are recorded, how the
 * merchant is told, how progress shows (step and search status), and the restart button.
 * Small on purpose, so that any workflow that calls a merchant (a subscription today;
 * tenant sync and exit notices later) can supply one.
 */
import type { AttemptContext } from '../../activities/subscription/records';
import type { MerchantCallOutcome } from '../../protocol/outcome';
import type { PolicyTable, Scenario } from './policy';

/** The step names the runner moves through; a workflow adds its own. */
export type WindowStep = 'calling-merchant' | 'backing-off' | 'waiting-for-merchant' | 'waiting-for-restart';

export interface WindowHost {
  readonly policy: PolicyTable;
  /** Numbers the next attempt and names it (its attempt id keys the timeline row). */
  nextAttempt(attempt: { scenario: Scenario; businessId?: string }): AttemptContext;
  /** Writes one attempt to the timeline (call_attempts), when the call could not. */
  recordAttempt(attempt: AttemptContext, outcome: MerchantCallOutcome): Promise<void>;
  /** Tells the merchant, once per key (the host makes the key unique to its workflow). */
  notifyMerchant(notice: { key: string; subject: string; body: string }): Promise<void>;
  setStep(name: WindowStep, reason?: string): void;
  /** Marks the workflow in the Web UI's FulfillmentStatus while its merchant is failing. */
  setSearchStatus(status: 'retrying' | 'waiting-for-restart'): void;
  /** Puts the search status back to the workflow's own status, if it is not there already. */
  restoreSearchStatus(): void;
  /** Waits up to `ms`, less if an operator restarts (also one pressed while a call was in flight); answers whether a restart cut it short. */
  waitOrRestart(ms: number): Promise<boolean>;
  /** Waits for as long as it takes an operator to press restart. */
  waitForRestart(reason: string): Promise<void>;
  /** A restart pressed while nothing was failing must not cut a later, unrelated backoff short. */
  discardStaleRestart(): void;
}
