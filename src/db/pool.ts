/** The one PostgreSQL pool, and helpers for queries and transactions. */
import { Pool, type PoolClient, type QueryResultRow } from 'pg';

/** Anything that runs a parameterised query: the pool or a client inside a transaction. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

export interface Db extends Queryable {
  withTransaction<T>(work: (client: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PoolOptions {
  url: string;
  max?: number;
  onError?: (error: Error) => void;
}

/** Creates the pool. Idle-client errors (a server restart) are reported, not thrown. */
export function createDb({ url, max = 10, onError }: PoolOptions): Db {
  const pool = new Pool({ connectionString: url, max });
  pool.on('error', (error) => onError?.(error));
  return {
    query: (text, values) => pool.query(text, values),
    async withTransaction(work) {
      const client: PoolClient = await pool.connect();
      try {
        await client.query('begin');
        const result = await work(client);
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
