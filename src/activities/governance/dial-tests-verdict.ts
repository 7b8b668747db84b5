/**
 * What a product's dial-test days add up to (pure): the run of consecutive failed days that
 * ends today, and whether the dial tests impose or lift their sanction (spec §4).
 *
 * A day fails when it had runs and none of them passed (every case of a run must pass); a day
 * without runs (the schedule was off, the product was not on sale) breaks a run of failed
 * days, because it is no evidence either way.
 */
import type { DialTestDay } from '../../db/repositories/governance/dial-tests';

const DAY_MS = 24 * 60 * 60 * 1000;
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

/** The calendar day in Beijing time (UTC+8, no daylight saving) of an instant, YYYY-MM-DD. */
export function beijingDay(ms: number): string {
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

const dayBefore = (day: string): string => new Date(Date.parse(`${day}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10);

export interface FailedStreak {
  /** Consecutive failed days ending with `today`; 0 when today has passed (or had no run). */
  days: number;
  /** The first day of that streak, when there is one. */
  since: string | null;
}

/** `days` newest first, as dialTestDays answers them; `today` is the day of the run being judged. */
export function failedStreak(days: readonly DialTestDay[], today: string): FailedStreak {
  let expected = today;
  let count = 0;
  let since: string | null = null;
  for (const d of days) {
    if (d.day > expected) continue;
    if (d.day !== expected || d.runs === 0 || d.passedRuns > 0) break;
    count += 1;
    since = d.day;
    expected = dayBefore(d.day);
  }
  return { days: count, since };
}

export type SanctionMove = 'impose' | 'lift' | 'none';

/**
 * A passing run lifts an open sanction. A failing one imposes a sanction when the failed days
 * reach the limit and none is open: once per streak, so an operator who lifts the freeze by
 * hand is not overruled by the next failing run (the sanction stays open until a pass).
 */
export function sanctionMove(run: { passed: boolean; streak: FailedStreak; failedDaysToFreeze: number; sanctionOpen: boolean }): SanctionMove {
  if (run.passed) return run.sanctionOpen ? 'lift' : 'none';
  return run.streak.days >= run.failedDaysToFreeze && !run.sanctionOpen ? 'impose' : 'none';
}
