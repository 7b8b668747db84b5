/**
 * What a request wrote to PostgreSQL, seen from outside: for every table of the schema
 * (read from information_schema, so a table added later is covered without a change here),
 * its row count and the newest row version's transaction id (`max(xmin)`). An insert or a
 * delete changes the count; an insert or an update (even one that sets the same values)
 * gives a row a new, higher xmin. A transaction that was rolled back leaves neither. Each
 * snapshot is one query; the fuzz takes one before and one after every request.
 */
import type { Db } from '../../../src/db/pool';

export interface TableState {
  rows: number;
  /** Transaction id of the newest row version, 0 when the table is empty. */
  newest: number;
}

export type Snapshot = Readonly<Record<string, TableState>>;

export interface WriteWatch {
  tables: readonly string[];
  snapshot(): Promise<Snapshot>;
}

const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export async function watchWrites(db: Db): Promise<WriteWatch> {
  const { rows } = await db.query<{ table_name: string }>(
    `select table_name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE'
      order by table_name`,
  );
  const tables = rows.map((r) => r.table_name);
  if (!tables.includes('inbound_events') || !tables.includes('operator_actions')) {
    throw new Error(`the schema's tables were not found (got ${tables.join(', ') || 'none'}): is TEST_DATABASE_URL migrated?`);
  }
  const sql = tables
    .map((t, i) => `select ${i} as i, count(*)::int as n, coalesce(max(xmin::text::bigint), 0)::bigint::text as x from ${quoteIdent(t)}`)
    .join(' union all ');
  return {
    tables,
    async snapshot() {
      const result = await db.query<{ i: number; n: number; x: string }>(sql);
      const state: Record<string, TableState> = {};
      for (const row of result.rows) state[tables[row.i]!] = { rows: row.n, newest: Number(row.x) };
      return state;
    },
  };
}

/** The tables whose rows changed between two snapshots, with how: `orders: 3→4 rows`, `merchants: updated`. */
export function changes(before: Snapshot, after: Snapshot): string[] {
  const changed: string[] = [];
  for (const [table, was] of Object.entries(before)) {
    const now = after[table];
    if (!now) continue;
    if (now.rows !== was.rows) changed.push(`${table}: ${was.rows}→${now.rows} rows`);
    else if (now.newest !== was.newest) changed.push(`${table}: rows written (xmin ${was.newest}→${now.newest})`);
  }
  return changed;
}
