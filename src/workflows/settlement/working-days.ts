/**
 * Working days in Beijing time (UTC+8 all year): weekends and the configured holidays do
 * not count. Pure, so workflows and tests use the same arithmetic.
 */
const DAY_MS = 86_400_000;
const BEIJING_OFFSET_MS = 8 * 3_600_000;

/** The Beijing calendar date of an instant, `YYYY-MM-DD`. */
export function beijingDate(ms: number): string {
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

export function isWorkingDay(ms: number, holidays: readonly string[]): boolean {
  const weekday = new Date(ms + BEIJING_OFFSET_MS).getUTCDay();
  return weekday !== 0 && weekday !== 6 && !holidays.includes(beijingDate(ms));
}

/** The same time of day `days` working days after `startMs`. */
export function addWorkingDays(startMs: number, days: number, holidays: readonly string[]): number {
  let at = startMs;
  for (let counted = 0; counted < days; ) {
    at += DAY_MS;
    if (isWorkingDay(at, holidays)) counted += 1;
  }
  return at;
}

/** `startMs` itself on a working day; otherwise 01:00 Beijing time of the next working day. */
export function nextWorkingMoment(startMs: number, holidays: readonly string[]): number {
  if (isWorkingDay(startMs, holidays)) return startMs;
  let midnight = Date.parse(`${beijingDate(startMs)}T00:00:00+08:00`);
  do midnight += DAY_MS;
  while (!isWorkingDay(midnight, holidays));
  return midnight + 3_600_000;
}

/** The calendar month before the one `ms` falls in (Beijing time), `YYYYMM`. */
export function previousPeriod(ms: number): string {
  const d = new Date(ms + BEIJING_OFFSET_MS);
  const year = d.getUTCMonth() === 0 ? d.getUTCFullYear() - 1 : d.getUTCFullYear();
  const month = d.getUTCMonth() === 0 ? 12 : d.getUTCMonth();
  return `${year}${String(month).padStart(2, '0')}`;
}
