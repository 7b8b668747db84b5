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

/**
 * Records an accepted webhook. When the id was seen before, the earlier row comes back
 * instead (`inserted: false`) so the caller can answer as it did the first time.
 */
export async function insertInboundEvent(
  q: Queryable,
  e: { eventId: string; eventType: string; payload: unknown; payloadSha256: string; workflowId: string },
): Promise<{ inserted: boolean; row: InboundEventRow }> {
  const inserted = await q.query<InboundEventRow>(
    `insert into inbound_events (event_id, event_type, payload, payload_sha256, workflow_id)
     values ($1::text, $2::text, $3::jsonb, $4::text, $5::text)
     on conflict (event_id) do nothing
     returning event_id as "eventId", event_type as "eventType", payload_sha256 as "payloadSha256",
               workflow_id as "workflowId", response_status as "responseStatus", response_body as "responseBody", received_at as "receivedAt"`,
    [e.eventId, e.eventType, JSON.stringify(e.payload), e.payloadSha256, e.workflowId],
  );
  if (inserted.rows[0]) return { inserted: true, row: inserted.rows[0] };
  const existing = await q.query<InboundEventRow>(
    `select event_id as "eventId", event_type as "eventType", payload_sha256 as "payloadSha256",
            workflow_id as "workflowId", response_status as "responseStatus", response_body as "responseBody", received_at as "receivedAt"
       from inbound_events where event_id = $1::text`,
    [e.eventId],
  );
  const row = existing.rows[0];
  if (!row) throw new Error(`inbound event ${e.eventId} vanished between insert and select`);
  return { inserted: false, row };
}

/** Stores the answer once the event reached its workflow. */
export async function completeInboundEvent(q: Queryable, eventId: string, status: number, body: unknown): Promise<void> {
  await q.query(
    `update inbound_events set response_status = $2::int, response_body = $3::jsonb, processed_at = now()
      where event_id = $1::text`,
    [eventId, status, JSON.stringify(body)],
  );
}
