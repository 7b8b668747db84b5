/** A merchant's exit (spec §9.4): its row, timeline, the no-invoice proofs and the exit record. */
import type { Queryable } from '../../pool';
import type { ExitKind, ExitStep, ExitTimelineEntry, LiveSubscription } from '../../../workflows/governance/exit/messages';

const utc = (column: string): string => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

export interface ExitStartRow {
  exitId: string;
  merchantId: string;
  workflowId: string;
  kind: ExitKind;
  requestedBy: string;
  reason: string;
  penaltyId?: string;
}

/** Records the exit's start once (a retried activity finds its row). */
export async function insertExit(q: Queryable, e: ExitStartRow): Promise<void> {
  await q.query(
    `insert into merchant_exits (exit_id, merchant_id, workflow_id, kind, requested_by, reason, penalty_id, step)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, 'checking')
     on conflict (exit_id) do nothing`,
    [e.exitId, e.merchantId, e.workflowId, e.kind, e.requestedBy, e.reason, e.penaltyId ?? null],
  );
}

/** Writes the exit's step (and, when given, what blocks it), and appends the timeline entries, each once by its sequence number; answers the exit's merchant. */
export async function recordExitStep(
  q: Queryable,
  p: { exitId: string; step: ExitStep; blocking?: unknown; checkedAtMs?: number; ended?: boolean; entries?: Array<ExitTimelineEntry & { seq: number }> },
): Promise<{ merchantId: string } | undefined> {
  const { rows } = await q.query<{ merchantId: string }>(
    `update merchant_exits
        set step_since = case when step = $2::text then step_since else now() end, step = $2::text,
            blocking = coalesce($3::jsonb, blocking),
            last_checked_at = coalesce(to_timestamp($4::double precision / 1000), last_checked_at),
            ended_at = case when $5::boolean then coalesce(ended_at, now()) else ended_at end
      where exit_id = $1::text
      returning merchant_id as "merchantId"`,
    [p.exitId, p.step, p.blocking === undefined ? null : JSON.stringify(p.blocking), p.checkedAtMs ?? null, p.ended ?? false],
  );
  for (const entry of p.entries ?? []) {
    await q.query(
      `insert into exit_timeline (exit_id, seq, actor, action, reason, detail, at)
       values ($1::text, $2::int, $3::text, $4::text, $5::text, $6::jsonb, to_timestamp($7::double precision / 1000))
       on conflict (exit_id, seq) do nothing`,
      [p.exitId, entry.seq, entry.actor, entry.action, entry.reason ?? null, JSON.stringify(entry.detail ?? {}), entry.atMs],
    );
  }
  return rows[0];
}

/**
 * The merchant's live subscriptions (lines active or frozen) with their current paid term:
 * after a renewal, from the term before it ends to the instance's expiry, at the renewal's
 * amount (its order.renewed event's `amount`; without one, the line's price); before any, from
 * the payment to the expiry at the line's amount. A supervised line's term starts at its
 * validity start. No expiry (one-time, pay-per-use, packages): no end.
 */
export async function liveSubscriptionsOf(q: Queryable, merchantId: string): Promise<LiveSubscription[]> {
  const { rows } = await q.query<LiveSubscription & { expiresAtMs: number | null }>(
    `select l.order_id as "orderId", l.order_line_id as "orderLineId", l.product_id as "productId", o.customer_id as "customerId",
            o.currency, l.charging_mode as "chargingMode", l.workflow_id as "subscriptionWorkflowId",
            coalesce(ren.amount, l.amount)::text as "paidAmount",
            floor(extract(epoch from case when ren.term_end is null then coalesce(sup.validity_start, l.accepted_at)
                                          else coalesce(ren.previous_end, sup.validity_start, l.expire_time, l.accepted_at) end) * 1000)::float8 as "paidAtMs",
            floor(extract(epoch from coalesce(i.expire_time, ren.term_end, l.expire_time)) * 1000)::float8 as "expiresAtMs"
       from order_lines l
       join orders o on o.order_id = l.order_id
       left join lateral (select expire_time from instances i where i.workflow_id = l.workflow_id order by updated_at desc limit 1) i on true
       left join supervisions sup on sup.order_id = l.order_id and sup.order_line_id = l.order_line_id
       left join lateral (
         select term_end, previous_end, amount from (
           select (r.detail ->> 'expireTime')::timestamptz as term_end,
                  lag((r.detail ->> 'expireTime')::timestamptz) over (order by (r.detail ->> 'expireTime')::timestamptz) as previous_end,
                  (e.payload #>> '{data,amount}')::numeric as amount
             from subscription_orders r
             left join lateral (
               select payload from inbound_events e
                where e.workflow_id = r.workflow_id and e.event_type = 'order.renewed' and e.payload #>> '{data,orderId}' = r.order_id
                order by e.received_at limit 1
             ) e on true
            where r.workflow_id = l.workflow_id and r.kind = 'renewal' and r.status = 'completed' and r.detail ? 'expireTime'
         ) renewals
         order by term_end desc limit 1
       ) ren on true
      where o.merchant_id = $1::text and l.status in ('active', 'frozen')
      order by l.order_id, l.order_line_id, l.product_id`,
    [merchantId],
  );
  return rows.map(({ expiresAtMs, ...r }) => ({ ...r, ...(expiresAtMs === null ? {} : { expiresAtMs }) }));
}

