/**
 * POST /v1/marketplace/events: the order system's signed webhooks.
 *
 * raw body → Standard Webhooks signature (401) → JSON, no NUL characters, zod (400) → the
 * catalogue or the subscription it names is known (422), and a paid order line keeps its
 * product (409) → inbound_events row keyed by webhook-id (with the order line, for
 * order.paid) in one transaction → the subscription's workflow → the stored answer: 202 for
 * events, 200 with the verdict for a change check.
 *
 * Nothing is written before the request is known to be good. A repeat of a webhook-id that
 * was answered gets the same answer and no second effect; a repeat of one whose delivery
 * failed (503) finishes the job.
 */
import { createHash } from 'node:crypto';
import express, { Router } from 'express';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Db } from '../../db/pool';
import { completeInboundEvent, insertInboundEvent } from '../../db/repositories/ingress/inbound-events';
import { findMerchant, findProduct } from '../../db/repositories/catalog/merchants';
import { insertPaidOrderLine } from '../../db/repositories/subscription/orders';
import { workflowIdByInstance, workflowIdsByOrderLine } from '../../db/repositories/subscription/subscriptions';
import { verifyWebhook } from '../../platform/security/standard-webhooks';
import { subscriptionKey, subscriptionWorkflowId } from '../../shared/ids';
import type { LifecycleEvent, PaidOrder } from '../../workflows/subscription/messages';
import type { SubscriptionGateway } from '../subscription/gateway';
import { AppError, workflowEngineUnavailable } from '../errors';
import { refuseOtherProductOnLine } from '../subscription/order-lines';
import { parseRequestBody } from '../request-body';
import { marketplaceEventSchema, type MarketplaceEvent, type OrderPaidData } from '../schemas';

export interface MarketplaceEventDeps {
  db: Db;
  gateway: SubscriptionGateway;
  webhook: { secret: string; toleranceSeconds: number };
}

interface Answer {
  status: number;
  body: unknown;
}

const sha256 = (body: Buffer): string => createHash('sha256').update(body).digest('hex');

export function createMarketplaceEventRouter({ db, gateway, webhook }: MarketplaceEventDeps): Router {
  const router = Router();
  router.post('/v1/marketplace/events', express.raw({ type: () => true, limit: '256kb' }), async (req, res) => {
    const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const eventId = verifiedEventId(req.get.bind(req), body, webhook);
    const json = parseJson(body);
    const event = parseRequestBody(marketplaceEventSchema, json);

    let order: PaidOrder | undefined;
    let workflowId: string;
    if (event.type === 'order.paid') {
      order = await toPaidOrder(db, event.data);
      workflowId = subscriptionWorkflowId(subscriptionKey(order));
    } else {
      workflowId = await subscriptionOf(db, event.data);
    }
    const payloadSha256 = sha256(body);
    const recorded = await db.withTransaction(async (tx) => {
      if (order) await refuseOtherProductOnLine(tx, order);
      const result = await insertInboundEvent(tx, { eventId, eventType: event.type, payload: json, payloadSha256, workflowId });
      if (result.inserted && order) await insertPaidOrderLine(tx, order, workflowId, result.row.receivedAt);
      return result;
    });
    if (!recorded.inserted && recorded.row.payloadSha256 !== payloadSha256) {
      throw new AppError(409, 'event_id_reused', `webhook-id ${eventId} was already used for a different payload`);
    }
    let answer: Answer;
    if (!recorded.inserted && recorded.row.responseStatus !== null) {
      answer = { status: recorded.row.responseStatus, body: recorded.row.responseBody };
    } else {
      answer = await deliver(gateway, event, { eventId, workflowId, acceptedAtMs: recorded.row.receivedAt.getTime(), order });
      await completeInboundEvent(db, eventId, answer.status, answer.body);
    }
    if (order) res.set('Location', `/v1/orders/${encodeURIComponent(order.orderId)}`);
    res.status(answer.status).json(answer.body);
  });
  return router;
}

function verifiedEventId(header: (name: string) => string | undefined, body: Buffer, webhook: MarketplaceEventDeps['webhook']): string {
  const verified = verifyWebhook({
    secret: webhook.secret,
    toleranceSeconds: webhook.toleranceSeconds,
    body,
    headers: { 'webhook-id': header('webhook-id'), 'webhook-timestamp': header('webhook-timestamp'), 'webhook-signature': header('webhook-signature') },
  });
  if (!verified.ok) throw new AppError(401, 'invalid_signature', `webhook signature rejected: ${verified.reason}`);
  const eventId = header('webhook-id') as string;
  if (eventId.length > 200) throw new AppError(400, 'invalid_request', 'webhook-id: at most 200 characters', [{ field: 'webhook-id', reason: 'at most 200 characters' }]);
  return eventId;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new AppError(400, 'invalid_json', 'request body is not valid JSON');
  }
}

