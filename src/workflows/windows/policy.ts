/**
 * The one table of failure windows and retry schedules (spec §4, design "Failure windows").
 * Sandbox-safe: workflows receive the table in their input and compute delays with these
 * pure functions; config may override any value from the environment.
 */

/** The scenarios that call a merchant inside a failure window. */
export const SCENARIOS = ['create', 'upgrade', 'renewal', 'status', 'release'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface RetryWindowPolicy {
  /** How long after the event was accepted attempts may still start. */
  windowMs: number;
  /** Delay after the first failed attempt. */
  initialIntervalMs: number;
  /** Growth of the delay after each further failure. */
  backoffCoefficient: number;
  /** Cap of the delay. */
  maximumIntervalMs: number;
  /**
   * What the spec prescribes when the window runs out (§4); the window runner acts on it.
   * It is the spec's rule, not a tunable: configuration cannot change it.
   */
  onWindowExhausted: 'unsubscribe-and-refund' | 'wait-for-restart';
}

/** Create alone polls: queryInstance while the merchant answers 000004. */
export interface CreateWindowPolicy extends RetryWindowPolicy {
  /** Interval between queryInstance polls while a merchant answers 000004. */
  pollIntervalMs: number;
}

export type PolicyTable = { create: CreateWindowPolicy } & Record<Exclude<Scenario, 'create'>, RetryWindowPolicy>;

/** What configuration may change: the timings, never the ending. */
export type PolicyOverrides = { create?: Partial<Omit<CreateWindowPolicy, 'onWindowExhausted'>> } & {
  [S in Exclude<Scenario, 'create'>]?: Partial<Omit<RetryWindowPolicy, 'onWindowExhausted'>>;
};

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Retries start after seconds and settle at minutes: an early success is worth more than
 * the few extra calls to a merchant that is down (the spec's own interval is hourly). */
const schedule = (maximumIntervalMs: number) => ({
  initialIntervalMs: 10_000,
  backoffCoefficient: 2,
  maximumIntervalMs,
});

/** Production values; the windows and their outcomes are the spec's (§4). */
export const PRODUCTION_POLICY: PolicyTable = {
  // Create: 3 h, then the order fails and is unsubscribed and refunded.
  create: { windowMs: 3 * HOUR, ...schedule(10 * MINUTE), pollIntervalMs: 30_000, onWindowExhausted: 'unsubscribe-and-refund' },
  // Upgrade: 3 h, then the upgrade order fails and is refunded; the old spec stays.
  upgrade: { windowMs: 3 * HOUR, ...schedule(10 * MINUTE), onWindowExhausted: 'unsubscribe-and-refund' },
  // Renewal (refreshInstance): 1 h, then stop and wait for a manual restart.
  renewal: { windowMs: HOUR, ...schedule(5 * MINUTE), onWindowExhausted: 'wait-for-restart' },
  // Freeze/unfreeze (updateInstanceStatus): 1 h, then manual restart.
  status: { windowMs: HOUR, ...schedule(5 * MINUTE), onWindowExhausted: 'wait-for-restart' },
  // Release: 1 h, then manual restart.
  release: { windowMs: HOUR, ...schedule(5 * MINUTE), onWindowExhausted: 'wait-for-restart' },
};

/** The wait before the next attempt after `failedAttempts` consecutive failures (1-based). */
export function backoffDelayMs(policy: RetryWindowPolicy, failedAttempts: number): number {
  const exponent = Math.max(0, failedAttempts - 1);
  const delay = policy.initialIntervalMs * Math.pow(policy.backoffCoefficient, exponent);
  return Math.min(policy.maximumIntervalMs, Math.round(delay));
}

/** Merges partial overrides into a table, scenario by scenario. */
export function mergePolicy(base: PolicyTable, overrides: PolicyOverrides): PolicyTable {
  return {
    create: { ...base.create, ...overrides.create },
    upgrade: { ...base.upgrade, ...overrides.upgrade },
    renewal: { ...base.renewal, ...overrides.renewal },
    status: { ...base.status, ...overrides.status },
    release: { ...base.release, ...overrides.release },
  };
}
