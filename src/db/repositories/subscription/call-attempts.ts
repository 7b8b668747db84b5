import type { Queryable } from '../../pool';
import type { MerchantCallOutcome } from '../../../protocol/outcome';

export interface CallAttemptRecord {
  /** Unique per attempt (uuid from the workflow), so a retried write is not a second row. */
  attemptId: string;
  workflowId: string;
  orderId: string;
  orderLineId: string;
  merchantId: string;
  scenario: string;
  attempt: number;
  businessId?: string;
  outcome: MerchantCallOutcome;
}

/** Everything about an attempt but its outcome: what the workflow hands a merchant call so that the call records itself. */
export type AttemptContext = Omit<CallAttemptRecord, 'outcome'>;

/** Records one merchant call; a retried write of the same attempt is ignored. */
export async function insertCallAttempt(q: Queryable, a: CallAttemptRecord): Promise<void> {
  const o = a.outcome;
  await q.query(
    `insert into call_attempts (attempt_id, workflow_id, order_id, order_line_id, merchant_id, scenario, activity, attempt,
                                business_id, outcome, result_code, result_msg, http_status, latency_ms, error, started_at)
     values ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::int, $9::text, $10::text, $11::text,
             $12::text, $13::int, $14::int, $15::text, to_timestamp($16::double precision / 1000))
     on conflict (attempt_id) do nothing`,
    [
      a.attemptId,
      a.workflowId,
      a.orderId,
      a.orderLineId,
      a.merchantId,
      a.scenario,
      o.activity,
      a.attempt,
      a.businessId ?? null,
      o.kind,
      o.resultCode ?? null,
      o.resultMsg?.slice(0, 1024) ?? null,
      o.httpStatus ?? null,
      Math.round(o.latencyMs),
      o.error?.slice(0, 2048) ?? null,
      o.startedAtMs,
    ],
  );
}

export interface CallAttemptView {
  time: string;
  scenario: string;
  activity: string;
  attempt: number;
  orderLineId: string;
  outcome: string;
  resultCode: string | null;
  resultMsg: string | null;
  httpStatus: number | null;
  latencyMs: number;
  error: string | null;
}

/** The timeline of every merchant call made for an order, oldest first. */
export async function listCallAttempts(q: Queryable, orderId: string): Promise<CallAttemptView[]> {
  const { rows } = await q.query<CallAttemptView>(
    `select to_char(started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as time, scenario, activity, attempt,
            order_line_id as "orderLineId", outcome, result_code as "resultCode", result_msg as "resultMsg",
            http_status as "httpStatus", latency_ms as "latencyMs", error
       from call_attempts where order_id = $1::text
      order by started_at, recorded_at`,
    [orderId],
  );
  return rows;
}
