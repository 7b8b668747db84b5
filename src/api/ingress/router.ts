/**
 * POST /v1/marketplace/events: the order system's signed webhooks.
 *
 *   raw body → signature (401) → envelope: JSON, no NUL characters, a known type (400)
 *   → the type's handler: its data (400), what the event names (422, 409)
 *   → stored under its webhook-id with the handler's writes, in one transaction
 *   → delivered to its workflow (503 when Temporal does not answer) → the stored answer.
 *
 * Nothing is written before the request is known to be good. A redelivery of a webhook-id
 * that was answered gets the same answer and no second effect; a redelivery of one whose
 * delivery failed (503) finishes the job.
 */
import express, { Router } from 'express';
import type { Db } from '../../db/pool';
import { AppError, WorkflowEngineUnavailable, workflowEngineUnavailable } from '../errors';
import { envelopeReader } from './envelope';
import type { AcceptedEvent, Answer, DeliveryContext, EventTable } from './handlers';
import { storeAnswer, storeEvent } from './inbound-store';
import { verifiedEventId, type WebhookSettings } from './verification';

export interface MarketplaceEventDeps {
  db: Db;
  webhook: WebhookSettings;
  /** Every event type the API takes, with its handler. */
  events: EventTable;
}

export function createMarketplaceEventRouter({ db, webhook, events }: MarketplaceEventDeps): Router {
  const readEnvelope = envelopeReader(Object.keys(events));
  const router = Router();
  router.post('/v1/marketplace/events', express.raw({ type: () => true, limit: '256kb' }), async (req, res) => {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const eventId = verifiedEventId(req, body, webhook);
    refuseOtherCharsets(req.get('content-type'));
    const { type, data, json } = readEnvelope(body);
    const accepted = await events[type]!.accept(data);
    const stored = await storeEvent(db, { eventId, eventType: type, payload: json, body, accepted });
    const answer = stored.answer ?? (await deliver(db, accepted, { eventId, acceptedAtMs: stored.acceptedAt.getTime() }));
    if (accepted.location) res.set('Location', accepted.location);
    res.status(answer.status).json(answer.body);
  });
  return router;
}

/** Webhooks are read as UTF-8 (so US-ASCII too); a body declared in another charset would be stored garbled: 415. */
function refuseOtherCharsets(contentType: string | undefined): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset && !['utf-8', 'utf8', 'us-ascii'].includes(charset)) {
    throw new AppError(415, 'charset_unsupported', `unsupported charset "${charset.toUpperCase()}"; send UTF-8`);
  }
}

/** Delivers the event and stores the answer; when Temporal does not answer, 503 and nothing stored. */
async function deliver(db: Db, accepted: AcceptedEvent, context: DeliveryContext): Promise<Answer> {
  let answer: Answer;
  try {
    answer = await accepted.deliver(context);
  } catch (error) {
    if (error instanceof WorkflowEngineUnavailable) throw workflowEngineUnavailable('retry the delivery', error.cause);
    throw error;
  }
  await storeAnswer(db, context.eventId, answer);
  return answer;
}
