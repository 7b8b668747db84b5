/**
 * The refund of a live subscription when its merchant exits (pure): the unused part of its
 * paid period, paid × remaining / period, rounded down to the cent. Exact: decimal strings
 * and integer arithmetic, no floating point on money.
 */

/** Ten-thousandths of a unit of a decimal string with at most 4 places ("99.5" → 995000n). */
function toTenThousandths(amount: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,4}))?$/.exec(amount.trim());
  if (!match) throw new Error(`not a non-negative decimal with at most 4 places: ${amount}`);
  return BigInt(match[1]!) * 10000n + BigInt((match[2] ?? '').padEnd(4, '0'));
}

const centsToString = (cents: bigint): string => `${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`;

/**
 * The pro-rata refund at `nowMs` of `paid` for the period [startMs, endMs): the whole amount
 * before the period starts, nothing once it has ended or when there is no end (one-time,
 * pay-per-use and packages have no unused time to measure). "12.34" style, two places.
 */
export function proRataRefund(paid: string, startMs: number, endMs: number | undefined, nowMs: number): string {
  const paidUnits = toTenThousandths(paid);
  if (endMs === undefined || endMs <= startMs || nowMs >= endMs) return '0.00';
  const period = BigInt(Math.round(endMs - startMs));
  const remaining = BigInt(Math.round(endMs - Math.max(nowMs, startMs)));
  // Ten-thousandths → cents is a division by 100; one floor division keeps it exact.
  return centsToString((paidUnits * remaining) / (period * 100n));
}
