/**
 * Validity start (spec §9.1), pure: with the merchant's actual activation time the period
 * starts then, otherwise at the customer's acceptance; it lasts the order's period. Example:
 * bought 1 Jan for a month, accepted 1 Feb → 1 Feb–1 Mar without the activation time,
 * 1 Jan–1 Feb with it (activated 1 Jan).
 */

export interface OrderPeriod {
  /** `month`, `year` (the spec's values), also `week`, `day` and `hour`; other values fall back to `paidAtMs`..`orderExpireAtMs`. */
  periodType?: string;
  periodNumber?: number;
  /** When the order was paid, and the expiry the order system sent with it: their distance is the fallback length. */
  paidAtMs: number;
  orderExpireAtMs?: number;
}

export interface Validity {
  startMs: number;
  endMs: number;
}

const HOUR_MS = 3_600_000;
const FIXED_UNITS_MS: Readonly<Record<string, number>> = { hour: HOUR_MS, day: 24 * HOUR_MS, week: 7 * 24 * HOUR_MS };

/** `months` calendar months after `ms` (UTC, time of day kept); a day past the target month's end becomes its last day (31 Jan + 1 month = 28 or 29 Feb). */
export function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return target.getTime();
}

/** The end of a period of the order's length starting at `startMs`; undefined when the order has no period (one-time orders). */
export function periodEnd(startMs: number, order: OrderPeriod): number | undefined {
  const unit = order.periodType?.toLowerCase();
  const n = order.periodNumber;
  if (unit && n && n > 0) {
    if (unit === 'month') return addMonths(startMs, n);
    if (unit === 'year') return addMonths(startMs, 12 * n);
    const fixed = FIXED_UNITS_MS[unit];
    if (fixed) return startMs + n * fixed;
  }
  if (order.orderExpireAtMs !== undefined && order.orderExpireAtMs > order.paidAtMs) return startMs + (order.orderExpireAtMs - order.paidAtMs);
  return undefined;
}

/** The validity that follows acceptance; undefined for orders without a period. */
export function validityAfterAcceptance(order: OrderPeriod, acceptedAtMs: number, actualActivationMs?: number): Validity | undefined {
  const startMs = actualActivationMs ?? acceptedAtMs;
  const endMs = periodEnd(startMs, order);
  return endMs === undefined ? undefined : { startMs, endMs };
}
