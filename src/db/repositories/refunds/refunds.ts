/**
 * Refund requests and their decisions (migration 000010): one `refunds` row per refund order,
 * at most one pending or approved per order line, and every step taken on it in
 * `refund_decisions` (the order's timeline shows them).
 */
import type { Queryable } from '../../pool';

export type RefundStatus = 'pending' | 'approved' | 'refused';
export type RefundDecisionStep = 'requested' | 'rules' | 'merchant_answer' | 'invoice_requested' | 'verdict';
export type RefundActorType = 'customer' | 'merchant' | 'operator' | 'marketplace';

export interface RefundRequestRow {
  refundOrderId: string;
  orderId: string;
  orderLineId: string;
  merchantId: string;
  customerId: string;
  origin: 'customer' | 'merchant_exit';
  kind: 'full' | 'negotiated' | 'merchant_exit';
  proposedAmount?: string;
  paidAmount: string;
  currency: string;
  workflowId: string;
  eventId: string;
  requestedAtMs: number;
}

/** One step of a refund, as the timeline shows it; `seq` is the workflow's own count, so a retry writes nothing twice. */
export interface RefundDecisionEntry {
  seq: number;
  step: RefundDecisionStep;
  outcome: string;
  reason: string;
  rule?: string;
  amount?: string;
  actorType: RefundActorType;
  actorId: string;
  atMs: number;
}

/** How a refund ended: the row's status, the amount refunded when approved, the rule when refused. */
export interface RefundVerdict {
  status: 'approved' | 'refused';
  amount?: string;
  rule?: string;
  atMs: number;
}

export type InsertRefundResult =
  | { kind: 'inserted' }
  /** The refund order is known: for the same line, a repeat; for another line, a reuse of its id. */
  | { kind: 'exists'; orderId: string; orderLineId: string }
  /** Another refund of the line is pending or approved. */
  | { kind: 'line-has-live-refund'; liveRefundOrderId: string };

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Inserts the request as pending, unless its refund order is known or its line already has a
 * live refund (the partial unique index decides, so two concurrent requests cannot both pass).
 */
export async function insertRefundRequest(q: Queryable, r: RefundRequestRow, status: { refusedBy?: string } = {}): Promise<InsertRefundResult> {
  const refused = status.refusedBy !== undefined;
  const inserted = await q.query(
    `insert into refunds (refund_order_id, order_id, order_line_id, merchant_id, customer_id, origin, kind, proposed_amount, paid_amount,
                          status, rule, decided_at, currency, workflow_id, event_id, requested_at)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::numeric, $9::numeric,
             $10::text, $11::text, case when $10::text = 'refused' then $14::timestamptz end, $12::text, $13::text, $15::text, $14::timestamptz)
     on conflict do nothing`,
    [
      r.refundOrderId,
      r.orderId,
      r.orderLineId,
      r.merchantId,
      r.customerId,
      r.origin,
      r.kind,
      r.proposedAmount ?? null,
      r.paidAmount,
      refused ? 'refused' : 'pending',
      status.refusedBy ?? null,
      r.currency,
      r.workflowId,
      iso(r.requestedAtMs),
      r.eventId,
    ],
  );
  if (inserted.rowCount === 1) return { kind: 'inserted' };
  const { rows } = await q.query<{ refundOrderId: string; orderId: string; orderLineId: string }>(
    `select refund_order_id as "refundOrderId", order_id as "orderId", order_line_id as "orderLineId" from refunds
      where refund_order_id = $1::text
         or (order_id = $2::text and order_line_id = $3::text and status in ('pending', 'approved'))
      order by (refund_order_id = $1::text) desc limit 1`,
    [r.refundOrderId, r.orderId, r.orderLineId],
  );
  const found = rows[0];
  if (!found) throw new Error(`refund ${r.refundOrderId} was neither inserted nor in conflict with a row`);
  if (found.refundOrderId === r.refundOrderId) return { kind: 'exists', orderId: found.orderId, orderLineId: found.orderLineId };
  return { kind: 'line-has-live-refund', liveRefundOrderId: found.refundOrderId };
}

