/**
 * Temporal's two databases (executions and visibility), set up with the server's own SQL
 * tool and the schema files of its module, as Temporal documents it for PostgreSQL. The
 * steps that are not idempotent (create, setup-schema at 0.0) run only when needed, so the
 * same command works on a fresh embedded server and again on a server of the user's that
 * already holds the databases; update-schema then brings either to the current version.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { TemporalDatabase } from './config';

const run = promisify(execFile);

export const TEMPORAL_DATABASES = [
  { name: 'temporal', versioned: 'temporal/versioned' },
  { name: 'temporal_visibility', versioned: 'visibility/versioned' },
] as const;

async function query<T>(db: TemporalDatabase, database: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ host: db.host, port: db.port, user: db.user, password: db.password, database });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** What already exists of `database`: nothing, an empty database, or one with Temporal's schema. */
async function stateOf(db: TemporalDatabase, database: string): Promise<'missing' | 'empty' | 'versioned'> {
  const exists = await query(db, 'postgres', async (c) => (await c.query('select 1 from pg_database where datname = $1', [database])).rowCount);
  if (!exists) return 'missing';
  const table = await query(db, database, async (c) => (await c.query("select to_regclass('schema_version') as t")).rows[0] as { t: string | null });
  return table.t ? 'versioned' : 'empty';
}

export async function setUpTemporalDatabases(options: { sqlTool: string; serverSource: string; database: TemporalDatabase; log: (message: string) => void }): Promise<void> {
  const { database: db } = options;
  const schemaRoot = path.join(options.serverSource, 'schema/postgresql/v12');
  for (const { name, versioned } of TEMPORAL_DATABASES) {
    // The password goes through the environment (SQL_PASSWORD), not the command line that `ps` shows.
    const sql = (...args: string[]) =>
      run(options.sqlTool, ['--plugin', 'postgres12', '--ep', db.host, '-p', String(db.port), '-u', db.user, '--db', name, ...args], {
        env: { ...process.env, SQL_PASSWORD: db.password },
      });
    const state = await stateOf(db, name);
    if (state === 'missing') await sql('create');
    if (state !== 'versioned') await sql('setup-schema', '-v', '0.0');
    await sql('update-schema', '-d', path.join(schemaRoot, versioned));
    options.log(`database ${name}: ${state === 'versioned' ? 'schema brought up to date' : `set up (was ${state})`}`);
  }
}
