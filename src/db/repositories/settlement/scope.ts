/**
 * A bill run's scope, set-based inside PostgreSQL. Every settleable fact is already in the
 * settlement ledger with the period it settles in (migration 000012), so a run only groups the
 * merchants' unsettled rows up to the period and makes one statement per merchant; it copies
 * no line. A statement's lines are its merchant's ledger rows after its previous statement up
 * to its period (the statement_lines view), so a row belongs to exactly one statement: a
 * restarted run, a second run or two overlapping runs cannot settle anything twice.
 */
import type { Db } from '../../pool';

/** The line kinds derived from orders; adjustments and usage are appended as they come. */
export const SCOPE_KINDS = ['order', 'renewal', 'upgrade', 'refund'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];
export type LedgerKind = ScopeKind | 'adjustment' | 'usage';

export interface ScopeResult {
  period: string;
  /** Lines this computation put on statements, per kind. */
  added: Record<ScopeKind, number> & Partial<Record<LedgerKind, number>>;
  /** Every statement of the period (also those of an earlier computation). */
  statements: { statementNumber: string; merchantId: string }[];
}

/** The period's month in Beijing time, as the two bounds the views are compared with. */
const BOUNDS = `(($1::text || '01')::date)::timestamp at time zone 'Asia/Shanghai'`;

/**
 * The merchants' unsettled rows up to the period: those of the period itself, for merchants
 * with no statement of it or later (checked once per merchant, after grouping); and, per
 * merchant, rows of earlier months no run took (after its latest statement). Two index
 * ranges, never the whole ledger's history.
 */
const due = (period: string): string => `
  select g.merchant_id, g.kind, g.lines
    from (select l.merchant_id, l.kind, count(*)::int as lines
            from settlement_ledger l where l.settle_period = '${period}'
           group by l.merchant_id, l.kind) g
   where not exists (select 1 from statements s where s.merchant_id = g.merchant_id and s.period >= '${period}')
  union all
  select m.merchant_id, l.kind, count(*)::int
    from merchants m
    cross join lateral (select max(s.period) as period from statements s where s.merchant_id = m.merchant_id) latest
    join settlement_ledger l on l.merchant_id = m.merchant_id and l.settle_period < '${period}' and l.settle_period > coalesce(latest.period, '')
   group by m.merchant_id, l.kind`;

const PERIOD = /^[0-9]{4}(0[1-9]|1[0-2])$/;

/**
 * Computes a period's scope in one transaction. It takes the ledger's lock exclusively: every
 * transaction appending a fact holds it shared until it commits, so the run waits for facts
 * being written (none is missed), and facts written after it commits see its statements and
 * settle in a later period (none lands on a statement already made).
 */
export async function computeScope(db: Db, period: string, startedBy: string): Promise<ScopeResult> {
  if (!PERIOD.test(period)) throw new Error(`period ${JSON.stringify(period)} is not YYYYMM`);
  return db.withTransaction(async (q) => {
    await q.query(`select pg_advisory_xact_lock(hashtext('settlement-ledger'))`);
    await q.query(
      `insert into settlement_runs (period, period_start, period_end, started_by)
       values ($1::text, ${BOUNDS}, ${BOUNDS} + interval '1 month', $2::text)
       on conflict (period) do nothing`,
      [period, startedBy],
    );
    // Grouped apart from the statements' insert, so PostgreSQL may scan in parallel (a statement
    // that writes never does). The period is checked above: a utility statement takes no parameters.
    await q.query(`create temp table settlement_due on commit drop as ${due(period)}`);
    const counted = await q.query<{ kind: LedgerKind; lines: number }>(
      `with made as (
              insert into statements (statement_number, period, merchant_id, from_period)
              select 'ST' || $1::text || '-' || d.merchant_id, $1::text, d.merchant_id,
                     (select max(s.period) from statements s where s.merchant_id = d.merchant_id)
                from (select distinct merchant_id from settlement_due) d
              on conflict (period, merchant_id) do nothing
              returning merchant_id)
       select kind, sum(lines)::int as lines from settlement_due where merchant_id in (select merchant_id from made) group by kind`,
      [period],
    );
    await q.query(`update settlement_runs set computed_at = now() where period = $1::text`, [period]);
    const added: ScopeResult['added'] = { order: 0, renewal: 0, upgrade: 0, refund: 0 };
    for (const { kind, lines } of counted.rows) added[kind] = lines;
    const { rows } = await q.query<{ statementNumber: string; merchantId: string }>(
      `select statement_number as "statementNumber", merchant_id as "merchantId" from statements where period = $1::text order by merchant_id`,
      [period],
    );
    return { period, added, statements: rows };
  });
}
