/** sync_events: every accepted tenant sync event, what its Kit calls need, and how far it got. */
import type { Queryable } from '../../pool';
import type { SyncEventKind } from '../../../protocol/kit';

export type { SyncEventKind };
export type SyncEventStatus = 'pending' | 'synced' | 'failed' | 'skipped';

export interface SyncEventRecord {
  eventId: string;
  workflowId: string;
  kind: SyncEventKind;
  flag?: number;
  /** The Kit fields of the event (users, tenant fields…), never the clientSecret. */
  payload: Record<string, unknown>;
  secretEnc?: string;
  calls: number;
  acceptedAt: Date;
}

/** Stores the event once; a redelivery changes nothing. */
export async function insertSyncEvent(q: Queryable, e: SyncEventRecord): Promise<void> {
  await q.query(
    `insert into sync_events (event_id, workflow_id, kind, flag, payload, secret_enc, calls, accepted_at)
     values ($1::text, $2::text, $3::text, $4::smallint, $5::jsonb, $6::text, $7::int, $8::timestamptz)
     on conflict (event_id) do nothing`,
    [e.eventId, e.workflowId, e.kind, e.flag ?? null, JSON.stringify(e.payload), e.secretEnc ?? null, e.calls, e.acceptedAt],
  );
}

export interface StoredSyncEvent {
  eventId: string;
  workflowId: string;
  kind: SyncEventKind;
  flag: number | null;
  payload: Record<string, unknown>;
  secretEnc: string | null;
  calls: number;
}

export async function findSyncEvent(q: Queryable, eventId: string): Promise<StoredSyncEvent | undefined> {
  const { rows } = await q.query<StoredSyncEvent>(
    `select event_id as "eventId", workflow_id as "workflowId", kind, flag, payload, secret_enc as "secretEnc", calls
       from sync_events where event_id = $1::text`,
    [eventId],
  );
  return rows[0];
}

/**
 * One call of the event is done: `synced` after its last call, unless a call of it was
 * skipped (then it stays `skipped`: the merchant does not hold all of it).
 */
export async function markCallDone(q: Queryable, eventId: string, call: number): Promise<void> {
  await q.query(
    `update sync_events
        set calls_done = greatest(calls_done, $2::int),
            status = case when status = 'skipped' then 'skipped' when $2::int >= calls then 'synced' else 'pending' end,
            last_error = case when status = 'skipped' then last_error else null end,
            updated_at = now()
      where event_id = $1::text`,
    [eventId, call + 1],
  );
}

export async function markCallFailed(q: Queryable, eventId: string, error: string): Promise<void> {
  await q.query(`update sync_events set status = 'failed', last_error = $2::text, updated_at = now() where event_id = $1::text and status <> 'skipped'`, [
    eventId,
    error.slice(0, 2048),
  ]);
}

/** An operator skipped a failed call of the event: who and why go with it. */
export async function markCallSkipped(q: Queryable, eventId: string, call: number, skippedBy: string, reason: string): Promise<void> {
  await q.query(
    `update sync_events
        set status = 'skipped', calls_done = greatest(calls_done, $2::int), last_error = $3::text, updated_at = now()
      where event_id = $1::text`,
    [eventId, call + 1, `call ${call + 1} skipped by ${skippedBy}: ${reason}`.slice(0, 2048)],
  );
}

export interface SyncEventView {
  eventId: string;
  kind: SyncEventKind;
  flag: number | null;
  calls: number;
  callsDone: number;
  status: SyncEventStatus;
  lastError: string | null;
  acceptedAt: string;
}

/** The workflow's latest events, newest first. */
export async function listSyncEvents(q: Queryable, workflowId: string, limit = 20): Promise<SyncEventView[]> {
  const { rows } = await q.query<SyncEventView>(
    `select event_id as "eventId", kind, flag, calls, calls_done as "callsDone", status, last_error as "lastError",
            to_char(accepted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "acceptedAt"
       from sync_events where workflow_id = $1::text
      order by accepted_at desc, event_id desc limit $2::int`,
    [workflowId, limit],
  );
  return rows;
}

/**
 * Blanks the clientSecret in the stored webhook of one event, in the transaction that stores
 * it: the secret is kept only encrypted, in sync_events.
 */
export async function blankStoredClientSecret(q: Queryable, eventId: string): Promise<void> {
  await q.query(
    `update inbound_events
        set payload = jsonb_set(payload, '{data,clientSecret}', '"(stored encrypted in sync_events)"'::jsonb)
      where event_id = $1::text and (payload -> 'data') ? 'clientSecret'`,
    [eventId],
  );
}
