/**
 * Dial tests (spec §1.6, §4): a product's saved debug cases, the results of every run, the
 * days they add up to, and the sanctions the dial tests imposed (migration 000013).
 */
import type { Queryable } from '../../pool';

export const dialTestCaseKinds = ['create', 'query', 'release'] as const;
export type DialTestCaseKind = (typeof dialTestCaseKinds)[number];

/**
 * A product's debug cases, replayed in this order with testFlag=1. A null instanceId means
 * the instance the run's own create answered; the release's order fields are sent only when set.
 */
export interface DialTestCases {
  create: { orderId: string; orderLineId: string };
  query: { instanceId: string | null };
  release: { instanceId: string | null; orderId: string | null; orderLineId: string | null };
}

/** The spec's mock orders of debug calls (§1.6), by the product's charging mode. */
const MOCK_ORDER_BY_CHARGING_MODE: Record<string, string> = {
  PERIOD: 'MOCKPERIODYEARNEW',
  ONE_TIME: 'MOCKONETIMENEW',
  ON_DEMAND: 'MOCKONDEMAND',
  ON_DEMAND_PKG: 'MOCKONDEMANDPKG',
};

/**
 * The cases of a product that has none saved: a create of the spec's mock order for its
 * charging mode (line `<id>-000001`), a query and a release of the instance that create answered.
 */
export function defaultDialTestCases(chargingMode: string): DialTestCases {
  const orderId = MOCK_ORDER_BY_CHARGING_MODE[chargingMode] ?? 'MOCKPERIODYEARNEW';
  return { create: { orderId, orderLineId: `${orderId}-000001` }, query: { instanceId: null }, release: { instanceId: null, orderId: null, orderLineId: null } };
}

export interface ProductDialTestCases {
  productId: string;
  merchantId: string;
  chargingMode: string;
  cases: DialTestCases;
  /** `saved` when someone saved them, `default` when derived from the product. */
  source: 'saved' | 'default';
  savedBy: string | null;
  savedAt: string | null;
}

