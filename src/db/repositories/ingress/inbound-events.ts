import type { Queryable } from '../../pool';

export interface InboundEventRow {
  eventId: string;
  eventType: string;
  payloadSha256: string;
  workflowId: string | null;
  responseStatus: number | null;
  responseBody: unknown;
  receivedAt: Date;
}

/** An accepted webhook as it is stored. */
export interface InboundEventInsert {
  eventId: string;
  eventType: string;
  payload: unknown;
  payloadSha256: string;
  workflowId: string;
}

/** The columns `record_inbound_event` (and the functions built on it) return, as InboundEventRow reads them. */
export const INBOUND_EVENT_COLUMNS = `inserted, event_type as "eventType", payload_sha256 as "payloadSha256", workflow_id as "workflowId",
  response_status as "responseStatus", response_body as "responseBody", received_at as "receivedAt"`;

/**
 * Records an accepted webhook in one round trip. When the id was seen before, the earlier
 * row comes back instead (`inserted: false`) so the caller can answer as it did the first time.
 */
export async function insertInboundEvent(q: Queryable, e: InboundEventInsert): Promise<{ inserted: boolean; row: InboundEventRow }> {
  const { rows } = await q.query<InboundEventRow & { inserted: boolean }>(
    `select ${INBOUND_EVENT_COLUMNS} from record_inbound_event($1::text, $2::text, $3::jsonb, $4::text, $5::text)`,
    [e.eventId, e.eventType, JSON.stringify(e.payload), e.payloadSha256, e.workflowId],
  );
  return splitInserted(rows[0], e.eventId);
}

/** `{ inserted, row }` from a row of INBOUND_EVENT_COLUMNS (the event id is the caller's). */
export function splitInserted(result: (Omit<InboundEventRow, 'eventId'> & { inserted: boolean }) | undefined, eventId: string): { inserted: boolean; row: InboundEventRow } {
  if (!result) throw new Error(`inbound event ${eventId} vanished between insert and select`);
  const { inserted, ...row } = result;
  return { inserted, row: { ...row, eventId } };
}

/** Stores the answer once the event reached its workflow. */
export async function completeInboundEvent(q: Queryable, eventId: string, status: number, body: unknown): Promise<void> {
  await q.query(
    `update inbound_events set response_status = $2::int, response_body = $3::jsonb, processed_at = now()
      where event_id = $1::text`,
    [eventId, status, JSON.stringify(body)],
  );
}
