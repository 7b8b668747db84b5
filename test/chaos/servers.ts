/**
 * The servers a chaos run stands on, its own unless the environment names some:
 * - PostgreSQL: an embedded server in the run's own data directory, so it can be stopped and
 *   started again on the same port; with DATABASE_URL, a fresh database on that server, which
 *   this run does not own and so does not restart;
 * - Temporal: a dev server of its own, or TEMPORAL_ADDRESS.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recreateDatabaseOn } from '../../src/dev/databases';
import { migrate } from '../../src/db/migrate';
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres';
import { startDevServer } from '../../src/dev/temporal-servers';

const DATABASE = 'saas_fulfillment_chaos';

export interface ChaosServers {
  databaseUrl: string;
  temporalAddress: string;
  postgresLabel: string;
  temporalLabel: string;
  /** Where the run keeps its files (PostgreSQL data, the dev server's log). */
  scratch: string;
  /** Stops PostgreSQL, waits `downMs`, starts it again; undefined when the server is not the run's own. */
  restartPostgres?: (downMs: number) => Promise<void>;
  stop(): Promise<void>;
}

export async function startChaosServers(): Promise<ChaosServers> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.splice(0).reverse()) await s().catch((error: unknown) => console.error('chaos: stopping a server failed:', error));
  };
  try {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'saas-fulfillment-chaos-'));
    // As root, the embedded server runs as the `postgres` account, which must reach its data.
    chmodSync(scratch, 0o755);
    stops.push(async () => rmSync(scratch, { recursive: true, force: true }));

    let databaseUrl: string;
    let postgresLabel: string;
    let restartPostgres: ChaosServers['restartPostgres'];
    if (process.env.DATABASE_URL) {
      databaseUrl = await recreateDatabaseOn(process.env.DATABASE_URL, DATABASE);
      postgresLabel = 'from DATABASE_URL (not restarted: the run does not own that server)';
    } else {
      const postgres = await startEmbeddedPostgres({ dataDir: path.join(scratch, 'postgres'), persistent: false });
      stops.push(postgres.stop);
      await postgres.recreateDatabase(DATABASE);
      databaseUrl = postgres.urlFor(DATABASE);
      postgresLabel = 'embedded, own data directory';
      restartPostgres = (downMs) => postgres.restart({ downMs });
    }
    await migrate(databaseUrl);

    let temporalAddress = process.env.TEMPORAL_ADDRESS;
    let temporalLabel = `at ${temporalAddress} (TEMPORAL_ADDRESS)`;
    if (!temporalAddress) {
      const temporal = await startDevServer({ logFile: path.join(scratch, 'temporal.log') });
      stops.push(temporal.stop);
      temporalAddress = temporal.address;
      temporalLabel = 'dev server';
    }
    return { databaseUrl, temporalAddress, postgresLabel, temporalLabel, scratch, restartPostgres, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
