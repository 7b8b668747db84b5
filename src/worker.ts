/**
 * The fulfilment worker: runs the workflows and the activities that call merchants, the
 * order system and PostgreSQL. `npm run worker` starts it alone; `npm start` runs it
 * beside the API in the development stack.
 */
import { Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities';
import { createSmtpMailer } from './clients/mailer';
import { createHttpKitClient } from './clients/kit';
import { createHttpMerchantClient } from './clients/merchant';
import { createMerchantDirectory } from './clients/merchant-directory';
import { createHttpOrderSystemClient } from './clients/order-system';
import { loadConfig, type Config } from './platform/config';
import { migrate } from './db/migrate';
import { createDb, type Db } from './db/pool';
import { createLogger, type Logger } from './platform/logger';
import { encryptorFromConfig } from './platform/security/keys';
import { connectClient, connectWorker, installRuntimeLogger } from './platform/temporal/connection';
import { ensureSearchAttributes } from './platform/temporal/search-attributes';
import { ensureBillRunSchedule } from './api/settlement/gateway';
import { ensureDialTestSchedule } from './api/governance/dial-tests-gateway';

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped (after shutdown()). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/** Builds the dependencies once, creates the worker and starts it. */
export async function startWorker(config: Readonly<Config>, logger: Logger): Promise<RunningWorker> {
  if (!config.db.url) throw new Error('DATABASE_URL is required to run the worker');
  if (config.db.migrateOnStart) await migrate(config.db.url);
  const db = createDb({ url: config.db.url, max: config.db.poolMax, onError: (err) => logger.warn({ err }, 'idle database client error') });

  const { client, connection: clientConnection } = await connectClient(config.temporal);
  const registered = await ensureSearchAttributes(clientConnection, config.temporal.namespace);
  if (registered.length) logger.info({ registered }, 'registered search attributes');
  if (config.settlement.schedule) {
    const { billDay, billHour, timeZone, statement } = config.settlement;
    const schedule = await ensureBillRunSchedule(client, { taskQueue: config.temporal.taskQueue, billDay, billHour, timeZone, statement });
    logger.info({ schedule, billDay, billHour, timeZone }, 'settlement bill-run schedule');
  }
  if (config.dialTests.schedule) {
    const { hours, timeZone, failedDaysToFreeze } = config.dialTests;
    const schedule = await ensureDialTestSchedule(client, { taskQueue: config.temporal.taskQueue, hours, timeZone, failedDaysToFreeze });
    logger.info({ schedule, hours, timeZone, failedDaysToFreeze }, 'dial-test schedule');
  }
  await clientConnection.close();

  const connection = await connectWorker(config.temporal);
  const activities = createActivities(activityDeps(config, db));
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowsPath: require.resolve('./workflows'),
    activities,
    maxCachedWorkflows: config.temporal.maxCachedWorkflows,
  });
  const done = worker.run().finally(async () => {
    await connection.close();
    await db.close();
  });
  logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker started');
  return {
    worker,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

/** The activities' dependencies, each built once from the configuration. */
function activityDeps(config: Readonly<Config>, db: Db): ActivityDeps {
  const encryptor = encryptorFromConfig(config);
  const { orderSystem, notify } = config;
  return {
    db,
    encryptor,
    merchants: createMerchantDirectory(db, encryptor),
    merchantClient: createHttpMerchantClient({ timeoutMs: config.merchant.requestTimeoutMs }),
    kitClient: createHttpKitClient({ timeoutMs: config.merchant.requestTimeoutMs }),
    orderSystem: orderSystem.url ? createHttpOrderSystemClient({ url: orderSystem.url, secret: orderSystem.secret, timeoutMs: orderSystem.timeoutMs }) : undefined,
    mailer: notify.smtpUrl ? createSmtpMailer({ url: notify.smtpUrl, from: notify.from, timeoutMs: notify.smtpTimeoutMs }) : undefined,
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'worker');
  // The SDK stops the worker on SIGINT and SIGTERM by itself; run() then resolves.
  installRuntimeLogger(logger);
  const running = await startWorker(config, logger);
  await running.done;
  logger.info('worker stopped');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