/** Hands the event to its workflow and says what to answer. Unreachable Temporal → 503, nothing answered yet. */
async function deliver(
  gateway: SubscriptionGateway,
  event: MarketplaceEvent,
  ctx: { eventId: string; workflowId: string; acceptedAtMs: number; order?: PaidOrder },
): Promise<Answer> {
  const { eventId, workflowId, acceptedAtMs } = ctx;
  const ended: Answer = { status: 409, body: { error: { code: 'subscription_ended', message: `subscription ${workflowId} is no longer running` } } };
  try {
    if (event.type === 'order.paid') {
      const delivered = await gateway.deliverOrderPaid({ eventId, acceptedAtMs, order: ctx.order as PaidOrder });
      return { status: 202, body: { eventId, workflowId: delivered.workflowId, status: 'accepted', duplicate: delivered.duplicate } };
    }
    if (event.type === 'order.change_requested') {
      const verdict = await gateway.checkChange(workflowId, { eventId, ...event.data.productInfo });
      return { status: 200, body: { eventId, workflowId, ...verdict } };
    }
    await gateway.deliverLifecycleEvent(workflowId, toLifecycleEvent(event, eventId, acceptedAtMs));
    return { status: 202, body: { eventId, workflowId, status: 'accepted' } };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return ended;
    if (error instanceof WorkflowUpdateFailedError) {
      const message = error.cause?.message ?? error.message;
      return { status: 409, body: { error: { code: 'not_checkable', message } } };
    }
    // Nothing is answered yet: the order system's retry of the same webhook-id completes it.
    throw workflowEngineUnavailable('retry the delivery', error);
  }
}

function toLifecycleEvent(event: Exclude<MarketplaceEvent, { type: 'order.paid' | 'order.change_requested' }>, eventId: string, acceptedAtMs: number): LifecycleEvent {
  const base = { eventId, acceptedAtMs };
  switch (event.type) {
    case 'order.renewed': {
      const d = event.data;
      return { ...base, kind: 'order.renewed', scene: d.scene, orderId: d.orderId, orderLineId: d.orderLineId, expireTime: new Date(d.expireTime).toISOString(), productId: d.productId };
    }
    case 'order.upgraded': {
      const d = event.data;
      return { ...base, kind: 'order.upgraded', orderId: d.orderId, orderLineId: d.orderLineId, skuCode: d.skuCode, amount: d.amount, currency: d.currency };
    }
    case 'order.unsubscribed':
      return { ...base, kind: 'order.unsubscribed', orderId: event.data.orderId, orderLineId: event.data.orderLineId };
    case 'instance.violation':
    case 'instance.violation_lifted':
      return { ...base, kind: event.type, reason: event.data.reason };
  }
}

/** The workflow of the subscription a later event names (422 when we do not know it). */
async function subscriptionOf(db: Db, data: { instanceId?: string; subscription?: { orderId: string; orderLineId: string; productId?: string } }): Promise<string> {
  if (data.instanceId) {
    const workflowId = await workflowIdByInstance(db, data.instanceId);
    if (workflowId) return workflowId;
    throw new AppError(422, 'unknown_subscription', `instance ${data.instanceId} is unknown`, [{ field: 'data.instanceId', reason: 'unknown instance' }]);
  }
  const line = data.subscription as { orderId: string; orderLineId: string; productId?: string };
  const named = `order line ${line.orderId}/${line.orderLineId}${line.productId ? ` product ${line.productId}` : ''}`;
  const [workflowId, ...others] = await workflowIdsByOrderLine(db, line);
  if (!workflowId) throw new AppError(422, 'unknown_subscription', `${named} is unknown`, [{ field: 'data.subscription', reason: 'unknown order line' }]);
  if (others.length > 0) {
    throw new AppError(422, 'ambiguous_subscription', `${named} has ${others.length + 1} pay-per-use items; name one`, [
      { field: 'data.subscription.productId', reason: 'required when pay-per-use items share the order line' },
    ]);
  }
  return workflowId;
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
    customer: { customerId: data.customer.customerId, customerName: data.customer.customerName, email: data.customer.email },
    amount: data.amount,
    currency: data.currency,
    testFlag: data.testFlag,
    retentionDays: data.retentionDays ?? product.retentionDays,
  };
}
