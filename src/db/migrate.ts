/**
 * Applies the numbered SQL files in src/db/migrations with Postgrator. Each file runs in
 * its own transaction and is recorded in `schema_migrations`, so running twice is a no-op.
 */
import path from 'node:path';
import { Client } from 'pg';

export const MIGRATIONS_DIR = path.join(__dirname, 'migrations');

export interface MigrationResult {
  applied: string[];
  version: number;
}

export async function migrate(databaseUrl: string): Promise<MigrationResult> {
  // Postgrator ships as an ES module only; a dynamic import keeps this file CommonJS.
  const { default: Postgrator } = await import('postgrator');
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // Two processes migrating at once (API and worker starting together) would race on
    // the same files; a session advisory lock makes the second wait for the first.
    await client.query('select pg_advisory_lock(hashtext($1))', ['saas-fulfillment:migrate']);
    const postgrator = new Postgrator({
      migrationPattern: path.join(MIGRATIONS_DIR, '*.sql'),
      driver: 'pg',
      schemaTable: 'schema_migrations',
      execQuery: (query: string) => client.query(query),
    });
    const applied = await postgrator.migrate();
    const version = Number(await postgrator.getDatabaseVersion());
    return { applied: applied.map((m: { filename: string }) => path.basename(m.filename)), version };
  } finally {
    await client.query('select pg_advisory_unlock(hashtext($1))', ['saas-fulfillment:migrate']).catch(() => undefined);
    await client.end();
  }
}
