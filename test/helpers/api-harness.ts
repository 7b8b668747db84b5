/**
 * The API on real PostgreSQL and a real Temporal dev server (both from the global setup),
 * with no worker: started workflows stay pending, so a test sees exactly what the API did.
 * The health check is the real one.
 */
import { createServer } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { Express } from 'express';
import { createApp } from '../../src/api/app';
import { loadConfig, type Config } from '../../src/platform/config';
import { createDb, type Db } from '../../src/db/pool';
import { createLogger } from '../../src/platform/logger';
import { encryptorFromConfig } from '../../src/platform/security/keys';
import type { Encryptor } from '../../src/platform/security/encryption';
import { temporalHealthCheck } from '../../src/platform/temporal/connection';
import type { SubscriptionGateway } from '../../src/api/subscription/gateway';
import { createGateways } from '../../src/server';

export interface ApiHarness {
  app: Express;
  db: Db;
  client: Client;
  config: Readonly<Config>;
  encryptor: Encryptor;
  close(): Promise<void>;
}

export interface ApiHarnessOptions {
  /** Wraps the real gateway, e.g. to make one call fail as it would with Temporal unreachable. */
  gateway?: (real: SubscriptionGateway) => SubscriptionGateway;
  /**
   * Temporal at this address rather than the test server, e.g. `unusedAddress()`. Calls are
   * not retried, so an unreachable server shows at once rather than after the SDK's ~20 s of
   * retries.
   */
  temporalAddress?: string;
  /** PostgreSQL at this URL rather than the test database. */
  databaseUrl?: string;
}

export async function apiHarness(env: NodeJS.ProcessEnv = {}, options: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const databaseUrl = options.databaseUrl ?? process.env.TEST_DATABASE_URL;
  const temporalAddress = process.env.TEST_TEMPORAL_ADDRESS;
  if (!databaseUrl || !temporalAddress) throw new Error('run through jest: the global setup provides the database and Temporal');
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: options.temporalAddress ?? temporalAddress,
    TEMPORAL_TASK_QUEUE: `api-test-${process.pid}-${Date.now()}`,
    ...env,
  });
  const db = createDb({ url: databaseUrl, max: 4 });
  const connection = options.temporalAddress
    ? Connection.lazy({ address: options.temporalAddress, interceptors: [] })
    : await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection });
  const encryptor = encryptorFromConfig(config);
  const gateways = createGateways(client, config);
  const app = createApp({
    db,
    ...gateways,
    gateway: options.gateway ? options.gateway(gateways.gateway) : gateways.gateway,
    encryptor,
    logger: createLogger('silent'),
    config,
    temporalHealthy: temporalHealthCheck(connection),
  });
  return {
    app,
    db,
    client,
    config,
    encryptor,
    async close() {
      await db.close();
      await connection.close();
    },
  };
}

/** `127.0.0.1:<port>` where nothing listens (a port the system just handed out and took back). */
export async function unusedAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

let counter = 0;
/** Ids unique across test runs against the same database. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${process.pid.toString(36)}${counter}`.toUpperCase();
}
