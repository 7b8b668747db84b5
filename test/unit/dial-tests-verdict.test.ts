/** The dial tests' judgement of days (pure): the failed streak in Beijing days, and when the sanction is imposed or lifted. */
import { beijingDay, failedStreak, sanctionMove } from '../../src/activities/governance/dial-tests-verdict';

const failedDay = (day: string, runs = 2) => ({ day, runs, passedRuns: 0 });
const passedDay = (day: string) => ({ day, runs: 2, passedRuns: 1 });

describe('failedStreak', () => {
  it('when the last five days failed, then the streak is 5 and starts on the first of them', () => {
    const days = ['2026-12-05', '2026-12-04', '2026-12-03', '2026-12-02', '2026-12-01'].map((d) => failedDay(d));
    expect(failedStreak([...days, passedDay('2026-11-30')], '2026-12-05')).toEqual({ days: 5, since: '2026-12-01' });
  });

  it('when a day had one passing run among failing ones, then that day does not count and ends the streak', () => {
    const days = [failedDay('2026-12-05'), passedDay('2026-12-04'), failedDay('2026-12-03')];
    expect(failedStreak(days, '2026-12-05')).toEqual({ days: 1, since: '2026-12-05' });
  });

  it('when a day had no run, then the streak stops there (no evidence either way)', () => {
    const days = [failedDay('2026-12-05'), failedDay('2026-12-04'), failedDay('2026-12-02'), failedDay('2026-12-01')];
    expect(failedStreak(days, '2026-12-05').days).toBe(2);
  });

  it('when today passed, then there is no streak; days after today are ignored', () => {
    expect(failedStreak([failedDay('2026-12-06'), passedDay('2026-12-05'), failedDay('2026-12-04')], '2026-12-05')).toEqual({ days: 0, since: null });
  });

  it('streaks cross month ends by calendar day', () => {
    expect(failedStreak([failedDay('2026-03-01'), failedDay('2026-02-28'), failedDay('2026-02-27')], '2026-03-01').days).toBe(3);
  });
});

describe('beijingDay', () => {
  it('is the calendar day at UTC+8: 16:00 UTC is already the next day', () => {
    expect(beijingDay(Date.parse('2026-12-01T15:59:59.999Z'))).toBe('2026-12-01');
    expect(beijingDay(Date.parse('2026-12-01T16:00:00.000Z'))).toBe('2026-12-02');
  });
});

describe('sanctionMove', () => {
  const streak = (days: number) => ({ days, since: days ? '2026-12-01' : null });
  it('imposes at the limit of failed days, not before, and only when no sanction is open', () => {
    expect(sanctionMove({ passed: false, streak: streak(4), failedDaysToFreeze: 5, sanctionOpen: false })).toBe('none');
    expect(sanctionMove({ passed: false, streak: streak(5), failedDaysToFreeze: 5, sanctionOpen: false })).toBe('impose');
    expect(sanctionMove({ passed: false, streak: streak(6), failedDaysToFreeze: 5, sanctionOpen: true })).toBe('none');
  });

  it('a passing run lifts an open sanction, and does nothing otherwise', () => {
    expect(sanctionMove({ passed: true, streak: streak(0), failedDaysToFreeze: 5, sanctionOpen: true })).toBe('lift');
    expect(sanctionMove({ passed: true, streak: streak(0), failedDaysToFreeze: 5, sanctionOpen: false })).toBe('none');
  });
});
