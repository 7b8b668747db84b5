/** A fresh database on a PostgreSQL server that someone else runs (DATABASE_URL), for tests and tools. */
import { Client } from 'pg';

/** Drops and creates `database` on the server of `serverUrl`; answers its URL. */
export async function recreateDatabaseOn(serverUrl: string, database: string): Promise<string> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`drop database if exists "${database}" with (force)`);
    await client.query(`create database "${database}"`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
