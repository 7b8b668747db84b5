/** The servers a benchmark runs against: the ones the environment names, else its own. */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../../src/db/migrate';
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres';
import { startDevServer } from '../../src/dev/temporal-servers';

export interface BenchServers {
  temporalAddress: string;
  databaseUrl: string;
  temporalLabel: string;
  postgresLabel: string;
  stop(): Promise<void>;
}

/** TEMPORAL_ADDRESS and DATABASE_URL when set; otherwise a dev server on a SQLite file (as `npm start`) and an embedded PostgreSQL. */
export async function startBenchServers(): Promise<BenchServers> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'saas-fulfillment-bench-'));
    // As root, the embedded server runs as the `postgres` account, which must reach it.
    chmodSync(scratch, 0o755);
    stops.push(async () => rmSync(scratch, { recursive: true, force: true }));

    let databaseUrl = process.env.DATABASE_URL;
    let postgresLabel = 'from DATABASE_URL';
    if (!databaseUrl) {
      const postgres = await startEmbeddedPostgres({ dataDir: path.join(scratch, 'postgres'), persistent: false });
      stops.push(postgres.stop);
      await postgres.recreateDatabase('saas_fulfillment_bench');
      databaseUrl = postgres.urlFor('saas_fulfillment_bench');
      postgresLabel = 'embedded';
    }
    await migrate(databaseUrl);

    let temporalAddress = process.env.TEMPORAL_ADDRESS;
    let temporalLabel = `at ${temporalAddress} (TEMPORAL_ADDRESS)`;
    if (!temporalAddress) {
      const temporal = await startDevServer({ dbFilename: path.join(scratch, 'temporal.sqlite'), logFile: path.join(scratch, 'temporal.log') });
      stops.push(temporal.stop);
      temporalAddress = temporal.address;
      temporalLabel = 'dev server (SQLite file)';
    }
    return { temporalAddress, databaseUrl, temporalLabel, postgresLabel, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
