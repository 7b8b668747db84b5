/**
 * Configuration from an explicit environment object (process.env is never touched).
 */
import { ConfigError, DEVELOPMENT_SECRETS, loadConfig } from '../../src/platform/config';
import { PRODUCTION_POLICY } from '../../src/workflows/windows/policy';

/** A complete, valid production environment. */
const PRODUCTION_ENV = {
  APP_MODE: 'production',
  WEBHOOK_SECRET: 'whsec_' + Buffer.alloc(32, 9).toString('base64'),
  OPERATOR_TOKEN: 'operator-token-0123456789',
  DATA_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
  ORDER_SYSTEM_SECRET: 'order-system-secret-0123456789',
  DATABASE_URL: 'postgres://fulfil:pw@db.internal:5432/fulfil',
  ORDER_SYSTEM_URL: 'https://orders.example.com/callbacks',
} as const;

/** Runs loadConfig and returns the ConfigError's problems; fails if it does not throw one. */
function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected loadConfig to throw');
}

describe('development defaults', () => {
  const config = loadConfig({});

  test('an empty environment is development mode on 127.0.0.1:3000', () => {
    expect(config.mode).toBe('development');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 3000 });
    expect(config.logLevel).toBe('info');
  });

  test('Temporal defaults to the local dev server and the saas-fulfillment task queue, with 1000 subscriptions cached', () => {
    expect(config.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'saas-fulfillment', maxCachedWorkflows: 1000 });
  });

  test('the worker cache size is read from WORKER_MAX_CACHED_WORKFLOWS, 0 (no cache) allowed, negative refused', () => {
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '0' }).temporal.maxCachedWorkflows).toBe(0);
    expect(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '250' }).temporal.maxCachedWorkflows).toBe(250);
    expect(problemsOf({ WORKER_MAX_CACHED_WORKFLOWS: '-1' })).toEqual([expect.stringMatching(/^WORKER_MAX_CACHED_WORKFLOWS: /)]);
  });

  test('secrets come from DEVELOPMENT_SECRETS', () => {
    expect(config.webhook).toEqual({ secret: DEVELOPMENT_SECRETS.webhookSecret, toleranceSeconds: 300 });
    expect(config.operatorToken).toBe(DEVELOPMENT_SECRETS.operatorToken);
    expect(config.encryption).toEqual({ primaryKey: DEVELOPMENT_SECRETS.dataEncryptionKey, oldKeys: [] });
    expect(config.orderSystem).toEqual({ url: undefined, secret: DEVELOPMENT_SECRETS.orderSystemSecret, timeoutMs: 10_000 });
  });

  test('database, merchant, notification and policy defaults', () => {
    expect(config.db).toEqual({ url: undefined, poolMax: 10, migrateOnStart: true });
    expect(config.merchant).toEqual({ requestTimeoutMs: 5000 });
    expect(config.notify).toEqual({ smtpUrl: undefined, from: 'fulfilment@localhost', smtpTimeoutMs: 10_000 });
    expect(config.policy).toEqual(PRODUCTION_POLICY);
  });

  test('the development data key decodes to exactly 32 bytes', () => {
    const key = Buffer.from(DEVELOPMENT_SECRETS.dataEncryptionKey, 'base64');
    expect(key).toHaveLength(32);
    expect(key.toString('utf8')).toBe('dev-data-key-not-for-production!');
  });

  test('the development webhook secrets are whsec_ values that decode to non-empty bytes', () => {
    for (const secret of [DEVELOPMENT_SECRETS.webhookSecret, DEVELOPMENT_SECRETS.orderSystemSecret]) {
      expect(secret.startsWith('whsec_')).toBe(true);
      expect(Buffer.from(secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    }
  });

  test('explicit values override the defaults', () => {
    const custom = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      LOG_LEVEL: 'debug',
      DB_POOL_MAX: '4',
      TEMPORAL_TASK_QUEUE: 'other-queue',
      WEBHOOK_TOLERANCE_SECONDS: '60',
      MERCHANT_REQUEST_TIMEOUT_MS: '2500',
      ORDER_SYSTEM_TIMEOUT_MS: '4000',
      SMTP_TIMEOUT_MS: '7000',
      DATA_ENCRYPTION_OLD_KEYS: ` ${Buffer.alloc(32, 4).toString('base64')} , ,${Buffer.alloc(32, 5).toString('base64')}`,
    });
    expect(custom.http).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(custom.logLevel).toBe('debug');
    expect(custom.db.poolMax).toBe(4);
    expect(custom.temporal.taskQueue).toBe('other-queue');
    expect(custom.webhook.toleranceSeconds).toBe(60);
    expect(custom.merchant.requestTimeoutMs).toBe(2500);
    expect(custom.orderSystem.timeoutMs).toBe(4000);
    expect(custom.notify.smtpTimeoutMs).toBe(7000);
    expect(custom.encryption.oldKeys).toEqual([Buffer.alloc(32, 4).toString('base64'), Buffer.alloc(32, 5).toString('base64')]);
  });
});

