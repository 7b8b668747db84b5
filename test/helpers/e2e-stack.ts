/**
 * One end-to-end suite's service: the dev stack (API, worker, reference merchant, order-system
 * sink) on the servers the global setup started, on a task queue of its own, with a small
 * pool on the same database for the suite's checks.
 */
import { randomUUID } from 'node:crypto';
import { createDb, type Db } from '../../src/db/pool';
import { startDevStack, type DevStack, type DevStackOptions } from '../../src/dev/stack';
import { createLogger } from '../../src/platform/logger';

export async function startE2eStack(name: string, options: Pick<DevStackOptions, 'env' | 'merchant'> = {}): Promise<{ stack: DevStack; db: Db }> {
  const stack = await startDevStack({
    databaseUrl: process.env.TEST_DATABASE_URL as string,
    temporalAddress: process.env.TEST_TEMPORAL_ADDRESS as string,
    logger: createLogger('silent'),
    taskQueue: `e2e-${name}-${randomUUID()}`,
    ...(options.merchant ? { merchant: options.merchant } : {}),
    // The global setup migrated the database already (and Postgrator, an ES module, cannot be
    // loaded inside jest's CommonJS sandbox).
    // No dial-test Schedule: a run firing at 09:00 or 15:00 Beijing time would dial the suite's merchants.
    env: { DIAL_TEST_SCHEDULE: 'false', ...options.env, MIGRATE_ON_START: 'false' },
  });
  return { stack, db: createDb({ url: process.env.TEST_DATABASE_URL as string, max: 2 }) };
}
