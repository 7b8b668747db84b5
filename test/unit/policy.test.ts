/**
 * The failure-window table (spec §4) and its backoff arithmetic.
 */
import { backoffDelayMs, mergePolicy, PRODUCTION_POLICY, SCENARIOS, type RetryWindowPolicy } from '../../src/workflows/windows/policy';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Start times of the attempts that fit into the window when every attempt fails instantly
 * and the next one starts after backoffDelayMs(failures so far).
 */
function attemptStarts(policy: RetryWindowPolicy): number[] {
  const starts: number[] = [];
  let at = 0;
  let failures = 0;
  while (at < policy.windowMs) {
    starts.push(at);
    failures += 1;
    at += backoffDelayMs(policy, failures);
  }
  return starts;
}

describe('PRODUCTION_POLICY windows (spec §4)', () => {
  test('the scenarios are create, upgrade, renewal, status and release', () => {
    expect([...SCENARIOS]).toEqual(['create', 'upgrade', 'renewal', 'status', 'release']);
    expect(Object.keys(PRODUCTION_POLICY).sort()).toEqual([...SCENARIOS].sort());
  });

  test('create and upgrade have exactly 3 hours', () => {
    expect(PRODUCTION_POLICY.create.windowMs).toBe(3 * HOUR);
    expect(PRODUCTION_POLICY.upgrade.windowMs).toBe(3 * HOUR);
    expect(PRODUCTION_POLICY.create.windowMs).toBe(10_800_000);
  });

  test.each(['renewal', 'status', 'release'] as const)('%s has exactly 1 hour', (scenario) => {
    expect(PRODUCTION_POLICY[scenario].windowMs).toBe(HOUR);
    expect(PRODUCTION_POLICY[scenario].windowMs).toBe(3_600_000);
  });

  test('create and upgrade end in unsubscribe-and-refund when the window runs out', () => {
    expect(PRODUCTION_POLICY.create.onWindowExhausted).toBe('unsubscribe-and-refund');
    expect(PRODUCTION_POLICY.upgrade.onWindowExhausted).toBe('unsubscribe-and-refund');
  });

  test('renewal, status and release stop and wait for a manual restart', () => {
    expect(PRODUCTION_POLICY.renewal.onWindowExhausted).toBe('wait-for-restart');
    expect(PRODUCTION_POLICY.status.onWindowExhausted).toBe('wait-for-restart');
    expect(PRODUCTION_POLICY.release.onWindowExhausted).toBe('wait-for-restart');
  });

  test('create starts at 10 s, doubles and caps at 10 min; the 1-hour scenarios cap at 5 min', () => {
    expect(PRODUCTION_POLICY.create).toMatchObject({ initialIntervalMs: 10 * SECOND, backoffCoefficient: 2, maximumIntervalMs: 10 * MINUTE });
    expect(PRODUCTION_POLICY.upgrade).toMatchObject({ initialIntervalMs: 10 * SECOND, backoffCoefficient: 2, maximumIntervalMs: 10 * MINUTE });
    for (const scenario of ['renewal', 'status', 'release'] as const) {
      expect(PRODUCTION_POLICY[scenario]).toMatchObject({ initialIntervalMs: 10 * SECOND, backoffCoefficient: 2, maximumIntervalMs: 5 * MINUTE });
    }
  });

  test('only create polls queryInstance, every 30 s', () => {
    expect(PRODUCTION_POLICY.create.pollIntervalMs).toBe(30 * SECOND);
    for (const scenario of SCENARIOS.filter((s) => s !== 'create')) expect(PRODUCTION_POLICY[scenario]).not.toHaveProperty('pollIntervalMs');
  });

  test('every backoff cap is shorter than its window, so more than one attempt always fits', () => {
    for (const scenario of SCENARIOS) {
      const policy = PRODUCTION_POLICY[scenario];
      expect(policy.maximumIntervalMs).toBeLessThan(policy.windowMs);
      expect(policy.initialIntervalMs).toBeLessThanOrEqual(policy.maximumIntervalMs);
    }
  });
});