describe('production mode', () => {
  test('a complete production environment loads with the given values', () => {
    const config = loadConfig({ ...PRODUCTION_ENV });
    expect(config.mode).toBe('production');
    expect(config.webhook.secret).toBe(PRODUCTION_ENV.WEBHOOK_SECRET);
    expect(config.operatorToken).toBe(PRODUCTION_ENV.OPERATOR_TOKEN);
    expect(config.encryption.primaryKey).toBe(PRODUCTION_ENV.DATA_ENCRYPTION_KEY);
    expect(config.orderSystem).toEqual({ url: PRODUCTION_ENV.ORDER_SYSTEM_URL, secret: PRODUCTION_ENV.ORDER_SYSTEM_SECRET, timeoutMs: 10_000 });
    expect(config.db.url).toBe(PRODUCTION_ENV.DATABASE_URL);
  });

  test('without secrets, one ConfigError lists all six missing keys', () => {
    const problems = problemsOf({ APP_MODE: 'production' });
    expect(problems).toEqual([
      'WEBHOOK_SECRET: required in production mode',
      'OPERATOR_TOKEN: required in production mode',
      'DATA_ENCRYPTION_KEY: required in production mode',
      'ORDER_SYSTEM_SECRET: required in production mode',
      'DATABASE_URL: required in production mode',
      'ORDER_SYSTEM_URL: required in production mode',
    ]);
  });

  test('the ConfigError message names every key', () => {
    try {
      loadConfig({ APP_MODE: 'production' });
      throw new Error('expected loadConfig to throw');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).name).toBe('ConfigError');
      const message = (error as ConfigError).message;
      expect(message.startsWith('invalid configuration:')).toBe(true);
      for (const key of ['WEBHOOK_SECRET', 'OPERATOR_TOKEN', 'DATA_ENCRYPTION_KEY', 'ORDER_SYSTEM_SECRET', 'DATABASE_URL', 'ORDER_SYSTEM_URL']) {
        expect(message).toContain(key);
      }
    }
  });

  test.each(Object.keys(PRODUCTION_ENV).filter((key) => key !== 'APP_MODE'))('when only %s is missing, then exactly that key is reported', (key) => {
    const env: NodeJS.ProcessEnv = { ...PRODUCTION_ENV };
    delete env[key];
    expect(problemsOf(env)).toEqual([`${key}: required in production mode`]);
  });

  test('an unknown APP_MODE is reported', () => {
    const problems = problemsOf({ APP_MODE: 'staging' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^APP_MODE: /);
  });
});