/** The refund's steps, and its verdict when it has one (only a pending refund takes a verdict). */
export async function recordRefundSteps(q: Queryable, refundOrderId: string, entries: readonly RefundDecisionEntry[], verdict?: RefundVerdict): Promise<void> {
  for (const e of entries) {
    await q.query(
      `insert into refund_decisions (refund_order_id, seq, step, outcome, reason, rule, amount, actor_type, actor_id, at)
       values ($1::text, $2::int, $3::text, $4::text, $5::text, $6::text, $7::numeric, $8::text, $9::text, $10::timestamptz)
       on conflict (refund_order_id, seq) do nothing`,
      [refundOrderId, e.seq, e.step, e.outcome, e.reason, e.rule ?? null, e.amount ?? null, e.actorType, e.actorId, iso(e.atMs)],
    );
  }
  if (verdict) {
    await q.query(
      `update refunds set status = $2::text, amount = $3::numeric, rule = $4::text, decided_at = $5::timestamptz, updated_at = now()
        where refund_order_id = $1::text and status = 'pending'`,
      [refundOrderId, verdict.status, verdict.amount ?? null, verdict.rule ?? null, iso(verdict.atMs)],
    );
  }
}

export interface RefundRow {
  refundOrderId: string;
  orderId: string;
  orderLineId: string;
  merchantId: string;
  customerId: string;
  origin: string;
  kind: string;
  proposedAmount: string | null;
  paidAmount: string;
  status: RefundStatus;
  amount: string | null;
  currency: string;
  rule: string | null;
  workflowId: string;
  requestedAt: string;
  decidedAt: string | null;
}

export interface RefundDecisionRow {
  refundOrderId: string;
  seq: number;
  step: RefundDecisionStep;
  outcome: string;
  reason: string;
  rule: string | null;
  amount: string | null;
  actorType: RefundActorType;
  actorId: string;
  at: string;
}

const TS = (column: string): string => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const REFUND_COLUMNS = `refund_order_id as "refundOrderId", order_id as "orderId", order_line_id as "orderLineId", merchant_id as "merchantId",
  customer_id as "customerId", origin, kind, proposed_amount::text as "proposedAmount", paid_amount::text as "paidAmount", status,
  amount::text as amount, currency, rule, workflow_id as "workflowId", ${TS('requested_at')} as "requestedAt", ${TS('decided_at')} as "decidedAt"`;

/** One refund; with `merchantId`, only that merchant's. */
export async function findRefund(q: Queryable, refundOrderId: string, merchantId?: string): Promise<RefundRow | undefined> {
  const { rows } = await q.query<RefundRow>(`select ${REFUND_COLUMNS} from refunds where refund_order_id = $1::text and ($2::text is null or merchant_id = $2::text)`, [
    refundOrderId,
    merchantId ?? null,
  ]);
  return rows[0];
}

/** The refunds of an order, oldest request first. */
export async function refundsOfOrder(q: Queryable, orderId: string): Promise<RefundRow[]> {
  const { rows } = await q.query<RefundRow>(`select ${REFUND_COLUMNS} from refunds where order_id = $1::text order by requested_at, refund_order_id`, [orderId]);
  return rows;
}

/** Whether an order.paid brought the order (an order without refunds is known, and has none). */
export async function orderExists(q: Queryable, orderId: string): Promise<boolean> {
  const { rowCount } = await q.query(`select 1 from orders where order_id = $1::text`, [orderId]);
  return rowCount === 1;
}

/** The latest refund requested of an order line, of one merchant. */
export async function latestRefundOfLine(q: Queryable, orderId: string, orderLineId: string, merchantId: string): Promise<RefundRow | undefined> {
  const { rows } = await q.query<RefundRow>(
    `select ${REFUND_COLUMNS} from refunds where order_id = $1::text and order_line_id = $2::text and merchant_id = $3::text
      order by requested_at desc, created_at desc limit 1`,
    [orderId, orderLineId, merchantId],
  );
  return rows[0];
}

/** The steps of the given refunds, each refund's in order. */
export async function refundDecisions(q: Queryable, refundOrderIds: readonly string[]): Promise<RefundDecisionRow[]> {
  if (refundOrderIds.length === 0) return [];
  const { rows } = await q.query<RefundDecisionRow>(
    `select refund_order_id as "refundOrderId", seq, step, outcome, reason, rule, amount::text as amount, actor_type as "actorType", actor_id as "actorId",
            ${TS('at')} as at
       from refund_decisions where refund_order_id = any($1::text[]) order by refund_order_id, seq`,
    [refundOrderIds],
  );
  return rows;
}

export type RefundWithDecisions = RefundRow & { decisions: Omit<RefundDecisionRow, 'refundOrderId'>[] };

/** The refunds given, each with its decisions in order: what the routes and the order's timeline show. */
export async function withDecisions(q: Queryable, refunds: readonly RefundRow[]): Promise<RefundWithDecisions[]> {
  const decisions = await refundDecisions(q, refunds.map((r) => r.refundOrderId));
  return refunds.map((r) => ({
    ...r,
    decisions: decisions.filter((d) => d.refundOrderId === r.refundOrderId).map(({ refundOrderId: _id, ...d }) => d),
  }));
}