describe('backoffDelayMs', () => {
  const create = PRODUCTION_POLICY.create;

  test('create: 10 s, 20 s, 40 s, 80 s, 160 s, 320 s, then capped at 10 min', () => {
    const delays = Array.from({ length: 10 }, (_, i) => backoffDelayMs(create, i + 1));
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000, 600_000, 600_000]);
  });

  test('the cap holds for very large failure counts (no Infinity, no NaN)', () => {
    expect(backoffDelayMs(create, 1_000)).toBe(600_000);
    expect(backoffDelayMs(create, 10_000)).toBe(600_000);
  });

  test('zero or negative failure counts give the initial interval', () => {
    expect(backoffDelayMs(create, 0)).toBe(10_000);
    expect(backoffDelayMs(create, -3)).toBe(10_000);
  });

  test('renewal caps at 5 min after 10, 20, 40, 80, 160 s', () => {
    const delays = Array.from({ length: 7 }, (_, i) => backoffDelayMs(PRODUCTION_POLICY.renewal, i + 1));
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });

  test('a fractional coefficient is rounded to whole milliseconds', () => {
    const policy: RetryWindowPolicy = { ...create, initialIntervalMs: 1_000, backoffCoefficient: 1.5 };
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(policy, n))).toEqual([1_000, 1_500, 2_250, 3_375]);
    expect(backoffDelayMs({ ...policy, initialIntervalMs: 1_001 }, 2)).toBe(1_502); // 1501.5 → 1502
  });

  test('a coefficient of 1 gives a constant interval', () => {
    const policy: RetryWindowPolicy = { ...create, backoffCoefficient: 1 };
    expect([1, 5, 50].map((n) => backoffDelayMs(policy, n))).toEqual([10_000, 10_000, 10_000]);
  });

  test('an initial interval above the cap is capped from the first failure', () => {
    expect(backoffDelayMs({ ...create, initialIntervalMs: 20 * MINUTE }, 1)).toBe(10 * MINUTE);
  });
});

describe('attempts that fit into a window', () => {
  test('create: 23 attempts start inside the 3-hour window (workflow test expects 20–26)', () => {
    const starts = attemptStarts(PRODUCTION_POLICY.create);
    // 0, 10, 30, 70, 150, 310, 630 s, then every 600 s: 630 + 16 × 600 = 10 230 s < 10 800 s.
    expect(starts.slice(0, 7)).toEqual([0, 10_000, 30_000, 70_000, 150_000, 310_000, 630_000]);
    expect(starts).toHaveLength(23);
    expect(starts[22]).toBe(10_230_000);
    // The 24th would start at 10 830 s, 30 s after the window closed.
    expect(starts[22]! + backoffDelayMs(PRODUCTION_POLICY.create, 23)).toBe(10_830_000);
    expect(starts.length).toBeGreaterThanOrEqual(20);
    expect(starts.length).toBeLessThanOrEqual(26);
  });

  test('upgrade fits the same 23 attempts as create', () => {
    expect(attemptStarts(PRODUCTION_POLICY.upgrade)).toHaveLength(23);
  });

  test('renewal: 0, 10, 30, 70, 150, 310 s, then every 300 s → 16 attempts inside 1 hour', () => {
    const starts = attemptStarts(PRODUCTION_POLICY.renewal);
    expect(starts.slice(0, 6)).toEqual([0, 10_000, 30_000, 70_000, 150_000, 310_000]);
    // 310 + 11 × 300 = 3 610 s ≥ 3 600 s, so the last is 310 + 10 × 300 = 3 310 s.
    expect(starts).toHaveLength(16);
    expect(starts[15]).toBe(3_310_000);
  });
});

describe('mergePolicy', () => {
  test('overrides one field of one scenario and leaves everything else', () => {
    const merged = mergePolicy(PRODUCTION_POLICY, { create: { initialIntervalMs: 5_000 } });
    expect(merged.create).toEqual({ ...PRODUCTION_POLICY.create, initialIntervalMs: 5_000 });
    for (const scenario of ['upgrade', 'renewal', 'status', 'release'] as const) {
      expect(merged[scenario]).toEqual(PRODUCTION_POLICY[scenario]);
    }
  });

  test('does not mutate the base table', () => {
    const before = JSON.parse(JSON.stringify(PRODUCTION_POLICY)) as unknown;
    const merged = mergePolicy(PRODUCTION_POLICY, { release: { windowMs: 1 }, status: { backoffCoefficient: 3 } });
    expect(JSON.parse(JSON.stringify(PRODUCTION_POLICY))).toEqual(before);
    expect(merged.release.windowMs).toBe(1);
    expect(merged.status.backoffCoefficient).toBe(3);
    expect(merged.release).not.toBe(PRODUCTION_POLICY.release);
  });

  test('overrides of several scenarios and fields apply together', () => {
    const merged = mergePolicy(PRODUCTION_POLICY, {
      create: { windowMs: HOUR, maximumIntervalMs: MINUTE },
      renewal: { initialIntervalMs: 1_000 },
    });
    expect(merged.create).toEqual({ ...PRODUCTION_POLICY.create, windowMs: HOUR, maximumIntervalMs: MINUTE });
    expect(merged.renewal).toEqual({ ...PRODUCTION_POLICY.renewal, initialIntervalMs: 1_000 });
    expect(merged.upgrade).toEqual(PRODUCTION_POLICY.upgrade);
  });

  test('an empty override gives an equal table', () => {
    expect(mergePolicy(PRODUCTION_POLICY, {})).toEqual(PRODUCTION_POLICY);
  });

  test('a merged create policy changes the backoff sequence', () => {
    const merged = mergePolicy(PRODUCTION_POLICY, { create: { initialIntervalMs: 5_000 } });
    expect([1, 2, 3].map((n) => backoffDelayMs(merged.create, n))).toEqual([5_000, 10_000, 20_000]);
  });
});
