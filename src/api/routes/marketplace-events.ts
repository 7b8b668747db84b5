/**
 * POST /v1/marketplace/events: the order system's signed webhooks.
 *
 * raw body → Standard Webhooks signature (401) → JSON and zod (400) → merchant and product
 * known (422) → inbound_events row keyed by webhook-id, with the order line, in one
 * transaction → signal-with-start → the stored answer (202).
 *
 * Nothing is written before the request is known to be good. A repeat of a webhook-id that
 * was answered gets the same answer and no second effect; a repeat of one whose workflow
 * start failed (503) finishes the job.
 */
import { createHash } from 'node:crypto';
import express, { Router } from 'express';
import type { Db } from '../../db/pool';
import { completeInboundEvent, insertInboundEvent } from '../../db/repositories/inbound-events';
import { findMerchant, findProduct } from '../../db/repositories/merchants';
import { insertPaidOrderLine } from '../../db/repositories/orders';
import { verifyWebhook } from '../../security/standard-webhooks';
import { subscriptionKey, subscriptionWorkflowId } from '../../shared/ids';
import type { PaidOrder } from '../../shared/types';
import type { SubscriptionGateway } from '../../temporal/subscriptions';
import { AppError, invalidInput } from '../errors';
import { marketplaceEventSchema, type OrderPaidData } from '../schemas';

export interface MarketplaceEventDeps {
  db: Db;
  gateway: SubscriptionGateway;
  webhook: { secret: string; toleranceSeconds: number };
}

const sha256 = (body: Buffer): string => createHash('sha256').update(body).digest('hex');

export function createMarketplaceEventRouter({ db, gateway, webhook }: MarketplaceEventDeps): Router {
  const router = Router();
  router.post('/v1/marketplace/events', express.raw({ type: () => true, limit: '256kb' }), async (req, res) => {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const verified = verifyWebhook({
      secret: webhook.secret,
      toleranceSeconds: webhook.toleranceSeconds,
      body,
      headers: {
        'webhook-id': req.get('webhook-id'),
        'webhook-timestamp': req.get('webhook-timestamp'),
        'webhook-signature': req.get('webhook-signature'),
      },
    });
    if (!verified.ok) throw new AppError(401, 'invalid_signature', `webhook signature rejected: ${verified.reason}`);
    const eventId = req.get('webhook-id') as string;
    if (eventId.length > 200) throw new AppError(400, 'invalid_request', 'webhook-id: at most 200 characters', [{ field: 'webhook-id', reason: 'at most 200 characters' }]);

    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new AppError(400, 'invalid_json', 'request body is not valid JSON');
    }
    const parsed = marketplaceEventSchema.safeParse(json);
    if (!parsed.success) throw invalidInput(parsed.error);
    const event = parsed.data;

    const order = await toPaidOrder(db, event.data);
    const workflowId = subscriptionWorkflowId(subscriptionKey(order));
    const payloadSha256 = sha256(body);

    const recorded = await db.withTransaction(async (tx) => {
      const result = await insertInboundEvent(tx, { eventId, eventType: event.type, payload: json, payloadSha256, workflowId });
      if (result.inserted) await insertPaidOrderLine(tx, order, workflowId, result.row.receivedAt);
      return result;
    });
    if (!recorded.inserted) {
      if (recorded.row.payloadSha256 !== payloadSha256) {
        throw new AppError(409, 'event_id_reused', `webhook-id ${eventId} was already used for a different payload`);
      }
      if (recorded.row.responseStatus !== null) {
        res.status(recorded.row.responseStatus).set('Location', `/v1/orders/${encodeURIComponent(order.orderId)}`).json(recorded.row.responseBody);
        return;
      }
    }

    let delivered: { workflowId: string; duplicate: boolean };
    try {
      delivered = await gateway.deliverOrderPaid({ eventId, acceptedAtMs: recorded.row.receivedAt.getTime(), order });
    } catch (error) {
      // The event is on record without an answer: the order system's retry completes it.
      throw new AppError(503, 'temporarily_unavailable', 'could not reach the workflow engine; retry the delivery', undefined, error);
    }
    const answer = { eventId, workflowId: delivered.workflowId, status: 'accepted', duplicate: delivered.duplicate };
    await completeInboundEvent(db, eventId, 202, answer);
    res.status(202).set('Location', `/v1/orders/${encodeURIComponent(order.orderId)}`).json(answer);
  });
  return router;
}

/** Checks the order against our catalogue (422 when it names what we do not know). */
async function toPaidOrder(db: Db, data: OrderPaidData): Promise<PaidOrder> {
  const merchant = await findMerchant(db, data.merchantId);
  if (!merchant) throw new AppError(422, 'unknown_merchant', `merchant ${data.merchantId} is not registered`, [{ field: 'data.merchantId', reason: 'not registered' }]);
  const product = await findProduct(db, data.productId);
  if (!product || product.merchantId !== data.merchantId) {
    throw new AppError(422, 'unknown_product', `product ${data.productId} is not registered for merchant ${data.merchantId}`, [
      { field: 'data.productId', reason: 'not registered for this merchant' },
    ]);
  }
  if (product.chargingMode !== data.chargingMode) {
    throw new AppError(422, 'charging_mode_mismatch', `product ${data.productId} is sold as ${product.chargingMode}, not ${data.chargingMode}`, [
      { field: 'data.chargingMode', reason: `product is ${product.chargingMode}` },
    ]);
  }
  return {
    orderId: data.orderId,
    orderLineId: data.orderLineId,
    orderType: data.orderType,
    merchantId: data.merchantId,
    productId: data.productId,
    skuCode: data.skuCode,
    chargingMode: data.chargingMode,
    periodType: data.periodType,
    periodNumber: data.periodNumber,
    expireTime: data.expireTime ? new Date(data.expireTime).toISOString() : undefined,
    trialFlag: data.trialFlag,
    customer: { customerId: data.customer.customerId, customerName: data.customer.customerName },
    amount: data.amount,
    currency: data.currency,
    testFlag: data.testFlag,
  };
}
