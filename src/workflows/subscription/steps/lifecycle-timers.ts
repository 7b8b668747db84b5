/**
 * The subscription's own clock: trial reminders before a trial ends, the freeze at expiry,
 * and the release when the retention period ends (or when a trial ends unconverted).
 * `nextTimer` says what is due next; `fireTimer` does it. One-time and pay-per-use
 * subscriptions have no expiry, so no timer.
 */
import { stepKey } from '../../../shared/ids';
import type { SubscriptionState } from '../state';
import { freeze } from './freeze-instance';
import { release } from './release-instance';

const DAY_MS = 86_400_000;

export type LifecycleTimer =
  | { kind: 'trial-reminder'; atMs: number; leadMs: number }
  | { kind: 'expiry'; atMs: number }
  | { kind: 'retention-end'; atMs: number };

export function nextTimer(state: SubscriptionState): LifecycleTimer | undefined {
  if (!state.instanceId || state.status === 'released' || state.status === 'failed' || state.expireAtMs === undefined) return undefined;
  const order = state.requireOrder();
  if (state.frozenBy.includes('expiry')) {
    return { kind: 'retention-end', atMs: (state.frozenSinceMs ?? state.expireAtMs) + order.retentionDays * DAY_MS };
  }
  const candidates: LifecycleTimer[] = [{ kind: 'expiry', atMs: state.expireAtMs }];
  if (state.trial) {
    for (const leadMs of state.lifecycle.trialReminderLeadsMs) {
      if (!state.remindersSent.includes(leadMs)) candidates.push({ kind: 'trial-reminder', atMs: state.expireAtMs - leadMs, leadMs });
    }
  }
  return candidates.reduce((earliest, timer) => (timer.atMs < earliest.atMs ? timer : earliest));
}

export async function fireTimer(state: SubscriptionState, timer: LifecycleTimer): Promise<void> {
  const occurrence = `${timer.kind}:${timer.atMs}`;
  switch (timer.kind) {
    case 'trial-reminder': {
      // When a shorter lead is due as well (a short trial), only the latest reminder is sent.
      const laterDue = state.lifecycle.trialReminderLeadsMs.some(
        (lead) => lead < timer.leadMs && !state.remindersSent.includes(lead) && (state.expireAtMs ?? 0) - lead <= Date.now(),
      );
      if (laterDue) state.remindersSent.push(timer.leadMs);
      else await remindTrialEnding(state, timer.leadMs);
      return;
    }
    case 'expiry':
      if (state.trial) {
        // A trial that was not converted ends: there is nothing to keep (spec §9.6).
        await release(state, { kind: 'trial-ended' }, timer.atMs, occurrence);
        return;
      }
      await freeze(state, 'expiry', timer.atMs, occurrence);
      state.setStep('retention', `expired ${new Date(timer.atMs).toISOString()}; released after ${state.requireOrder().retentionDays} days unless renewed`);
      return;
    case 'retention-end':
      await release(state, { kind: 'retention-ended' }, timer.atMs, occurrence);
      return;
  }
}

/** Reminds the buyer and the merchant that the trial ends soon (in-site message, and e-mail where possible). */
async function remindTrialEnding(state: SubscriptionState, leadMs: number): Promise<void> {
  const order = state.requireOrder();
  const endsAt = new Date(state.expireAtMs ?? Date.now()).toISOString();
  const occurrence = `trial-reminder:${state.expireAtMs}:${leadMs}`;
  const { bookkeeping } = state.activities;
  await bookkeeping.notifyCustomer({
    idempotencyKey: stepKey(state.workflowId, `${occurrence}:customer`),
    customerId: order.customer.customerId,
    email: order.customer.email,
    subject: 'Your trial ends soon',
    body: `Your trial of ${order.productId} (order ${order.orderId}) ends at ${endsAt}. Buy the product to keep your instance and data.`,
  });
  await bookkeeping.notifyMerchant({
    idempotencyKey: stepKey(state.workflowId, `${occurrence}:merchant`),
    merchantId: order.merchantId,
    subject: `Trial of order ${order.orderId} ends soon`,
    body: `The trial instance ${state.instanceId} of order ${order.orderId} ends at ${endsAt}; it is released then unless converted.`,
  });
  state.remindersSent.push(leadMs);
}
