/** Statements, their lines and totals, and the merchant's business information. */
import type { Queryable } from '../../pool';

export type StatementStep = 'draft' | 'held' | 'review' | 'countersign' | 'payment-request' | 'invoicing' | 'verification' | 'payment' | 'paid';

export interface StatementLineView {
  kind: string;
  orderId: string;
  orderLineId: string;
  productId: string;
  skuCode: string;
  amount: string;
  currency: string;
  taxRate: string;
  effectiveAt: string;
  refundOrderId: string | null;
}

export interface StatementTotal {
  currency: string;
  taxRate: string;
  amount: string;
}

export interface StatementView {
  statementNumber: string;
  period: string;
  merchantId: string;
  step: StatementStep;
  holdReason: string | null;
  stepSince: string;
  paymentRequestNumber: string | null;
  /** One total per currency and tax rate: what the invoices must add up to. */
  totals: StatementTotal[];
  lines: StatementLineView[];
}

const ISO = (column: string): string => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export async function recordStatementStep(q: Queryable, statementNumber: string, step: StatementStep, holdReason: string | null): Promise<void> {
  await q.query(
    `update statements set step = $2::text, hold_reason = $3::text, step_since = case when step = $2::text then step_since else now() end
      where statement_number = $1::text`,
    [statementNumber, step, holdReason],
  );
}

export async function statementTotals(q: Queryable, statementNumber: string): Promise<StatementTotal[]> {
  const { rows } = await q.query<StatementTotal>(
    `select currency, tax_rate::text as "taxRate", sum(amount)::text as amount
       from statement_lines where statement_number = $1::text group by currency, tax_rate order by currency, tax_rate`,
    [statementNumber],
  );
  return rows;
}

/** A statement with its lines; with `merchantId`, only when it is that merchant's. */
export async function findStatement(q: Queryable, statementNumber: string, merchantId?: string): Promise<StatementView | undefined> {
  const head = await q.query<Omit<StatementView, 'totals' | 'lines'>>(
    `select s.statement_number as "statementNumber", s.period, s.merchant_id as "merchantId", s.step, s.hold_reason as "holdReason",
            ${ISO('s.step_since')} as "stepSince", r.request_number as "paymentRequestNumber"
       from statements s left join payment_requests r on r.statement_number = s.statement_number
      where s.statement_number = $1::text and ($2::text is null or s.merchant_id = $2::text)`,
    [statementNumber, merchantId ?? null],
  );
  const row = head.rows[0];
  if (!row) return undefined;
  const lines = await q.query<StatementLineView>(
    `select kind, order_id as "orderId", order_line_id as "orderLineId", product_id as "productId", sku_code as "skuCode",
            amount::text as amount, currency, tax_rate::text as "taxRate", ${ISO('effective_at')} as "effectiveAt", refund_order_id as "refundOrderId"
       from statement_lines where statement_number = $1::text order by order_id, order_line_id, product_id, line_id`,
    [statementNumber],
  );
  return { ...row, totals: await statementTotals(q, statementNumber), lines: lines.rows };
}

export interface PeriodSummary {
  period: string;
  computedAt: string | null;
  statements: { statementNumber: string; merchantId: string; step: StatementStep; lines: number; totals: StatementTotal[] }[];
}

/** A statement `s`'s line count and totals per currency and tax rate, as columns. */
const LINES_AND_TOTALS = `(select count(*)::int from statement_lines l where l.statement_number = s.statement_number) as lines,
            coalesce((select json_agg(json_build_object('currency', t.currency, 'taxRate', t.tax_rate::text, 'amount', t.amount::text) order by t.currency, t.tax_rate)
                        from (select currency, tax_rate, sum(amount) as amount from statement_lines l
                               where l.statement_number = s.statement_number group by currency, tax_rate) t), '[]'::json) as totals`;

export async function periodSummary(q: Queryable, period: string): Promise<PeriodSummary | undefined> {
  const run = await q.query<{ computedAt: string | null }>(`select ${ISO('computed_at')} as "computedAt" from settlement_runs where period = $1::text`, [period]);
  if (!run.rows[0]) return undefined;
  const { rows } = await q.query<PeriodSummary['statements'][number]>(
    `select s.statement_number as "statementNumber", s.merchant_id as "merchantId", s.step,
            ${LINES_AND_TOTALS}
       from statements s where s.period = $1::text order by s.merchant_id`,
    [period],
  );
  return { period, computedAt: run.rows[0].computedAt, statements: rows };
}

export type MerchantStatementItem = Omit<StatementView, 'merchantId' | 'lines'> & { lines: number };

/** One merchant's statements, newest period first; with `period`, that period's only. */
export async function merchantStatements(q: Queryable, merchantId: string, period?: string): Promise<MerchantStatementItem[]> {
  const { rows } = await q.query<MerchantStatementItem>(
    `select s.statement_number as "statementNumber", s.period, s.step, s.hold_reason as "holdReason", ${ISO('s.step_since')} as "stepSince",
            r.request_number as "paymentRequestNumber", ${LINES_AND_TOTALS}
       from statements s left join payment_requests r on r.statement_number = s.statement_number
      where s.merchant_id = $1::text and ($2::text is null or s.period = $2::text)
      order by s.period desc`,
    [merchantId, period ?? null],
  );
  return rows;
}

/** What a statement lacks of its merchant's business information (spec §9.2), or nothing. */
export async function missingBusinessInfo(q: Queryable, merchantId: string): Promise<string[]> {
  const { rows } = await q.query<{ bankAccount: string | null; taxId: string | null }>(
    `select bank_account as "bankAccount", tax_id as "taxId" from merchants where merchant_id = $1::text`,
    [merchantId],
  );
  const m = rows[0];
  if (!m) return ['merchant'];
  return [...(m.bankAccount ? [] : ['bankAccount']), ...(m.taxId ? [] : ['taxId'])];
}

/** Sets a merchant's business information; false when the merchant is unknown. */
export async function saveBusinessInfo(q: Queryable, merchantId: string, info: { bankAccount: string; taxId: string }): Promise<boolean> {
  const { rowCount } = await q.query(
    `update merchants set bank_account = $2::text, tax_id = $3::text, updated_at = now() where merchant_id = $1::text`,
    [merchantId, info.bankAccount, info.taxId],
  );
  return (rowCount ?? 0) > 0;
}

/** Statements of a merchant held for missing business information. */
export async function heldStatements(q: Queryable, merchantId: string): Promise<string[]> {
  const { rows } = await q.query<{ statementNumber: string }>(
    `select statement_number as "statementNumber" from statements where merchant_id = $1::text and step = 'held' order by period`,
    [merchantId],
  );
  return rows.map((r) => r.statementNumber);
}

/** Creates the statement's 申付单 once; a repeat returns the first number. */
export async function createPaymentRequest(q: Queryable, statementNumber: string): Promise<string> {
  const { rows } = await q.query<{ requestNumber: string }>(
    `with created as (
       insert into payment_requests (request_number, statement_number)
       select 'SF' || s.period || lpad(nextval('payment_request_seq')::text, 6, '0'), s.statement_number
         from statements s where s.statement_number = $1::text
           and not exists (select 1 from payment_requests r where r.statement_number = s.statement_number)
       on conflict (statement_number) do nothing
       returning request_number)
     select request_number as "requestNumber" from created
     union all
     select request_number from payment_requests where statement_number = $1::text
     limit 1`,
    [statementNumber],
  );
  const number = rows[0]?.requestNumber;
  if (!number) throw new Error(`statement ${statementNumber} does not exist`);
  return number;
}
