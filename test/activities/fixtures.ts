/**
 * Shared pieces of the activity suites: the test database, the development encryptor,
 * merchants registered straight into the merchants table, the merchant operations as the
 * worker builds them, unique ids, a logger that keeps what activities log, and ports that
 * are known to refuse connections.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger, LogLevel, LogMetadata } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createMerchantOperationActivities, type MerchantOperationActivities } from '../../src/activities/subscription/merchant-operations';
import { createHttpMerchantClient } from '../../src/clients/merchant';
import { createMerchantDirectory } from '../../src/clients/merchant-directory';
import { loadConfig, type Config } from '../../src/platform/config';
import { createDb, type Db } from '../../src/db/pool';
import { upsertMerchant } from '../../src/db/repositories/catalog/merchants';
import type { Encryptor } from '../../src/platform/security/encryption';
import { encryptorFromConfig } from '../../src/platform/security/keys';

/** Development defaults: the development data key and order-system secret. */
export const config: Readonly<Config> = loadConfig({});
export const encryptor: Encryptor = encryptorFromConfig(config);

export function testDb(): Db {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('run through jest --selectProjects api: its global setup provides TEST_DATABASE_URL');
  return createDb({ url, max: 4 });
}

/** The merchant operations as the worker builds them: merchants looked up in `db`, called over real HTTP. */
export function merchantOperations(db: Db, timeoutMs = config.merchant.requestTimeoutMs): MerchantOperationActivities {
  return createMerchantOperationActivities({ db, encryptor, merchants: createMerchantDirectory(db, encryptor), merchantClient: createHttpMerchantClient({ timeoutMs }) });
}

/** startedAtMs and latencyMs of an outcome are measured; tests assert everything else exactly. */
export const measuredTiming = { startedAtMs: expect.any(Number), latencyMs: expect.any(Number) };

let counter = 0;
/** Unique across runs against the same database and across suites of one run. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${process.pid.toString(36)}-${counter}`;
}

/** Registers a merchant the way the operator API stores it: the access key encrypted. */
export async function registerMerchant(
  db: Db,
  m: { merchantId: string; productionUrl: string; accessKey: string; contactEmail?: string },
): Promise<void> {
  await upsertMerchant(db, {
    merchantId: m.merchantId,
    name: `Test merchant ${m.merchantId}`,
    productionUrl: m.productionUrl,
    protocolVersion: 'v2',
    accessKeyEnc: encryptor.encrypt(m.accessKey),
    ...(m.contactEmail === undefined ? {} : { contactEmail: m.contactEmail }),
  });
}

export interface LogEntry {
  level: LogLevel;
  message: string;
  meta: LogMetadata | undefined;
}

/** A Temporal logger that keeps entries, so tests can assert what an activity logged (and that it logged no secrets). */
export function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogLevel) =>
    (message: string, meta?: LogMetadata): void => {
      entries.push({ level, message, meta });
    };
  return {
    entries,
    log: (level, message, meta) => entries.push({ level, message, meta }),
    trace: at('TRACE'),
    debug: at('DEBUG'),
    info: at('INFO'),
    warn: at('WARN'),
    error: at('ERROR'),
  };
}

export interface ActivityEnv {
  env: MockActivityEnvironment;
  /** `env.run` with the activity's own result type (MockActivityEnvironment.run infers `unknown`). */
  run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R>;
  logs: LogEntry[];
}

/** An activity environment whose log entries the test can read. */
export function activityEnv(): ActivityEnv {
  const logger = recordingLogger();
  const env = new MockActivityEnvironment(undefined, { logger });
  return {
    env,
    run: <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A) => env.run(fn, ...args) as Promise<R>,
    logs: logger.entries,
  };
}

/** What `promise` rejected with; fails the test if it resolved instead. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

/** A loopback URL on a port that was just free and is closed again, so connecting is refused. */
export async function closedPortUrl(path = '/'): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return `http://127.0.0.1:${port}${path}`;
}
