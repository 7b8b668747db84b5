/** The dial-test settings: defaults (09:00 and 15:00 Beijing time, 5 days), the hours read and ordered, bad values named. */
import { ConfigError, loadConfig } from '../../src/platform/config';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('dial-test settings', () => {
  it('defaults to a Schedule at 9 and 15 in Asia/Shanghai, freezing after 5 failed days', () => {
    expect(loadConfig({}).dialTests).toEqual({ schedule: true, hours: [9, 15], timeZone: 'Asia/Shanghai', failedDaysToFreeze: 5 });
  });

  it('reads the hours once each, in order, and the switch and limit', () => {
    const config = loadConfig({ DIAL_TEST_HOURS: '15,8,15', DIAL_TEST_SCHEDULE: 'false', DIAL_TEST_FAILED_DAYS: '3' });
    expect(config.dialTests).toMatchObject({ schedule: false, hours: [8, 15], failedDaysToFreeze: 3 });
  });

  it.each([
    [{ DIAL_TEST_HOURS: '9,24' }, 'DIAL_TEST_HOURS'],
    [{ DIAL_TEST_HOURS: 'morning' }, 'DIAL_TEST_HOURS'],
    [{ DIAL_TEST_FAILED_DAYS: '0' }, 'DIAL_TEST_FAILED_DAYS'],
    [{ DIAL_TEST_SCHEDULE: 'yes' }, 'DIAL_TEST_SCHEDULE'],
  ])('refuses %j naming %s', (env, key) => {
    expect(problems(env).some((p) => p.startsWith(key))).toBe(true);
  });
});
