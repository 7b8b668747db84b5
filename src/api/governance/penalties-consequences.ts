/**
 * What a recorded violation does (pure): the product's new listing, and whether the merchant
 * is terminated. A penalty only ever adds to a sanction already running: it never relists a
 * product nor shortens a delisting.
 */
import type { ProductAction } from '../../db/repositories/governance/violations';
import type { ProductState } from '../../shared/listing-transitions';

const DAY_MS = 86_400_000;

/**
 * The listing a product moves to, or null when what runs already goes at least as far
 * (a permanent or open-ended delisting, or a delisting for a period ending later).
 * `product.state` is its state as read now; `now` is the database's clock.
 */
export function penaltyListing(
  action: ProductAction,
  periodDays: number | null,
  product: { state: ProductState; delistedUntil: string | null },
  now: string,
): { to: ProductState; until: string | null } | null {
  if (product.state === 'permanently_delisted') return null;
  if (action === 'delist_permanently') return { to: 'permanently_delisted', until: null };
  if (product.state === 'delisted') return null;
  if (action === 'delist') return { to: 'delisted', until: null };
  const until = new Date(Date.parse(now) + (periodDays ?? 0) * DAY_MS).toISOString();
  if (product.state === 'delisted_until' && product.delistedUntil !== null && Date.parse(product.delistedUntil) >= Date.parse(until)) return null;
  return { to: 'delisted_until', until };
}

/**
 * Why the entry terminates the merchant, if it does: the violation itself, or the points in
 * the window, this entry's included, reaching the threshold. An entry without points does not
 * terminate by the threshold, so it never repeats a termination the points already caused.
 */
export function terminationCause(
  violation: { terminates: boolean; points: number },
  pointsBefore: number,
  threshold: number,
): 'violation' | 'points_threshold' | null {
  if (violation.terminates) return 'violation';
  if (violation.points > 0 && pointsBefore + violation.points >= threshold) return 'points_threshold';
  return null;
}
