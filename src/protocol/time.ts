/**
 * KooGallery time strings: `yyyyMMddHHmmss`, sometimes with milliseconds appended (§2.3).
 * We read and write them as UTC, the zone the open APIs document (§8.2).
 */

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/** Formats an instant as `yyyyMMddHHmmss` (UTC). */
export function toKooTime(instant: Date | string | number): string {
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not a valid instant: ${String(instant)}`);
  return (
    pad(date.getUTCFullYear(), 4) +
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds())
  );
}

/** Parses `yyyyMMddHHmmss` or `yyyyMMddHHmmssSSS` (UTC) into epoch milliseconds. */
export function fromKooTime(value: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})?$/.exec(value);
  if (!match) throw new RangeError(`not a KooGallery time: ${value}`);
  const [, y, mo, d, h, mi, s, ms] = match;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms ?? 0));
}