/** Of these subscriptions, the ones whose instance is not released yet (nor their create failed). */
export async function unreleasedSubscriptions(q: Queryable, workflowIds: string[]): Promise<string[]> {
  const { rows } = await q.query<{ workflowId: string }>(
    `select distinct workflow_id as "workflowId" from order_lines
      where workflow_id = any($1::text[]) and status not in ('released', 'failed') order by "workflowId"`,
    [workflowIds],
  );
  return rows.map((r) => r.workflowId);
}

/** 清退: the merchant's credentials erased (access key and sync key); call under the merchant's row lock, beside its move to removed. */
export async function eraseMerchantCredentials(q: Queryable, merchantId: string): Promise<void> {
  await q.query(`update merchants set access_key_enc = '', sync_key_enc = null, updated_at = now() where merchant_id = $1::text`, [merchantId]);
}

/** Whether the merchant was removed at its exit: nothing is sent to it, and its requests are refused. */
export async function isMerchantRemoved(q: Queryable, merchantId: string): Promise<boolean> {
  const { rows } = await q.query<{ removed: boolean }>(`select listing_state = 'removed' as removed from merchants where merchant_id = $1::text`, [merchantId]);
  return rows[0]?.removed ?? false;
}

/** The stored exit: its start as recorded (a missing penalty read back as null), and where it stands. */
export interface ExitRow extends Omit<ExitStartRow, 'penaltyId'> {
  penaltyId: string | null;
  step: ExitStep;
  stepSince: string;
  blocking: unknown;
  lastCheckedAt: string | null;
  startedAt: string;
  endedAt: string | null;
  hasRecord: boolean;
}

/** The merchant's latest exit, as stored. */
export async function latestExit(q: Queryable, merchantId: string): Promise<ExitRow | undefined> {
  const { rows } = await q.query<ExitRow>(
    `select exit_id as "exitId", merchant_id as "merchantId", workflow_id as "workflowId", kind, requested_by as "requestedBy", reason,
            penalty_id as "penaltyId", step, ${utc('step_since')} as "stepSince", blocking, ${utc('last_checked_at')} as "lastCheckedAt",
            ${utc('started_at')} as "startedAt", ${utc('ended_at')} as "endedAt", record is not null as "hasRecord"
       from merchant_exits where merchant_id = $1::text order by started_at desc, exit_id desc limit 1`,
    [merchantId],
  );
  return rows[0];
}

export async function exitTimeline(q: Queryable, exitId: string): Promise<Array<{ at: string; actor: string; action: string; reason: string | null; detail: unknown }>> {
  const { rows } = await q.query<{ at: string; actor: string; action: string; reason: string | null; detail: unknown }>(
    `select ${utc('at')} as at, actor, action, reason, detail from exit_timeline where exit_id = $1::text order by seq`,
    [exitId],
  );
  return rows;
}

/** The latest exit record of the merchant (the JSON document), if one was written. */
export async function latestExitRecord(q: Queryable, merchantId: string): Promise<unknown> {
  const { rows } = await q.query<{ record: unknown }>(
    `select record from merchant_exits where merchant_id = $1::text and record is not null order by started_at desc, exit_id desc limit 1`,
    [merchantId],
  );
  return rows[0]?.record;
}

export async function saveExitRecord(q: Queryable, exitId: string, record: unknown): Promise<void> {
  await q.query(`update merchant_exits set record = $2::jsonb where exit_id = $1::text`, [exitId, JSON.stringify(record)]);
}

