/**
 * The subscription's own clock: trial reminders before a trial ends, the freeze at expiry,
 * and the release when the retention period ends (or when a trial ends unconverted).
 * `nextTimer` says what is due next; `fireTimer` does it. One-time and pay-per-use
 * subscriptions have no expiry, so no timer.
 */
import { stepKey } from '../../../shared/ids';
import { notices } from '../proxies';
import { notifyMerchant } from '../bookkeeping';
import { isLive, requireOrder, type Subscription } from '../context';
import { setStep } from '../status';
import { freeze } from './freeze-instance';
import { release } from './release-instance';

const DAY_MS = 86_400_000;

export type LifecycleTimer =
  | { kind: 'trial-reminder'; atMs: number; leadMs: number }
  | { kind: 'expiry'; atMs: number }
  | { kind: 'retention-end'; atMs: number };

export function nextTimer(sub: Subscription): LifecycleTimer | undefined {
  const { state } = sub;
  if (!isLive(sub) || state.expireAtMs === undefined) return undefined;
  if (state.frozenBy.includes('expiry')) {
    return { kind: 'retention-end', atMs: (state.frozenSinceMs ?? state.expireAtMs) + requireOrder(sub).retentionDays * DAY_MS };
  }
  const candidates: LifecycleTimer[] = [{ kind: 'expiry', atMs: state.expireAtMs }];
  if (state.trial) {
    for (const leadMs of sub.lifecycle.trialReminderLeadsMs) {
      if (!state.remindersSent.includes(leadMs)) candidates.push({ kind: 'trial-reminder', atMs: state.expireAtMs - leadMs, leadMs });
    }
  }
  return candidates.reduce((earliest, timer) => (timer.atMs < earliest.atMs ? timer : earliest));
}

export async function fireTimer(sub: Subscription, timer: LifecycleTimer): Promise<void> {
  const { state } = sub;
  const occurrence = `${timer.kind}:${timer.atMs}`;
  switch (timer.kind) {
    case 'trial-reminder': {
      // When a shorter lead is due as well (a short trial), only the latest reminder is sent.
      const laterDue = sub.lifecycle.trialReminderLeadsMs.some(
        (lead) => lead < timer.leadMs && !state.remindersSent.includes(lead) && (state.expireAtMs ?? 0) - lead <= Date.now(),
      );
      if (!laterDue) await remindTrialEnding(sub, timer.leadMs);
      state.remindersSent.push(timer.leadMs);
      return;
    }
    case 'expiry':
      if (state.trial) {
        // A trial that was not converted ends: there is nothing to keep (spec §9.6).
        await release(sub, { kind: 'trial-ended' }, timer.atMs, occurrence);
        return;
      }
      await freeze(sub, 'expiry', timer.atMs, occurrence);
      setStep(sub, 'retention', `expired ${new Date(timer.atMs).toISOString()}; released after ${requireOrder(sub).retentionDays} days unless renewed`);
      return;
    case 'retention-end':
      await release(sub, { kind: 'retention-ended' }, timer.atMs, occurrence);
      return;
  }
}

/** Reminds the buyer and the merchant that the trial ends soon (in-site message, and e-mail where possible). */
async function remindTrialEnding(sub: Subscription, leadMs: number): Promise<void> {
  const order = requireOrder(sub);
  const endsAt = new Date(sub.state.expireAtMs ?? Date.now()).toISOString();
  const occurrence = `trial-reminder:${sub.state.expireAtMs}:${leadMs}`;
  await notices.notifyCustomer({
    idempotencyKey: stepKey(sub.workflowId, `${occurrence}:customer`),
    customerId: order.customer.customerId,
    email: order.customer.email,
    subject: 'Your trial ends soon',
    body: `Your trial of ${order.productId} (order ${order.orderId}) ends at ${endsAt}. Buy the product to keep your instance and data.`,
  });
  await notifyMerchant(
    sub,
    `${occurrence}:merchant`,
    `Trial of order ${order.orderId} ends soon`,
    `The trial instance ${sub.state.instanceId} of order ${order.orderId} ends at ${endsAt}; it is released then unless converted.`,
  );
}
