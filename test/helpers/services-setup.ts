/**
 * Real services for the API and end-to-end suites:
 * - PostgreSQL: the server in DATABASE_URL when set, else an embedded one; either way the
 *   tests get their own freshly created, migrated database (TEST_DATABASE_URL);
 * - Temporal: TEMPORAL_ADDRESS when set, else a dev server from the installed CLI, else the
 *   SDK's download (TEST_TEMPORAL_ADDRESS).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recreateDatabaseOn } from '../../src/dev/databases';
import { migrate } from '../../src/db/migrate';
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres';
import { startDevServer } from '../../src/dev/temporal-servers';
import { registerStopper, startedOnce } from './stoppers';

const TEST_DATABASE = 'saas_fulfillment_test';

export default async function setup(): Promise<void> {
  if (startedOnce('services')) return;
  let databaseUrl: string;
  if (process.env.DATABASE_URL) {
    databaseUrl = await recreateDatabaseOn(process.env.DATABASE_URL, TEST_DATABASE);
  } else {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'saas-fulfillment-pg-'));
    // As root the server runs as a separate `postgres` user, which must be able to reach it.
    chmodSync(dataDir, 0o755);
    const postgres = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'data'), persistent: false });
    registerStopper('embedded PostgreSQL', async () => {
      await postgres.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    await postgres.recreateDatabase(TEST_DATABASE);
    databaseUrl = postgres.urlFor(TEST_DATABASE);
  }
  await migrate(databaseUrl);
  process.env.TEST_DATABASE_URL = databaseUrl;

  if (process.env.TEMPORAL_ADDRESS) {
    process.env.TEST_TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS;
  } else {
    const temporal = await startDevServer({ logFile: path.join(os.tmpdir(), 'saas-fulfillment-dev-server.log') });
    registerStopper('Temporal dev server', temporal.stop);
    process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  }
}
