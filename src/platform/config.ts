/**
 * Configuration, parsed once from the environment with zod. Fails fast with every bad key
 * listed; never logged (it holds secrets).
 *
 * APP_MODE=development (the default of `npm start` and tests) fills secrets with fixed,
 * printed development values and allows http merchant URLs on loopback. APP_MODE=production
 * requires every secret to be given and merchant URLs to be https domain names.
 */
import { z } from 'zod';
import { whsecSecretProblem } from './security/standard-webhooks';
import { DEFAULT_TASK_QUEUE } from '../shared/task-queues';
import { mergePolicy, PRODUCTION_POLICY, SCENARIOS, type PolicyTable } from '../workflows/windows/policy';
import type { LifecycleSettings } from '../workflows/subscription/messages';
import type { StatementSettings } from '../workflows/settlement/messages';
import { DEFAULT_REFUND_POLICY, type RefundPolicy } from '../workflows/refunds/rules';

/** Fixed development secrets: public by design, refused in production mode. */
export const DEVELOPMENT_SECRETS = {
  webhookSecret: 'whsec_ZGV2LXdlYmhvb2stc2VjcmV0LW5vdC1mb3ItcHJvZHVjdGlvbg==',
  operatorToken: 'dev-operator-token',
  dataEncryptionKey: 'ZGV2LWRhdGEta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE=',
  orderSystemSecret: 'whsec_ZGV2LW9yZGVyLXN5c3RlbS1zZWNyZXQtbm90LWZvci1wcm9k',
} as const;

const booleanFlag = z.enum(['true', 'false']).transform((value) => value === 'true');

