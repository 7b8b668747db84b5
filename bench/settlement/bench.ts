/**
 * The settlement benchmark: N paid order lines seeded with COPY, made effective by one UPDATE
 * (the ledger's trigger appends their facts, set-based), then the period's bill run timed
 * against bare `GROUP BY merchant` aggregates over the same rows. The run happens inside
 * PostgreSQL, so the Node process (what the worker's activity runs in) must stay flat: its RSS
 * is sampled before, during and after.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { recreateDatabaseOn } from '../../src/dev/databases';
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres';
import { migrate } from '../../src/db/migrate';
import { createDb, type Db } from '../../src/db/pool';
import { computeScope } from '../../src/db/repositories/settlement/scope';
import { copyRows } from './copy';

export interface SettlementBenchOptions {
  lines: number;
  merchants: number;
}

const PERIOD = '202611';

async function seed(db: Db, dir: string, { lines, merchants }: SettlementBenchOptions): Promise<void> {
  await copyRows(db, dir, 'merchants', ['merchant_id', 'name', 'production_url', 'protocol_version', 'access_key_enc', 'bank_account', 'tax_id'], merchants, (m) => [
    `BM${m}`,
    `bench ${m}`,
    `https://m${m}.example.com/p`,
    'v2',
    'x',
    `6222${m}`,
    `91110000MA${String(m).padStart(8, '0')}`,
  ]);
  await copyRows(db, dir, 'products', ['product_id', 'merchant_id', 'name', 'charging_mode', 'retention_days'], merchants, (m) => [`BP${m}`, `BM${m}`, 'p', 'ONE_TIME', '15']);
  await copyRows(db, dir, 'orders', ['order_id', 'merchant_id', 'customer_id', 'order_type', 'currency'], lines, (i) => [`BO${i}`, `BM${1 + (i % merchants)}`, `C${i}`, 'NEW', 'CNY']);
  // Paid and accepted in November 2026 (Beijing), still provisioning: no fact yet.
  await copyRows(
    db,
    dir,
    'order_lines',
    ['order_id', 'order_line_id', 'product_id', 'sku_code', 'charging_mode', 'amount', 'workflow_id', 'status', 'accepted_at'],
    lines,
    (i) => [`BO${i}`, `BO${i}-000001`, `BP${1 + (i % merchants)}`, 'SKU', 'ONE_TIME', `${(i % 997) + 0.5}`, `subscription:BO${i}`, 'provisioning', `2026-11-${String(2 + (i % 20)).padStart(2, '0')} 10:00:00+08`],
  );
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = process.hrtime.bigint();
  const result = await work();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, result };
}

/** The query twice, the first to warm the cache, the second timed. */
async function warmTimed(db: Db, sql: string, values: unknown[] = []): Promise<{ ms: number; rows: number }> {
  await db.query(sql, values);
  const { ms, result } = await timed(() => db.query(sql, values));
  return { ms, rows: result.rowCount ?? 0 };
}

/** Samples the process's RSS while `work` runs: before, the highest seen, and after. */
async function withRss<T>(work: () => Promise<T>): Promise<{ before: number; peak: number; after: number; result: T }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    const result = await work();
    const after = process.memoryUsage().rss;
    return { before, peak: Math.max(peak, after), after, result };
  } finally {
    clearInterval(sampler);
  }
}

const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MB`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const label = (text: string): string => text.padEnd(44);

export async function benchSettlement(options: SettlementBenchOptions): Promise<void> {
  const { lines, merchants } = options;
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'saas-fulfillment-bench-settlement-'));
  chmodSync(scratch, 0o755);
  const postgres = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir: path.join(scratch, 'postgres'), persistent: false });
  const url = process.env.DATABASE_URL
    ? await recreateDatabaseOn(process.env.DATABASE_URL, 'saas_fulfillment_bench_settlement')
    : (await postgres!.recreateDatabase('saas_fulfillment_bench_settlement'), postgres!.urlFor('saas_fulfillment_bench_settlement'));
  await migrate(url);
  const db = createDb({ url, max: 2 });
  try {
    console.log(`# Settlement bill run (PostgreSQL ${postgres ? 'embedded' : 'from DATABASE_URL'})`);
    const seeding = await timed(() => seed(db, scratch, options));
    console.log(`${label('seeded with COPY (orders, lines, merchants)')} ${lines} lines of ${merchants} merchants in ${seconds(seeding.ms)}`);
    // The lines take effect in one statement: the ledger's statement trigger appends their facts.
    const effect = await timed(() => db.query(`update order_lines set status = 'active', updated_at = now()`));
    const ledgered = await db.query<{ n: number }>(`select count(*)::int as n from settlement_ledger where settle_period = $1::text`, [PERIOD]);
    console.log(`${label('lines taking effect (ledger appended)')} ${ledgered.rows[0]?.n} facts in ${seconds(effect.ms)}`);
    await db.query('vacuum analyze');

    const bareLines = await warmTimed(db, `select p.merchant_id, sum(l.amount) from order_lines l join products p on p.product_id = l.product_id group by p.merchant_id`);
    const bareLedger = await warmTimed(db, `select merchant_id, sum(amount) from settlement_ledger where settle_period = $1::text group by merchant_id`, [PERIOD]);
    const run = await withRss(() => timed(() => computeScope(db, PERIOD, 'bench')));
    const settled = Object.values(run.result.result.added).reduce((a, b) => a + b, 0);
    if (settled !== lines) throw new Error(`the bill run settled ${settled} lines, expected ${lines}`);
    const again = await timed(() => computeScope(db, PERIOD, 'bench'));
    const settledAgain = Object.values(again.result.added).reduce((a, b) => a + b, 0);
    const totals = await db.query<{ sum: string }>(`select sum(amount)::text as sum from statement_lines where statement_number like $1::text`, [`ST${PERIOD}-%`]);
    const expected = await db.query<{ sum: string }>(`select sum(amount)::text as sum from order_lines`);
    if (totals.rows[0]?.sum !== expected.rows[0]?.sum) throw new Error(`statement lines add up to ${totals.rows[0]?.sum}, the order lines to ${expected.rows[0]?.sum}`);

    const runMs = run.result.ms;
    console.log(`${label('bare GROUP BY merchant, order lines')} ${bareLines.ms.toFixed(0)} ms (${bareLines.rows} merchants)`);
    console.log(`${label('bare GROUP BY merchant, ledger rows')} ${bareLedger.ms.toFixed(0)} ms (${bareLedger.rows} merchants)`);
    console.log(`${label('bill run')} ${runMs.toFixed(0)} ms, ${settled} lines, ${run.result.result.statements.length} statements`);
    console.log(`${label('bill run lines/s')} ${Math.round(lines / (runMs / 1000)).toLocaleString('en')}`);
    console.log(`${label('ratio bill run / bare, order lines')} ${(runMs / bareLines.ms).toFixed(2)}×`);
    console.log(`${label('ratio bill run / bare, ledger rows')} ${(runMs / bareLedger.ms).toFixed(2)}×`);
    console.log(`${label('the run again (restart)')} ${again.ms.toFixed(0)} ms, ${settledAgain} lines settled twice`);
    console.log(`${label('Node RSS before / peak / after the run')} ${mb(run.before)} / ${mb(run.peak)} / ${mb(run.after)}`);
  } finally {
    await db.close();
    await postgres?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}