describe('validation of individual keys', () => {
  test.each(['abc', '70000', '-1', '3.5'])('PORT=%p is reported by key', (PORT) => {
    const problems = problemsOf({ PORT });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^PORT: /);
  });

  test('refunds: a 30-day guarantee period and 72 hours for the merchant by default; both settable, out-of-range values reported', () => {
    expect(loadConfig({}).refunds).toEqual({ policy: { fullRefundDays: 5, selfServiceRefundsPerYear: 10, guaranteePeriodDays: 30 }, merchantDecisionTimeoutMs: 72 * 3_600_000 });
    const set = loadConfig({ REFUND_GUARANTEE_DAYS: '14', REFUND_MERCHANT_DECISION_HOURS: '24' }).refunds;
    expect(set).toEqual({ policy: { fullRefundDays: 5, selfServiceRefundsPerYear: 10, guaranteePeriodDays: 14 }, merchantDecisionTimeoutMs: 24 * 3_600_000 });
    expect(problemsOf({ REFUND_GUARANTEE_DAYS: '4', REFUND_MERCHANT_DECISION_HOURS: '0' }).map((p) => p.split(':')[0]).sort()).toEqual([
      'REFUND_GUARANTEE_DAYS',
      'REFUND_MERCHANT_DECISION_HOURS',
    ]);
  });

  test('PORT=0 (any free port) is allowed', () => {
    expect(loadConfig({ PORT: '0' }).http.port).toBe(0);
  });

  test('several bad keys are reported together', () => {
    const problems = problemsOf({ PORT: 'x', LOG_LEVEL: 'loud', DB_POOL_MAX: '0', MERCHANT_REQUEST_TIMEOUT_MS: '60001' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['DB_POOL_MAX', 'LOG_LEVEL', 'MERCHANT_REQUEST_TIMEOUT_MS', 'PORT']);
  });

  test.each(['ORDER_SYSTEM_TIMEOUT_MS', 'SMTP_TIMEOUT_MS'])('%s must leave room inside the 30 s activity timeout: 25000 is accepted, 25001 and 99 are reported', (key) => {
    expect(() => loadConfig({ [key]: '25000' })).not.toThrow();
    expect(problemsOf({ [key]: '25001' })).toEqual([expect.stringMatching(new RegExp(`^${key}: `))]);
    expect(problemsOf({ [key]: '99' })).toEqual([expect.stringMatching(new RegExp(`^${key}: `))]);
  });

  test('secrets shorter than 16 characters are reported', () => {
    const problems = problemsOf({ WEBHOOK_SECRET: 'short', OPERATOR_TOKEN: 'short', ORDER_SYSTEM_SECRET: 'short' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['OPERATOR_TOKEN', 'ORDER_SYSTEM_SECRET', 'WEBHOOK_SECRET']);
  });

  test.each([
    ['non-base64 characters, which decode to zero bytes', 'whsec_!!!!!!!!!!!!!!!!'],
    ['base64 of only 16 bytes', `whsec_${Buffer.alloc(16, 1).toString('base64')}`],
    ['base64 with a stray character in it', `whsec_${Buffer.alloc(32, 1).toString('base64').slice(0, 20)}*${Buffer.alloc(32, 1).toString('base64').slice(20)}`],
    ['unpadded base64', `whsec_${Buffer.alloc(32, 1).toString('base64').replace(/=+$/, '')}`],
  ])('when a whsec_ secret holds %s, then WEBHOOK_SECRET and ORDER_SYSTEM_SECRET are reported by key without their value', (_case, secret) => {
    const problems = problemsOf({ WEBHOOK_SECRET: secret, ORDER_SYSTEM_SECRET: secret });
    expect(problems).toEqual([
      'WEBHOOK_SECRET: after the whsec_ prefix, must be base64 of at least 24 bytes',
      'ORDER_SYSTEM_SECRET: after the whsec_ prefix, must be base64 of at least 24 bytes',
    ]);
    expect(problems.join('\n')).not.toContain(secret.slice('whsec_'.length));
  });

  test('when a whsec_ secret is base64 of 24 bytes or more, or a plain secret of 16 characters or more, then it is accepted', () => {
    const whsec24 = `whsec_${Buffer.alloc(24, 2).toString('base64')}`;
    expect(loadConfig({ WEBHOOK_SECRET: whsec24, ORDER_SYSTEM_SECRET: whsec24 }).webhook.secret).toBe(whsec24);
    expect(loadConfig({ WEBHOOK_SECRET: 'plain-text-secret-0123' }).webhook.secret).toBe('plain-text-secret-0123');
  });

  test('URLs must be URLs', () => {
    const problems = problemsOf({ DATABASE_URL: 'not a url', ORDER_SYSTEM_URL: 'nope' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'ORDER_SYSTEM_URL']);
  });

  test('a data key that is not 32 bytes is reported, also among the old keys', () => {
    expect(problemsOf({ DATA_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') })).toEqual([
      'DATA_ENCRYPTION_KEY / DATA_ENCRYPTION_OLD_KEYS: each key must be 32 bytes, base64-encoded',
    ]);
    expect(problemsOf({ DATA_ENCRYPTION_OLD_KEYS: `${Buffer.alloc(32).toString('base64')},c2hvcnQ=` })).toEqual([
      'DATA_ENCRYPTION_KEY / DATA_ENCRYPTION_OLD_KEYS: each key must be 32 bytes, base64-encoded',
    ]);
  });
});

describe('MIGRATE_ON_START', () => {
  test("'true' and 'false' are read as booleans", () => {
    expect(loadConfig({ MIGRATE_ON_START: 'true' }).db.migrateOnStart).toBe(true);
    expect(loadConfig({ MIGRATE_ON_START: 'false' }).db.migrateOnStart).toBe(false);
  });

  test.each(['1', '0', 'yes', 'TRUE', 'False'])('%p is reported', (value) => {
    const problems = problemsOf({ MIGRATE_ON_START: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^MIGRATE_ON_START: /);
  });
});

describe('empty values and production safety', () => {
  test('an empty value counts as unset: PORT= means the default port, not a random one', () => {
    expect(loadConfig({ PORT: '', MIGRATE_ON_START: '' })).toMatchObject({ http: { port: 3000 }, db: { migrateOnStart: true } });
  });

  test('production mode refuses the published development secrets even when given explicitly', () => {
    const problems = problemsOf({
      APP_MODE: 'production',
      WEBHOOK_SECRET: DEVELOPMENT_SECRETS.webhookSecret,
      OPERATOR_TOKEN: 'operator-token-0123456789',
      DATA_ENCRYPTION_KEY: DEVELOPMENT_SECRETS.dataEncryptionKey,
      ORDER_SYSTEM_SECRET: DEVELOPMENT_SECRETS.orderSystemSecret,
      DATABASE_URL: 'postgres://u:p@db/x',
      ORDER_SYSTEM_URL: 'https://orders.example.com',
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['DATA_ENCRYPTION_KEY', 'ORDER_SYSTEM_SECRET', 'WEBHOOK_SECRET']);
  });

  test('a bad key and the missing production secrets are reported together', () => {
    const problems = problemsOf({ APP_MODE: 'production', PORT: 'abc' });
    expect(problems).toHaveLength(7);
    expect(problems[0]).toMatch(/^PORT: /);
  });
});

describe('RETRY_POLICY_JSON', () => {
  test('an override of one field merges into the production table', () => {
    const config = loadConfig({ RETRY_POLICY_JSON: '{"create":{"initialIntervalMs":5000}}' });
    expect(config.policy.create).toEqual({ ...PRODUCTION_POLICY.create, initialIntervalMs: 5000 });
    expect(config.policy.upgrade).toEqual(PRODUCTION_POLICY.upgrade);
    expect(config.policy.renewal).toEqual(PRODUCTION_POLICY.renewal);
    expect(config.policy.status).toEqual(PRODUCTION_POLICY.status);
    expect(config.policy.release).toEqual(PRODUCTION_POLICY.release);
  });

  test('overrides of several scenarios merge together', () => {
    const config = loadConfig({
      RETRY_POLICY_JSON: JSON.stringify({ release: { windowMs: 1_000 }, status: { backoffCoefficient: 1.5 } }),
    });
    expect(config.policy.release).toEqual({ ...PRODUCTION_POLICY.release, windowMs: 1_000 });
    expect(config.policy.status).toEqual({ ...PRODUCTION_POLICY.status, backoffCoefficient: 1.5 });
  });

  test('invalid JSON is reported', () => {
    expect(problemsOf({ RETRY_POLICY_JSON: '{create:' })).toEqual(['RETRY_POLICY_JSON: not valid JSON']);
  });

  test('an unknown scenario key is reported with its name', () => {
    const problems = problemsOf({ RETRY_POLICY_JSON: '{"creat":{"windowMs":1000}}' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^RETRY_POLICY_JSON/);
    expect(problems[0]).toContain('creat');
  });

  test('an invalid field value is reported by its path', () => {
    expect(problemsOf({ RETRY_POLICY_JSON: '{"create":{"windowMs":-1}}' })).toEqual([
      expect.stringMatching(/^RETRY_POLICY_JSON\.create\.windowMs: /),
    ]);
    expect(problemsOf({ RETRY_POLICY_JSON: '{"status":{"backoffCoefficient":0.5}}' })).toEqual([
      expect.stringMatching(/^RETRY_POLICY_JSON\.status\.backoffCoefficient: /),
    ]);
  });

  test('the ending of a window is the spec rule, not configuration; only create polls', () => {
    for (const json of ['{"renewal":{"onWindowExhausted":"unsubscribe-and-refund"}}', '{"create":{"onWindowExhausted":"wait-for-restart"}}']) {
      const problems = problemsOf({ RETRY_POLICY_JSON: json });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^RETRY_POLICY_JSON\.(renewal|create): .*onWindowExhausted/);
    }
    expect(problemsOf({ RETRY_POLICY_JSON: '{"renewal":{"pollIntervalMs":1000}}' })).toEqual([expect.stringMatching(/^RETRY_POLICY_JSON\.renewal: .*pollIntervalMs/)]);
    expect(loadConfig({ RETRY_POLICY_JSON: '{"create":{"pollIntervalMs":1000}}' }).policy.create.pollIntervalMs).toBe(1000);
  });

  test('a production config reports a bad RETRY_POLICY_JSON together with missing secrets', () => {
    const problems = problemsOf({ APP_MODE: 'production', RETRY_POLICY_JSON: 'nope' });
    expect(problems).toContain('RETRY_POLICY_JSON: not valid JSON');
    expect(problems).toContain('WEBHOOK_SECRET: required in production mode');
    expect(problems).toHaveLength(7);
  });
});

describe('freezing', () => {
  test('the returned config is deeply frozen', () => {
    const config = loadConfig({ RETRY_POLICY_JSON: '{"create":{"initialIntervalMs":5000}}' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
    expect(Object.isFrozen(config.encryption.oldKeys)).toBe(true);
    expect(Object.isFrozen(config.policy)).toBe(true);
    expect(Object.isFrozen(config.policy.create)).toBe(true);
  });

  test('assigning to a nested field throws in strict mode and leaves the value unchanged', () => {
    const config = loadConfig({});
    expect(() => {
      (config.http as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(config.http.port).toBe(3000);
    expect(() => {
      (config.policy.create as { windowMs: number }).windowMs = 1;
    }).toThrow(TypeError);
    expect(config.policy.create.windowMs).toBe(3 * 60 * 60 * 1000);
    expect(() => {
      (config as { mode: string }).mode = 'production';
    }).toThrow(TypeError);
  });

  test('each call returns an independent config object', () => {
    const a = loadConfig({ PORT: '1111' });
    const b = loadConfig({ PORT: '2222' });
    expect(a.http.port).toBe(1111);
    expect(b.http.port).toBe(2222);
  });
});