/** A Standard Webhooks secret: plain text, or `whsec_` and base64 that really decodes to a key. */
const webhookSecret = z
  .string()
  .min(16)
  .superRefine((secret, ctx) => {
    const problem = whsecSecretProblem(secret);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** The timings of a window; its ending is the spec's (§4) and cannot be configured. */
const windowTimings = {
  windowMs: z.number().int().positive(),
  initialIntervalMs: z.number().int().positive(),
  backoffCoefficient: z.number().min(1),
  maximumIntervalMs: z.number().int().positive(),
};

const policyOverrideSchema = z
  .object({
    create: z.object({ ...windowTimings, pollIntervalMs: z.number().int().positive() }).partial().strict().optional(),
    ...Object.fromEntries(SCENARIOS.filter((s) => s !== 'create').map((scenario) => [scenario, z.object(windowTimings).partial().strict().optional()])),
  })
  .strict();

const envSchema = z.object({
  APP_MODE: z.enum(['development', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.string().url().optional(),
  DB_POOL_MAX: z.coerce.number().int().positive().default(10),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default(DEFAULT_TASK_QUEUE),
  // Subscriptions kept in the worker's memory between their events (0: none). Every other
  // one is replayed from its history when its next event or timer comes, so the worker's
  // memory is bounded by this number, not by how many subscriptions exist.
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(1000),
  WEBHOOK_SECRET: webhookSecret.optional(),
  WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  OPERATOR_TOKEN: z.string().min(16).optional(),
  DATA_ENCRYPTION_KEY: z.string().optional(),
  DATA_ENCRYPTION_OLD_KEYS: z.string().optional(),
  ORDER_SYSTEM_URL: z.string().url().optional(),
  ORDER_SYSTEM_SECRET: webhookSecret.optional(),
  // Below the callback activity's 30 s start-to-close timeout, so a slow order system ends
  // the request with a failure the activity records, rather than ending the activity.
  ORDER_SYSTEM_TIMEOUT_MS: z.coerce.number().int().min(100).max(25_000).default(10_000),
  MERCHANT_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().max(60_000).default(5000),
  SMTP_URL: z.string().url().optional(),
  // Per SMTP step (connecting, the greeting, each reply), below the notification activity's 30 s.
  SMTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(25_000).default(10_000),
  NOTIFY_FROM: z.string().email().default('fulfilment@localhost'),
  RETRY_POLICY_JSON: z.string().optional(),
  TRIAL_REMINDER_LEAD_HOURS: z
    .string()
    .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'comma-separated hours, e.g. 72,24')
    .default('72,24'),
  CHANGE_CHECK_DEADLINE_MS: z.coerce.number().int().min(1000).max(60_000).default(10_000),
  CONTINUE_AS_NEW_AFTER_EVENTS: z.coerce.number().int().min(0).default(100),
  MIGRATE_ON_START: booleanFlag.default(true),
  // The monthly bill run (spec §9.2): the 3rd for joint-operation products, the 7th for general ones.
  SETTLEMENT_BILL_DAY: z.coerce.number().int().min(1).max(28).default(3),
  SETTLEMENT_BILL_HOUR: z.coerce.number().int().min(0).max(23).default(1),
  SETTLEMENT_TIMEZONE: z.string().min(1).default('Asia/Shanghai'),
  // Non-working days besides weekends (Beijing dates): reminders and the bill day skip them.
  SETTLEMENT_HOLIDAYS: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(,\d{4}-\d{2}-\d{2})*$/, 'comma-separated dates, e.g. 2026-10-01,2026-10-02')
    .optional(),
  SETTLEMENT_SCHEDULE: booleanFlag.default(true),
  // Refunds (spec §9.3): the guarantee period (no length in the spec) and the merchant's time to answer a negotiated refund (none in the spec).
  REFUND_GUARANTEE_DAYS: z.coerce.number().int().min(5).max(366).default(DEFAULT_REFUND_POLICY.guaranteePeriodDays),
  REFUND_MERCHANT_DECISION_HOURS: z.coerce.number().int().min(1).max(720).default(72),
  // Penalties (spec §9.5, whose thresholds and resets are unconfirmed): points count for a rolling
  // window of days, and reaching the termination points in it terminates the merchant.
  PENALTY_POINTS_WINDOW_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  PENALTY_TERMINATION_POINTS: z.coerce.number().int().min(1).max(1000).default(50),
  // Dial tests (spec §1.6, §4): replayed every morning and afternoon; consecutive failed days freeze trading.
  DIAL_TEST_SCHEDULE: booleanFlag.default(true),
  DIAL_TEST_HOURS: z
    .string()
    .regex(/^([01]?\d|2[0-3])(,([01]?\d|2[0-3]))*$/, 'comma-separated hours 0–23, e.g. 9,15')
    .default('9,15'),
  DIAL_TEST_TIMEZONE: z.string().min(1).default('Asia/Shanghai'),
  DIAL_TEST_FAILED_DAYS: z.coerce.number().int().min(1).max(30).default(5),
});

export interface Config {
  mode: 'development' | 'production';
  http: { host: string; port: number };
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  db: { url: string | undefined; poolMax: number; migrateOnStart: boolean };
  temporal: { address: string; namespace: string; taskQueue: string; maxCachedWorkflows: number };
  webhook: { secret: string; toleranceSeconds: number };
  operatorToken: string;
  encryption: { primaryKey: string; oldKeys: string[] };
  orderSystem: { url: string | undefined; secret: string; timeoutMs: number };
  merchant: { requestTimeoutMs: number };
  notify: { smtpUrl: string | undefined; from: string; smtpTimeoutMs: number };
  policy: PolicyTable;
  lifecycle: LifecycleSettings;
  settlement: SettlementConfig;
  refunds: { policy: RefundPolicy; merchantDecisionTimeoutMs: number };
  penalties: PenaltySettings;
  dialTests: DialTestConfig;
}

export interface DialTestConfig {
  /** Whether the worker registers the dial-test Schedule. */
  schedule: boolean;
  /** Hours of the day the runs start, in `timeZone` (default 9 and 15: morning and afternoon). */
  hours: number[];
  timeZone: string;
  /** Consecutive failed days that freeze trading and hide the product (spec: 5). */
  failedDaysToFreeze: number;
}

/** The points ledger's settings (spec §9.5 leaves thresholds and resets unconfirmed). */
export interface PenaltySettings {
  /** Points count for this many days after they are recorded (a rolling window). */
  windowDays: number;
  /** Points in the window at which the merchant is terminated (a forced exit). */
  terminationPoints: number;
}

export interface SettlementConfig {
  /** Whether the worker registers the monthly Schedule. */
  schedule: boolean;
  billDay: number;
  billHour: number;
  timeZone: string;
  statement: StatementSettings;
}

/**
 * Reminder after each step's spec duration, in working days (spec §9.2's table). The spec
 * gives none for countersigning, invoicing and payment; ours are marked.
 */
export const STATEMENT_REMINDERS: StatementSettings['reminders'] = {
  review: 2,
  countersign: 2, // unconfirmed in the spec: ours
  'payment-request': 1,
  invoicing: 10, // the seller's step has no duration in the spec: ours
  verification: 2,
  payment: 5, // unconfirmed in the spec: ours
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Keys that production mode requires, with why they cannot default. */
const REQUIRED_IN_PRODUCTION = ['WEBHOOK_SECRET', 'OPERATOR_TOKEN', 'DATA_ENCRYPTION_KEY', 'ORDER_SYSTEM_SECRET', 'DATABASE_URL', 'ORDER_SYSTEM_URL'] as const;

/** Problems that only production mode has: missing secrets, and the public development ones. */
function productionProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = REQUIRED_IN_PRODUCTION.filter((key) => !env[key]).map((key) => `${key}: required in production mode`);
  const published: Array<[string, string]> = [
    ['WEBHOOK_SECRET', DEVELOPMENT_SECRETS.webhookSecret],
    ['OPERATOR_TOKEN', DEVELOPMENT_SECRETS.operatorToken],
    ['DATA_ENCRYPTION_KEY', DEVELOPMENT_SECRETS.dataEncryptionKey],
    ['ORDER_SYSTEM_SECRET', DEVELOPMENT_SECRETS.orderSystemSecret],
  ];
  for (const [key, value] of published) {
    if (env[key] === value) problems.push(`${key}: the published development value cannot be used in production mode`);
  }
  return problems;
}

/**
 * Parses and freezes the configuration from an environment (process.env by default).
 * Empty values count as unset (`PORT=` in an env file means "default", not port 0), and
 * every problem is reported at once.
 */
export function loadConfig(rawEnv: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  if (env.APP_MODE === 'production') problems.push(...productionProblems(env));
  if (!parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  const config: Config = {
    mode: e.APP_MODE,
    http: { host: e.HOST, port: e.PORT },
    logLevel: e.LOG_LEVEL,
    db: { url: e.DATABASE_URL, poolMax: e.DB_POOL_MAX, migrateOnStart: e.MIGRATE_ON_START },
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE, taskQueue: e.TEMPORAL_TASK_QUEUE, maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS },
    webhook: { secret: e.WEBHOOK_SECRET ?? DEVELOPMENT_SECRETS.webhookSecret, toleranceSeconds: e.WEBHOOK_TOLERANCE_SECONDS },
    operatorToken: e.OPERATOR_TOKEN ?? DEVELOPMENT_SECRETS.operatorToken,
    encryption: {
      primaryKey: e.DATA_ENCRYPTION_KEY ?? DEVELOPMENT_SECRETS.dataEncryptionKey,
      oldKeys: e.DATA_ENCRYPTION_OLD_KEYS ? e.DATA_ENCRYPTION_OLD_KEYS.split(',').map((k) => k.trim()).filter(Boolean) : [],
    },
    orderSystem: { url: e.ORDER_SYSTEM_URL, secret: e.ORDER_SYSTEM_SECRET ?? DEVELOPMENT_SECRETS.orderSystemSecret, timeoutMs: e.ORDER_SYSTEM_TIMEOUT_MS },
    merchant: { requestTimeoutMs: e.MERCHANT_REQUEST_TIMEOUT_MS },
    notify: { smtpUrl: e.SMTP_URL, from: e.NOTIFY_FROM, smtpTimeoutMs: e.SMTP_TIMEOUT_MS },
    policy: PRODUCTION_POLICY,
    lifecycle: {
      // Largest lead first: the earliest reminder is sent first.
      trialReminderLeadsMs: e.TRIAL_REMINDER_LEAD_HOURS.split(',')
        .map((hours) => Math.round(Number(hours) * 3_600_000))
        .sort((a, b) => b - a),
      changeCheckDeadlineMs: e.CHANGE_CHECK_DEADLINE_MS,
      continueAsNewAfterEvents: e.CONTINUE_AS_NEW_AFTER_EVENTS,
    },
    settlement: {
      schedule: e.SETTLEMENT_SCHEDULE,
      billDay: e.SETTLEMENT_BILL_DAY,
      billHour: e.SETTLEMENT_BILL_HOUR,
      timeZone: e.SETTLEMENT_TIMEZONE,
      statement: { reminders: STATEMENT_REMINDERS, holidays: e.SETTLEMENT_HOLIDAYS ? e.SETTLEMENT_HOLIDAYS.split(',') : [] },
    },
    refunds: {
      policy: { ...DEFAULT_REFUND_POLICY, guaranteePeriodDays: e.REFUND_GUARANTEE_DAYS },
      merchantDecisionTimeoutMs: e.REFUND_MERCHANT_DECISION_HOURS * 3_600_000,
    },
    penalties: { windowDays: e.PENALTY_POINTS_WINDOW_DAYS, terminationPoints: e.PENALTY_TERMINATION_POINTS },
    dialTests: {
      schedule: e.DIAL_TEST_SCHEDULE,
      hours: [...new Set(e.DIAL_TEST_HOURS.split(',').map(Number))].sort((a, b) => a - b),
      timeZone: e.DIAL_TEST_TIMEZONE,
      failedDaysToFreeze: e.DIAL_TEST_FAILED_DAYS,
    },
  };
  for (const key of [config.encryption.primaryKey, ...config.encryption.oldKeys]) {
    if (Buffer.from(key, 'base64').length !== 32) problems.push('DATA_ENCRYPTION_KEY / DATA_ENCRYPTION_OLD_KEYS: each key must be 32 bytes, base64-encoded');
  }
  if (e.RETRY_POLICY_JSON) {
    try {
      const overrides = policyOverrideSchema.safeParse(JSON.parse(e.RETRY_POLICY_JSON));
      if (overrides.success) config.policy = mergePolicy(PRODUCTION_POLICY, overrides.data);
      else problems.push(...overrides.error.issues.map((i) => `${['RETRY_POLICY_JSON', ...i.path.map(String)].join('.')}: ${i.message}`));
    } catch {
      problems.push('RETRY_POLICY_JSON: not valid JSON');
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
