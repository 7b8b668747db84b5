/**
 * Fault injection for the reference merchant. A test (or the control API) adds rules; each
 * authenticated request takes the first rule that matches its activity, is still live and,
 * when the rule has a `probability`, wins its draw (a rule that loses its draw is passed over
 * for this request and not used up; the next matching rule is considered).
 *
 * Modes:
 * - `fail`: the merchant fails before doing anything and answers `resultCode` (default 000005).
 * - `code`: the merchant does the work, then answers `resultCode` (default 000005) instead of
 *   its real answer: the "work done, answer lost or wrong" case that idempotency exists for.
 * - `slow`: waits `delayMs`, then answers normally (use > 5 s to exceed the marketplace timeout).
 * - `malformed`: answers HTTP 200 with a body that is not JSON; nothing is done.
 * - `http-error`: answers `httpStatus` (default 503) with no protocol body; nothing is done.
 */
import { z } from 'zod';
import { KIT_OPERATIONS, type MerchantActivity } from '../protocol';

export const faultModes = ['fail', 'code', 'slow', 'malformed', 'http-error'] as const;
export type FaultMode = (typeof faultModes)[number];

const merchantActivities = [
  'newInstance',
  'queryInstance',
  'refreshInstance',
  'updateInstanceStatus',
  'releaseInstance',
  'upgradeInstance',
  'changeInstanceCheck',
] as const satisfies readonly MerchantActivity[];

/** Rules may also name a Kit operation (tenantSync, applicationSync, authSync, allOrgSync, orgSync). */
const faultTargets = [...merchantActivities, ...KIT_OPERATIONS] as [string, ...string[]];

/** A fault rule as accepted by `POST /_control/faults`. */
export const faultRuleSchema = z
  .object({
    activity: z.enum(faultTargets).optional(),
    mode: z.enum(faultModes),
    resultCode: z
      .string()
      .regex(/^\d{6}$/, 'resultCode must be 6 digits')
      .optional(),
    times: z.number().int().positive().optional(),
    untilMs: z.number().int().nonnegative().optional(),
    delayMs: z.number().int().nonnegative().max(600_000).optional(),
    httpStatus: z.number().int().min(100).max(599).optional(),
    probability: z.number().gt(0, 'probability must be above 0').max(1, 'probability must be at most 1').optional(),
  })
  .strict();

/**
 * `activity` absent = every activity. `times` = the next N requests the rule applies to;
 * `untilMs` = until that epoch ms; both = whichever ends first; neither = until cleared.
 * `probability` (0 < p ≤ 1) = the rule applies to a matching request with that probability,
 * drawn from the injector's random source; absent = to every matching request.
 */
export type FaultRule = z.infer<typeof faultRuleSchema>;

export const DEFAULT_FAULT_RESULT_CODE = '000005';
export const DEFAULT_FAULT_HTTP_STATUS = 503;

/** The part of the injector a test drives. */
export interface MerchantSimFaults {
  add(rule: FaultRule): void;
  clear(): void;
  /** The live rules: a rule with `times` leaves this list once its last request has taken it. */
  list(): readonly FaultRule[];
}

/** Ordered fault rules; `take` consumes them. */
export class FaultInjector implements MerchantSimFaults {
  private rules: { rule: FaultRule; remaining: number }[] = [];

  /**
   * `random` (values in [0, 1), like Math.random) decides the rules that carry a
   * `probability`; it is drawn once per such rule a request reaches, and never for other
   * rules, so a seeded source (seededRandom) makes a run's draws repeatable.
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  add(rule: FaultRule): void {
    // Copy so a caller mutating its object later cannot change a live rule.
    this.rules.push({ rule: { ...rule }, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.rules = [];
  }

  /** Live rules, in the order they are consulted. */
  list(): readonly FaultRule[] {
    this.dropExpired();
    return this.rules.map(({ rule }) => rule);
  }

  /**
   * The rule to apply to one request of `activity`, or undefined. Counts the request against
   * the rule's `times` and drops rules that are used up or past `untilMs`.
   */
  take(activity: string | undefined): FaultRule | undefined {
    this.dropExpired();
    const index = this.rules.findIndex(({ rule }) => (rule.activity === undefined || rule.activity === activity) && this.wins(rule));
    const entry = this.rules[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.rules.splice(index, 1);
    return entry.rule;
  }

  /** Whether a matching rule applies to this request: always, or when its draw falls under `probability`. */
  private wins(rule: FaultRule): boolean {
    return rule.probability === undefined || this.random() < rule.probability;
  }

  private dropExpired(): void {
    const now = this.now();
    this.rules = this.rules.filter(({ rule }) => rule.untilMs === undefined || now < rule.untilMs);
  }
}
