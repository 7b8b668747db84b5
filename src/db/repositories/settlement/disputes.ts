/**
 * Disputes of statement lines (migration 000011): opened by the merchant on a sent
 * statement, decided once by an operator. A confirmed difference is appended to the ledger
 * by the caller, in the same transaction as the decision (ledger.ts).
 */
import type { Queryable } from '../../pool';
import type { StatementStep } from './statements';

export type DisputeStatus = 'open' | 'confirmed' | 'rejected';
export const DISPUTABLE_KINDS = ['order', 'renewal', 'upgrade', 'refund'] as const;
export type DisputableKind = (typeof DISPUTABLE_KINDS)[number];

/** A line as a statement shows it: kind, order, order line and product name it. */
export interface LineKey {
  kind: DisputableKind;
  orderId: string;
  orderLineId: string;
  productId: string;
}

export interface DisputedLine extends LineKey {
  skuCode: string;
  amount: string;
  currency: string;
  taxRate: string;
}

export interface DisputeView {
  disputeId: string;
  statementNumber: string;
  merchantId: string;
  line: DisputedLine;
  claimedAmount: string;
  /** The claim less the line's amount: what the merchant says it is owed (negative: it owes). */
  claimedDifference: string;
  reason: string;
  status: DisputeStatus;
  confirmedDifference: string | null;
  decisionReason: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  /** The adjustment line a confirmation appended: its ledger row and the period it settles in. */
  adjustment: { ledgerId: string; period: string } | null;
  createdAt: string;
}

const ISO = (column: string): string => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const COLUMNS = `d.dispute_id as "disputeId", d.statement_number as "statementNumber", d.merchant_id as "merchantId",
  d.line_kind as kind, d.order_id as "orderId", d.order_line_id as "orderLineId", d.product_id as "productId", d.sku_code as "skuCode",
  d.line_amount::text as amount, d.currency, d.tax_rate::text as "taxRate", d.claimed_amount::text as "claimedAmount",
  (d.claimed_amount - d.line_amount)::text as "claimedDifference", d.reason, d.status, d.confirmed_difference::text as "confirmedDifference",
  d.decision_reason as "decisionReason", d.decided_by as "decidedBy", ${ISO('d.decided_at')} as "decidedAt",
  d.adjustment_ledger_id::text as "adjustmentLedgerId", d.adjustment_period as "adjustmentPeriod", ${ISO('d.created_at')} as "createdAt"`;

type DisputeRow = Omit<DisputeView, 'line' | 'adjustment'> & DisputedLine & { adjustmentLedgerId: string | null; adjustmentPeriod: string | null };

function view(r: DisputeRow): DisputeView {
  const { kind, orderId, orderLineId, productId, skuCode, amount, currency, taxRate, adjustmentLedgerId, adjustmentPeriod, ...rest } = r;
  return {
    ...rest,
    line: { kind, orderId, orderLineId, productId, skuCode, amount, currency, taxRate },
    adjustment: adjustmentLedgerId && adjustmentPeriod ? { ledgerId: adjustmentLedgerId, period: adjustmentPeriod } : null,
  };
}

/** The line of the statement with this key, if the statement has it. */
export async function statementLine(q: Queryable, statementNumber: string, key: LineKey): Promise<DisputedLine | undefined> {
  const { rows } = await q.query<DisputedLine>(
    `select kind, order_id as "orderId", order_line_id as "orderLineId", product_id as "productId", sku_code as "skuCode",
            amount::text as amount, currency, tax_rate::text as "taxRate"
       from statement_lines
      where statement_number = $1::text and kind = $2::text and order_id = $3::text and order_line_id = $4::text and product_id = $5::text`,
    [statementNumber, key.kind, key.orderId, key.orderLineId, key.productId],
  );
  return rows[0];
}

export interface NewDispute {
  statementNumber: string;
  period: string;
  merchantId: string;
  line: DisputedLine;
  claimedAmount: string;
  reason: string;
}

