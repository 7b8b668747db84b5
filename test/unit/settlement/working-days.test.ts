/**
 * Working days in Beijing time, as the statement reminders and the bill run's start use them:
 * weekends and configured holidays skipped, the same time of day kept, the period named.
 */
import { addWorkingDays, isWorkingDay, nextWorkingMoment, previousPeriod } from '../../../src/workflows/settlement/working-days';

const at = (beijing: string): number => Date.parse(`${beijing}+08:00`);

describe('working days (Beijing time)', () => {
  test('when a step starts on a Thursday, then 2 working days skip the weekend and a holiday Monday', () => {
    // 2026-12-03 is a Thursday.
    expect(addWorkingDays(at('2026-12-03T10:00:00'), 2, [])).toBe(at('2026-12-07T10:00:00'));
    expect(addWorkingDays(at('2026-12-03T10:00:00'), 2, ['2026-12-07'])).toBe(at('2026-12-08T10:00:00'));
    expect(addWorkingDays(at('2026-12-03T10:00:00'), 1, [])).toBe(at('2026-12-04T10:00:00'));
  });

  test('when the instant is late in the UTC day, then the Beijing date decides whether it is a working day', () => {
    // Friday 2026-12-04 20:00 UTC is Saturday 04:00 in Beijing.
    expect(isWorkingDay(Date.parse('2026-12-04T20:00:00Z'), [])).toBe(false);
    expect(isWorkingDay(Date.parse('2026-12-04T15:00:00Z'), [])).toBe(true);
  });

  test('when the bill day falls on a weekend or holiday, then the run moves to 01:00 of the next working day', () => {
    // Saturday 2026-10-03, inside the National Day holidays.
    const holidays = ['2026-10-05', '2026-10-06', '2026-10-07'];
    expect(nextWorkingMoment(at('2026-10-03T01:00:00'), holidays)).toBe(at('2026-10-08T01:00:00'));
    expect(nextWorkingMoment(at('2026-12-03T01:00:00'), holidays)).toBe(at('2026-12-03T01:00:00'));
  });

  test('when the run starts in a month, then it settles the month before, in Beijing time', () => {
    expect(previousPeriod(at('2026-12-03T01:00:00'))).toBe('202611');
    expect(previousPeriod(at('2027-01-03T01:00:00'))).toBe('202612');
    // 2026-12-31 17:30 UTC is already 1 January in Beijing.
    expect(previousPeriod(Date.parse('2026-12-31T17:30:00Z'))).toBe('202612');
  });
});