/** What the exit record holds of the settlement: the merchant's statements with their totals and lines, and their invoices. */
export async function settlementForRecord(q: Queryable, merchantId: string): Promise<{ statements: unknown[]; invoices: unknown[] }> {
  const statements = await q.query(
    `select s.statement_number as "statementNumber", s.period, s.step, pr.request_number as "paymentRequestNumber",
            coalesce((select jsonb_agg(jsonb_build_object('currency', t.currency, 'taxRate', t.tax_rate::text, 'amount', t.amount::text) order by t.currency, t.tax_rate)
                        from (select currency, tax_rate, sum(amount) as amount from statement_lines where statement_number = s.statement_number group by currency, tax_rate) t), '[]'::jsonb) as totals,
            coalesce((select jsonb_agg(jsonb_build_object('kind', l.kind, 'orderId', l.order_id, 'orderLineId', l.order_line_id, 'productId', l.product_id,
                                                          'amount', l.amount::text, 'currency', l.currency, 'refundOrderId', l.refund_order_id) order by l.line_id)
                        from statement_lines l where l.statement_number = s.statement_number), '[]'::jsonb) as lines
       from statements s left join payment_requests pr on pr.statement_number = s.statement_number
      where s.merchant_id = $1::text order by s.period`,
    [merchantId],
  );
  const invoices = await q.query(
    `select i.invoice_number as "invoiceNumber", i.request_number as "requestNumber", i.tax_rate::text as "taxRate", i.amount::text as amount,
            i.currency, i.remarks, ${utc('i.uploaded_at')} as "uploadedAt"
       from invoices i join payment_requests pr on pr.request_number = i.request_number join statements s on s.statement_number = pr.statement_number
      where s.merchant_id = $1::text order by i.uploaded_at, i.invoice_number`,
    [merchantId],
  );
  return { statements: statements.rows, invoices: invoices.rows };
}

export async function noInvoiceProofsForRecord(q: Queryable, merchantId: string): Promise<unknown[]> {
  const { rows } = await q.query(
    `select order_id as "orderId", file_name as "fileName", sha256, uploaded_by as "uploadedBy", ${utc('uploaded_at')} as "uploadedAt"
       from exit_no_invoice_proofs where merchant_id = $1::text order by order_id`,
    [merchantId],
  );
  return rows;
}

export interface NoInvoiceProof {
  merchantId: string;
  orderId: string;
  fileName: string;
  contentType: string;
  sha256: string;
  content: Buffer;
  uploadedBy: string;
}

/** Stores the customer's no-invoice agreement for an order of the merchant; a new upload replaces the earlier one. Undefined when the order is not the merchant's. */
export async function saveNoInvoiceProof(q: Queryable, p: NoInvoiceProof): Promise<{ uploadedAt: string } | undefined> {
  const { rows } = await q.query<{ uploadedAt: string }>(
    `insert into exit_no_invoice_proofs (merchant_id, order_id, file_name, content_type, size_bytes, sha256, content, uploaded_by)
     select $1::text, o.order_id, $3::text, $4::text, $5::int, $6::text, $7::bytea, $8::text from orders o
      where o.order_id = $2::text and o.merchant_id = $1::text
     on conflict (merchant_id, order_id) do update
       set file_name = excluded.file_name, content_type = excluded.content_type, size_bytes = excluded.size_bytes, sha256 = excluded.sha256,
           content = excluded.content, uploaded_by = excluded.uploaded_by, uploaded_at = now()
     returning ${utc('uploaded_at')} as "uploadedAt"`,
    [p.merchantId, p.orderId, p.fileName, p.contentType, p.content.length, p.sha256, p.content, p.uploadedBy],
  );
  return rows[0];
}

/** The running exit of the merchant a statement belongs to, if any: a paid statement may clear its no-unsettled-order precondition. */
export async function runningExitOfStatement(q: Queryable, statementNumber: string): Promise<{ merchantId: string; workflowId: string } | undefined> {
  const { rows } = await q.query<{ merchantId: string; workflowId: string }>(
    `select e.merchant_id as "merchantId", e.workflow_id as "workflowId"
       from statements s join merchant_exits e on e.merchant_id = s.merchant_id and e.ended_at is null
      where s.statement_number = $1::text
      order by e.started_at desc limit 1`,
    [statementNumber],
  );
  return rows[0];
}
