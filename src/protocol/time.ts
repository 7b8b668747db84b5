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

function parse(value: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{3})?$/.exec(value);
  if (!match) return undefined;
  const [y, mo, d, h, mi, s, ms] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number, number];
  const epoch = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const date = new Date(epoch);
  // Date.UTC rolls impossible values over (month 13 becomes January): refuse them instead.
  const exact =
    date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && date.getUTCHours() === h && date.getUTCMinutes() === mi && date.getUTCSeconds() === s;
  return exact ? epoch : undefined;
}

/** Whether a string is a real `yyyyMMddHHmmss[SSS]` instant. */
export function isValidKooTime(value: string): boolean {
  return parse(value) !== undefined;
}

/** Parses `yyyyMMddHHmmss` or `yyyyMMddHHmmssSSS` (UTC) into epoch milliseconds. */
export function fromKooTime(value: string): number {
  const epoch = parse(value);
  if (epoch === undefined) throw new RangeError(`not a KooGallery time: ${value}`);
  return epoch;
}
