/**
 * Idempotency of the webhook: every event is stored under its webhook-id, with the answer
 * once it was delivered. A redelivery of an answered event gets the stored answer and
 * causes nothing; one whose delivery failed (503) is delivered now.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../../db/pool';
import { completeInboundEvent, insertInboundEvent, type InboundEventRow } from '../../db/repositories/ingress/inbound-events';
import { AppError } from '../errors';
import type { AcceptedEvent, Answer } from './handlers';

export interface StoredEvent {
  /** When the event was first stored. */
  acceptedAt: Date;
  /** The answer given before, when this is a redelivery of an answered event. */
  answer?: Answer;
}

const sha256 = (body: Buffer): string => createHash('sha256').update(body).digest('hex');

/**
 * Stores the event and the handler's writes, all or nothing: in one statement when the
 * handler offers one (`storeWithEvent`), else in one transaction. 409 when the webhook-id
 * was used before for another payload: then nothing is written.
 */
export async function storeEvent(
  db: Db,
  e: { eventId: string; eventType: string; payload: unknown; body: Buffer; accepted: AcceptedEvent },
): Promise<StoredEvent> {
  const payloadSha256 = sha256(e.body);
  const event = { eventId: e.eventId, eventType: e.eventType, payload: e.payload, payloadSha256, workflowId: e.accepted.workflowId };
  // A known webhook-id with another payload: the insert did nothing, and the handler's writes
  // are not made (inside a transaction, this throw rolls them back).
  const refuseReuse = (result: { inserted: boolean; row: InboundEventRow }): InboundEventRow => {
    if (!result.inserted && result.row.payloadSha256 !== payloadSha256) {
      throw new AppError(409, 'event_id_reused', `webhook-id ${e.eventId} was already used for a different payload`);
    }
    return result.row;
  };
  const { store, storeWithEvent } = e.accepted;
  // One statement where possible: an event alone, or one whose handler stores it with its
  // writes, needs no transaction (and saves the BEGIN and COMMIT round trips).
  let recorded: InboundEventRow;
  if (storeWithEvent) recorded = refuseReuse(await storeWithEvent(db, event));
  else if (store) {
    recorded = await db.withTransaction(async (tx) => {
      const result = await insertInboundEvent(tx, event);
      const row = refuseReuse(result);
      await store(tx, { eventId: e.eventId, firstTime: result.inserted, acceptedAt: row.receivedAt });
      return row;
    });
  } else recorded = refuseReuse(await insertInboundEvent(db, event));
  const answered = recorded.responseStatus !== null;
  return { acceptedAt: recorded.receivedAt, ...(answered ? { answer: { status: recorded.responseStatus as number, body: recorded.responseBody } } : {}) };
}

/** Stores the answer, which every redelivery of the event gets from now on. */
export async function storeAnswer(db: Db, eventId: string, answer: Answer): Promise<void> {
  await completeInboundEvent(db, eventId, answer.status, answer.body);
}
