/**
 * bench:settlement — a bill run's scope over N order lines against a bare `GROUP BY merchant`
 * aggregate over the same rows, on the same PostgreSQL, in one run; prints both and the ratio.
 *
 *   BENCH_LINES (default 200000)   order lines, spread over BENCH_MERCHANTS (default 1000)
 *   DATABASE_URL                   a PostgreSQL of yours (a fresh database is created on it);
 *                                  otherwise an embedded one in a scratch directory
 *
 * The rows are seeded inside PostgreSQL with INSERT … SELECT over generate_series. The scope
 * runs in the database (one transaction, one INSERT … SELECT per line kind), so the Node
 * process's memory does not grow with N: its RSS before and after is printed.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recreateDatabaseOn } from '../../src/dev/databases';
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres';
import { migrate } from '../../src/db/migrate';
import { createDb, type Db } from '../../src/db/pool';
import { computeScope } from '../../src/db/repositories/settlement/scope';

const LINES = Number(process.env.BENCH_LINES ?? 200_000);
const MERCHANTS = Number(process.env.BENCH_MERCHANTS ?? 1000);
const PERIOD = '202611';

async function seed(db: Db): Promise<void> {
  await db.query(
    `insert into merchants (merchant_id, name, production_url, protocol_version, access_key_enc, bank_account, tax_id)
     select 'BM' || g, 'bench ' || g, 'https://m' || g || '.example.com/p', 'v2', 'x', '6222' || g, '91110000MA' || lpad(g::text, 8, '0')
       from generate_series(1, $1::int) g`,
    [MERCHANTS],
  );
  await db.query(
    `insert into products (product_id, merchant_id, name, charging_mode, retention_days)
     select 'BP' || g, 'BM' || g, 'p', 'ONE_TIME', 15 from generate_series(1, $1::int) g`,
    [MERCHANTS],
  );
  await db.query(
    `insert into orders (order_id, merchant_id, customer_id, order_type, currency)
     select 'BO' || g, 'BM' || (1 + g % $2::int), 'C' || g, 'NEW', 'CNY' from generate_series(1, $1::int) g`,
    [LINES, MERCHANTS],
  );
  await db.query(
    `insert into order_lines (order_id, order_line_id, product_id, sku_code, charging_mode, amount, workflow_id, status, accepted_at)
     select 'BO' || g, 'BO' || g || '-000001', 'BP' || (1 + g % $2::int), 'SKU', 'ONE_TIME', (g % 997) + 0.5,
            'subscription:BO' || g, 'active', timestamptz '2026-11-02 10:00:00+08' + (g % 20) * interval '1 day'
       from generate_series(1, $1::int) g`,
    [LINES, MERCHANTS],
  );
  await db.query('analyze');
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = process.hrtime.bigint();
  const result = await work();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, result };
}

const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MB`;

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'saas-fulfillment-bench-settlement-'));
  chmodSync(scratch, 0o755);
  const postgres = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir: path.join(scratch, 'postgres'), persistent: false });
  const url = process.env.DATABASE_URL
    ? await recreateDatabaseOn(process.env.DATABASE_URL, 'saas_fulfillment_bench_settlement')
    : (await postgres!.recreateDatabase('saas_fulfillment_bench_settlement'), postgres!.urlFor('saas_fulfillment_bench_settlement'));
  await migrate(url);
  const db = createDb({ url, max: 2 });
  try {
    const seeding = await timed(() => seed(db));
    console.log(`seeded ${LINES} order lines of ${MERCHANTS} merchants in ${(seeding.ms / 1000).toFixed(1)} s (PostgreSQL ${postgres ? 'embedded' : 'from DATABASE_URL'})`);

    const bare = await timed(() =>
      db.query(`select p.merchant_id, sum(l.amount) from order_lines l join products p on p.product_id = l.product_id group by p.merchant_id`),
    );
    const rssBefore = process.memoryUsage().rss;
    const run = await timed(() => computeScope(db, PERIOD, 'bench'));
    const rssAfter = process.memoryUsage().rss;
    const settled = Object.values(run.result.added).reduce((a, b) => a + b, 0);
    if (settled !== LINES) throw new Error(`the bill run settled ${settled} lines, expected ${LINES}`);

    console.log(`bare GROUP BY merchant:   ${bare.ms.toFixed(0)} ms (${bare.result.rowCount} merchants)`);
    console.log(`bill run scope:           ${run.ms.toFixed(0)} ms, ${run.result.statements.length} statements, ${Math.round(LINES / (run.ms / 1000))} lines/s`);
    console.log(`ratio bill run / bare:    ${(run.ms / bare.ms).toFixed(1)}×`);
    console.log(`node RSS around the run:  ${mb(rssBefore)} → ${mb(rssAfter)}`);
  } finally {
    await db.close();
    await postgres?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
