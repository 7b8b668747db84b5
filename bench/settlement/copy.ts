/**
 * Seeding with COPY. The project has no COPY FROM STDIN client (pg alone cannot stream one),
 * so the rows are written to a tab-separated file that the PostgreSQL server reads itself with
 * `COPY … FROM '<file>'`. That needs the server on this machine, able to read the file, and a
 * role allowed to read server files (the embedded server's superuser is).
 */
import { once } from 'node:events';
import { chmodSync, createWriteStream } from 'node:fs';
import path from 'node:path';
import type { Queryable } from '../../src/db/pool';

/** Rows are written a chunk at a time, so the Node process never holds the table. */
const CHUNK = 10_000;

/** Writes `count` rows made by `row(i)` (1-based) to `dir/<table>.tsv` and COPYs them into `table`. */
export async function copyRows(q: Queryable, dir: string, table: string, columns: string[], count: number, row: (i: number) => string[]): Promise<void> {
  const file = path.join(dir, `${table}.tsv`);
  const out = createWriteStream(file);
  for (let start = 1; start <= count; start += CHUNK) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(start + CHUNK, count + 1); i += 1) lines.push(row(i).join('\t'));
    if (!out.write(`${lines.join('\n')}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  // The server may run as another system account (as root, embedded PostgreSQL runs as postgres).
  chmodSync(file, 0o644);
  await q.query(`copy ${table} (${columns.join(', ')}) from '${file.replace(/'/g, "''")}'`);
}
