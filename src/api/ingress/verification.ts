/**
 * The webhook's signature (Standard Webhooks), checked on the raw bytes before anything in
 * the body is read: a request that fails it gets 401 and nothing else.
 */
import type { Request } from 'express';
import { verifyWebhook } from '../../platform/security/standard-webhooks';
import { AppError } from '../errors';

export interface WebhookSettings {
  secret: string;
  toleranceSeconds: number;
}

/** Longer ids are refused: the id is a primary key and appears in every message the event causes. */
const MAX_EVENT_ID_LENGTH = 200;

/** The webhook-id of a correctly signed, fresh request; 401 otherwise. */
export function verifiedEventId(req: Request, body: Buffer, webhook: WebhookSettings): string {
  const headers = { 'webhook-id': req.get('webhook-id'), 'webhook-timestamp': req.get('webhook-timestamp'), 'webhook-signature': req.get('webhook-signature') };
  const verified = verifyWebhook({ secret: webhook.secret, toleranceSeconds: webhook.toleranceSeconds, body, headers });
  if (!verified.ok) throw new AppError(401, 'invalid_signature', `webhook signature rejected: ${verified.reason}`);
  const eventId = headers['webhook-id'] as string;
  if (eventId.length > MAX_EVENT_ID_LENGTH) {
    const reason = `at most ${MAX_EVENT_ID_LENGTH} characters`;
    throw new AppError(400, 'invalid_request', `webhook-id: ${reason}`, [{ field: 'webhook-id', reason }]);
  }
  return eventId;
}