/** Opens a dispute; undefined when the line already has an open one. */
export async function openDispute(q: Queryable, d: NewDispute): Promise<DisputeView | undefined> {
  const { rows } = await q.query<{ disputeId: string }>(
    `insert into statement_disputes (dispute_id, statement_number, merchant_id, line_kind, order_id, order_line_id, product_id, sku_code,
                                     line_amount, currency, tax_rate, claimed_amount, reason)
     values ('DP' || $1::text || lpad(nextval('statement_dispute_seq')::text, 6, '0'), $2::text, $3::text, $4::text, $5::text, $6::text,
             $7::text, $8::text, $9::numeric, $10::text, $11::numeric, $12::numeric, $13::text)
     on conflict (statement_number, line_kind, order_id, order_line_id, product_id) where status = 'open' do nothing
     returning dispute_id as "disputeId"`,
    [d.period, d.statementNumber, d.merchantId, d.line.kind, d.line.orderId, d.line.orderLineId, d.line.productId, d.line.skuCode,
      d.line.amount, d.line.currency, d.line.taxRate, d.claimedAmount, d.reason],
  );
  const created = rows[0];
  return created ? findDispute(q, created.disputeId) : undefined;
}

/** One dispute; with `merchantId`, only when it is that merchant's; `lock` takes its row lock. */
export async function findDispute(q: Queryable, disputeId: string, options: { merchantId?: string; lock?: boolean } = {}): Promise<DisputeView | undefined> {
  const { rows } = await q.query<DisputeRow>(
    `select ${COLUMNS} from statement_disputes d
      where d.dispute_id = $1::text and ($2::text is null or d.merchant_id = $2::text) ${options.lock ? 'for update' : ''}`,
    [disputeId, options.merchantId ?? null],
  );
  return rows[0] ? view(rows[0]) : undefined;
}

export interface DisputeFilter {
  status?: DisputeStatus;
  statementNumber?: string;
  merchantId?: string;
  limit: number;
}

/** Disputes, oldest first, filtered by status, statement or merchant. */
export async function listDisputes(q: Queryable, f: DisputeFilter): Promise<DisputeView[]> {
  const { rows } = await q.query<DisputeRow>(
    `select ${COLUMNS} from statement_disputes d
      where ($1::text is null or d.status = $1::text) and ($2::text is null or d.statement_number = $2::text)
        and ($3::text is null or d.merchant_id = $3::text)
      order by d.created_at, d.dispute_id limit $4::int`,
    [f.status ?? null, f.statementNumber ?? null, f.merchantId ?? null, f.limit],
  );
  return rows.map(view);
}

export type DisputeDecision =
  | { status: 'confirmed'; difference: string; reason: string; actor: string; adjustment: { ledgerId: string; period: string } }
  | { status: 'rejected'; reason: string; actor: string };

/** Records the decision of an open dispute; false when it was no longer open. */
export async function decideDispute(q: Queryable, disputeId: string, d: DisputeDecision): Promise<boolean> {
  const confirmed = d.status === 'confirmed' ? d : undefined;
  const { rowCount } = await q.query(
    `update statement_disputes set status = $2::text, confirmed_difference = $3::numeric, decision_reason = $4::text, decided_by = $5::text,
            decided_at = now(), adjustment_ledger_id = $6::bigint, adjustment_period = $7::text
      where dispute_id = $1::text and status = 'open'`,
    [disputeId, d.status, confirmed?.difference ?? null, d.reason, d.actor, confirmed?.adjustment.ledgerId ?? null, confirmed?.adjustment.period ?? null],
  );
  return (rowCount ?? 0) > 0;
}

export interface StatementHead {
  statementNumber: string;
  period: string;
  merchantId: string;
  step: StatementStep;
}

/** A statement without its lines; with `merchantId`, only when it is that merchant's. */
export async function statementHead(q: Queryable, statementNumber: string, merchantId?: string): Promise<StatementHead | undefined> {
  const { rows } = await q.query<StatementHead>(
    `select statement_number as "statementNumber", period, merchant_id as "merchantId", step from statements
      where statement_number = $1::text and ($2::text is null or merchant_id = $2::text)`,
    [statementNumber, merchantId ?? null],
  );
  return rows[0];
}
