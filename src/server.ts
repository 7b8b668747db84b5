/**
 * The API server: `npm run api` starts it alone; `npm start` runs it in the development
 * stack. On SIGTERM/SIGINT it stops accepting connections, then closes the pool and the
 * Temporal connection.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './api/app';
import { loadConfig, type Config } from './platform/config';
import { migrate } from './db/migrate';
import { createDb } from './db/pool';
import { createLogger, type Logger } from './platform/logger';
import { encryptorFromConfig } from './platform/security/keys';
import { connectClient, temporalHealthCheck } from './platform/temporal/connection';
import type { Client } from '@temporalio/client';
import { createSubscriptionGateway } from './api/subscription/gateway';
import { createTenantSyncGateway } from './api/tenant-sync/gateway';
import { createSettlementGateway } from './api/settlement/gateway';
import { createSupervisionGateway } from './api/supervision/gateway';
import { createRefundGateway } from './api/refunds/gateway';
import { createExitGateway } from './api/governance/exit-gateway';
import { createPenaltyNoticeGateway } from './api/governance/penalties-gateway';

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/** Each capability's gateway to its workflows, built once on the API's Temporal client. */
export function createGateways(client: Client, config: Readonly<Config>) {
  const { taskQueue } = config.temporal;
  return {
    gateway: createSubscriptionGateway(client, { taskQueue, policy: config.policy, lifecycle: config.lifecycle }),
    tenantSync: createTenantSyncGateway(client, { taskQueue, settings: { continueAsNewAfterEvents: config.lifecycle.continueAsNewAfterEvents } }),
    settlement: createSettlementGateway(client, { taskQueue, statement: config.settlement.statement }),
    supervision: createSupervisionGateway(client, { taskQueue }),
    refunds: createRefundGateway(client, { taskQueue, ...config.refunds }),
    exit: createExitGateway(client, { taskQueue }),
    penaltyNotices: createPenaltyNoticeGateway(client, { taskQueue }),
  };
}

export async function startApi(config: Readonly<Config>, logger: Logger): Promise<RunningApi> {
  if (!config.db.url) throw new Error('DATABASE_URL is required to run the API');
  if (config.db.migrateOnStart) await migrate(config.db.url);
  const db = createDb({ url: config.db.url, max: config.db.poolMax, onError: (err) => logger.warn({ err }, 'idle database client error') });
  const { client, connection } = await connectClient(config.temporal);
  const app = createApp({
    db,
    ...createGateways(client, config),
    encryptor: encryptorFromConfig(config),
    logger,
    config,
    temporalHealthy: temporalHealthCheck(connection),
  });
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(config.http.port, config.http.host, () => resolve(listening));
    listening.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  logger.info({ url }, 'API listening');
  return {
    url,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await db.close();
      await connection.close();
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'api');
  const api = await startApi(config, logger);
  const stop = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    api.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