/** The product's cases as a run uses them (saved, or the default); undefined when the merchant has no such product. */
export async function productDialTestCases(q: Queryable, ids: { merchantId: string; productId: string }): Promise<ProductDialTestCases | undefined> {
  const { rows } = await q.query<{ productId: string; merchantId: string; chargingMode: string; cases: DialTestCases | null; savedBy: string | null; savedAt: string | null }>(
    `select p.product_id as "productId", p.merchant_id as "merchantId", p.charging_mode as "chargingMode", c.cases,
            c.saved_by as "savedBy", to_char(c.saved_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "savedAt"
       from products p left join dial_test_cases c on c.product_id = p.product_id
      where p.product_id = $2::text and p.merchant_id = $1::text`,
    [ids.merchantId, ids.productId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return row.cases ? { ...row, cases: row.cases, source: 'saved' } : { ...row, cases: defaultDialTestCases(row.chargingMode), source: 'default' };
}

/** Saves (replaces) a product's cases. */
export async function saveDialTestCases(q: Queryable, s: { merchantId: string; productId: string; cases: DialTestCases; savedBy: string }): Promise<void> {
  await q.query(
    `insert into dial_test_cases (product_id, merchant_id, cases, saved_by) values ($1::text, $2::text, $3::jsonb, $4::text)
     on conflict (product_id) do update set cases = excluded.cases, saved_by = excluded.saved_by, saved_at = now()`,
    [s.productId, s.merchantId, JSON.stringify(s.cases), s.savedBy],
  );
}

export interface DialTestTarget {
  merchantId: string;
  productIds: string[];
}

/**
 * What a run dials, by merchant: every product on sale (spec §1.6: not while suspended or
 * delisted), and every product the dial tests themselves hid, so that a passing run can bring it
 * back; only of merchants that trade or whose trading is frozen. A page of merchants in id order.
 */
export async function dialTestTargets(q: Queryable, page: { afterMerchantId: string; limit: number }): Promise<DialTestTarget[]> {
  const { rows } = await q.query<DialTestTarget>(
    `select p.merchant_id as "merchantId", array_agg(p.product_id order by p.product_id) as "productIds"
       from products p join merchants m on m.merchant_id = p.merchant_id
      where m.listing_state in ('active', 'trading_frozen') and p.merchant_id > $1::text
        and (product_listing_state(p.listing_state, p.delisted_until) = 'on_sale'
             or (p.listing_state = 'hidden' and exists (select 1 from dial_test_sanctions s where s.product_id = p.product_id and s.lifted_run_id is null)))
      group by p.merchant_id
      order by p.merchant_id
      limit $2::int`,
    [page.afterMerchantId, page.limit],
  );
  return rows;
}

export interface DialTestResult {
  caseKind: DialTestCaseKind;
  ok: boolean;
  resultCode: string | null;
  latencyMs: number;
  error: string | null;
}

export interface DialTestRunOfProduct {
  runId: string;
  merchantId: string;
  productId: string;
  ranAt: string;
  /** The run's calendar day in Beijing time, YYYY-MM-DD. */
  day: string;
}

/** Records a product's results of a run, all or none; a repeat of the same run records nothing. */
export async function recordDialTestResults(q: Queryable, run: DialTestRunOfProduct, results: DialTestResult[]): Promise<void> {
  await q.query(
    `insert into dial_test_results (run_id, product_id, merchant_id, case_kind, ran_at, day, ok, result_code, latency_ms, error)
     select $1::text, $2::text, $3::text, r.case_kind, $4::timestamptz, $5::date, r.ok, r.result_code, r.latency_ms, r.error
       from jsonb_to_recordset($6::jsonb) as r(case_kind text, ok boolean, result_code text, latency_ms integer, error text)
     on conflict (run_id, product_id, case_kind) do nothing`,
    [
      run.runId,
      run.productId,
      run.merchantId,
      run.ranAt,
      run.day,
      JSON.stringify(results.map((r) => ({ case_kind: r.caseKind, ok: r.ok, result_code: r.resultCode, latency_ms: Math.max(0, Math.round(r.latencyMs)), error: r.error }))),
    ],
  );
}

/** A product's results of one run, in case order (empty when the run has not recorded them). */
export async function dialTestResultsOfRun(q: Queryable, runId: string, productId: string): Promise<DialTestResult[]> {
  const { rows } = await q.query<DialTestResult>(
    `select case_kind as "caseKind", ok, result_code as "resultCode", latency_ms as "latencyMs", error
       from dial_test_results where run_id = $1::text and product_id = $2::text
      order by array_position(array['create', 'query', 'release'], case_kind)`,
    [runId, productId],
  );
  return rows;
}

export interface DialTestDay {
  day: string;
  runs: number;
  passedRuns: number;
}

/**
 * A product's days up to `day` (included), newest first: how many runs it had and how many of
 * them passed (a run passes when every one of its cases did).
 */
export async function dialTestDays(q: Queryable, productId: string, day: string, limit: number): Promise<DialTestDay[]> {
  const { rows } = await q.query<DialTestDay>(
    `with runs as (
       select day, run_id, bool_and(ok) as passed from dial_test_results
        where product_id = $1::text and day <= $2::date group by day, run_id
     )
     select to_char(day, 'YYYY-MM-DD') as day, count(*)::int as runs, count(*) filter (where passed)::int as "passedRuns"
       from runs group by day order by day desc limit $3::int`,
    [productId, day, limit],
  );
  return rows;
}

export interface DialTestSanction {
  sanctionId: string;
  productId: string;
  merchantId: string;
  imposedRunId: string;
  imposedDay: string;
  failedDays: number;
  productHidden: boolean;
  merchantFrozen: boolean;
  liftedRunId: string | null;
  liftedDay: string | null;
}

const SANCTION_COLUMNS = `sanction_id::text as "sanctionId", product_id as "productId", merchant_id as "merchantId",
  imposed_run_id as "imposedRunId", to_char(imposed_day, 'YYYY-MM-DD') as "imposedDay", failed_days as "failedDays",
  product_hidden as "productHidden", merchant_frozen as "merchantFrozen", lifted_run_id as "liftedRunId",
  to_char(lifted_day, 'YYYY-MM-DD') as "liftedDay"`;

/** The product's latest sanction (open or lifted), if any. */
export async function latestDialTestSanction(q: Queryable, productId: string): Promise<DialTestSanction | undefined> {
  const { rows } = await q.query<DialTestSanction>(`select ${SANCTION_COLUMNS} from dial_test_sanctions where product_id = $1::text order by sanction_id desc limit 1`, [productId]);
  return rows[0];
}

export async function insertDialTestSanction(
  q: Queryable,
  s: Pick<DialTestSanction, 'productId' | 'merchantId' | 'imposedRunId' | 'imposedDay' | 'failedDays' | 'productHidden' | 'merchantFrozen'>,
): Promise<DialTestSanction> {
  const { rows } = await q.query<DialTestSanction>(
    `insert into dial_test_sanctions (product_id, merchant_id, imposed_run_id, imposed_day, failed_days, product_hidden, merchant_frozen)
     values ($1::text, $2::text, $3::text, $4::date, $5::int, $6::boolean, $7::boolean) returning ${SANCTION_COLUMNS}`,
    [s.productId, s.merchantId, s.imposedRunId, s.imposedDay, s.failedDays, s.productHidden, s.merchantFrozen],
  );
  return rows[0]!;
}

export async function liftDialTestSanction(q: Queryable, sanctionId: string, run: { runId: string; day: string }): Promise<void> {
  await q.query(`update dial_test_sanctions set lifted_run_id = $2::text, lifted_day = $3::date, lifted_at = now() where sanction_id = $1::bigint`, [sanctionId, run.runId, run.day]);
}

/** Whether another product of the merchant is still under a sanction that froze the merchant. */
export async function merchantStillFrozenByDialTests(q: Queryable, merchantId: string): Promise<boolean> {
  const { rows } = await q.query<{ frozen: boolean }>(
    `select exists (select 1 from dial_test_sanctions where merchant_id = $1::text and lifted_run_id is null and merchant_frozen) as frozen`,
    [merchantId],
  );
  return rows[0]?.frozen ?? false;
}

/** Who made the latest listing change of a merchant (productId null) or a product. */
export async function latestListingActor(q: Queryable, target: { merchantId: string; productId: string | null }): Promise<string | undefined> {
  const { rows } = await q.query<{ actor: string }>(
    `select actor from listing_changes
      where merchant_id = $1::text and product_id is not distinct from $2::text and target_type = case when $2::text is null then 'merchant' else 'product' end
      order by change_id desc limit 1`,
    [target.merchantId, target.productId],
  );
  return rows[0]?.actor;
}

export interface DialTestReport {
  days: DialTestDay[];
  results: Array<DialTestResult & { runId: string; day: string; ranAt: string }>;
  sanction: DialTestSanction | null;
}

/** A product's last `days` days of dial tests: the days, every result, and its latest sanction. */
export async function dialTestReport(q: Queryable, productId: string, days: number): Promise<DialTestReport> {
  const latest = await q.query<{ day: string }>(`select to_char(max(day), 'YYYY-MM-DD') as day from dial_test_results where product_id = $1::text`, [productId]);
  const newest = latest.rows[0]?.day;
  const dayRows = newest ? await dialTestDays(q, productId, newest, days) : [];
  const oldest = dayRows[dayRows.length - 1]?.day;
  const results = oldest
    ? (
        await q.query<DialTestReport['results'][number]>(
          `select run_id as "runId", to_char(day, 'YYYY-MM-DD') as day,
                  to_char(ran_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "ranAt",
                  case_kind as "caseKind", ok, result_code as "resultCode", latency_ms as "latencyMs", error
             from dial_test_results where product_id = $1::text and day >= $2::date
            order by ran_at desc, run_id, array_position(array['create', 'query', 'release'], case_kind)`,
          [productId, oldest],
        )
      ).rows
    : [];
  return { days: dayRows, results, sanction: (await latestDialTestSanction(q, productId)) ?? null };
}
