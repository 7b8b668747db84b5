/**
 * The operator's restart button: a restart cuts the current backoff short, or ends a wait
 * that only a restart can end (a window that ran out, a callback the order system refused).
 */
import { condition, log } from '@temporalio/workflow';
import type { Subscription } from './context';
import type { RestartRequest } from './messages';
import { restoreSearchStatus, setSearchStatus, setStep } from './status';

export function requestRestart(sub: Subscription, request: RestartRequest): void {
  log.info('restart requested', { workflowId: sub.workflowId, requestedBy: request.requestedBy });
  sub.run.restartPending = true;
}

/** Waits up to `ms`, or less if a restart arrives (also one that arrived while a call was in flight). Answers whether a restart cut it short. */
export async function waitOrRestart(sub: Subscription, ms: number): Promise<boolean> {
  if (ms <= 0) return consumeRestart(sub);
  const restarted = await condition(() => sub.run.restartPending, ms);
  sub.run.restartPending = false;
  return restarted;
}

/** Waits for as long as it takes an operator to press restart. */
export async function waitForRestart(sub: Subscription, reason: string): Promise<void> {
  setStep(sub, 'waiting-for-restart', reason);
  setSearchStatus(sub, 'waiting-for-restart');
  await condition(() => sub.run.restartPending);
  sub.run.restartPending = false;
  restoreSearchStatus(sub);
}

/** A restart pressed while nothing was failing must not cut a later, unrelated backoff short. */
export function discardStaleRestart(sub: Subscription): void {
  sub.run.restartPending = false;
}

function consumeRestart(sub: Subscription): boolean {
  const pending = sub.run.restartPending;
  sub.run.restartPending = false;
  return pending;
}
