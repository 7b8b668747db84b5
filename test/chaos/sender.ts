/**
 * The order system's side of the chaos run: signed `order.paid` webhooks, each under one
 * webhook-id, redelivered as an order system redelivers — after a connection error (the API
 * was killed, or not yet up) or a 5xx, with a small backoff, until a 2xx or a 4xx answers.
 * Each redelivery carries the same webhook-id and body, freshly signed (Standard Webhooks).
 */
import { randomUUID } from 'node:crypto';
import { sampleOrderPaid } from '../../src/dev/marketplace-client';
import { signWebhook } from '../../src/platform/security/standard-webhooks';

/** A request the API neither answers nor refuses within this is abandoned and redelivered. */
const REQUEST_TIMEOUT_MS = 15_000;
const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 2_000;

export interface SentOrder {
  orderId: string;
  orderLineId: string;
  webhookId: string;
  /** Every delivery of the webhook, the first included. */
  deliveries: number;
  /** Why each redelivery was needed: a connection error or timeout, or the 5xx status. */
  retriedFor: string[];
  /** The status that ended the deliveries (2xx or 4xx); undefined if the run's deadline came first. */
  finalStatus?: number;
  finalBody?: unknown;
}

export interface SenderOptions {
  apiUrl: string;
  secret: string;
  merchantId: string;
  productId: string;
  /** Order ids are `${prefix}-${i}`. */
  prefix: string;
  orders: number;
  /** The orders are started evenly over this time (an open loop: a slow or absent API does not slow the sending). */
  spreadMs: number;
  /** No delivery is started after this epoch ms. */
  deadlineMs: number;
  /** Stops the sending (the run failed elsewhere). */
  signal?: AbortSignal;
}

/** Sends every order, each to its end; resolves with what happened to each. */
export async function sendOrders(options: SenderOptions): Promise<SentOrder[]> {
  const started = Date.now();
  const interval = options.orders > 1 ? options.spreadMs / (options.orders - 1) : 0;
  return Promise.all(
    Array.from({ length: options.orders }, async (_, i) => {
      const due = started + i * interval - Date.now();
      if (due > 0) await sleep(due);
      return deliverUntilAnswered(options, `${options.prefix}-${i}`);
    }),
  );
}

async function deliverUntilAnswered(options: SenderOptions, orderId: string): Promise<SentOrder> {
  const event = sampleOrderPaid({ merchantId: options.merchantId, productId: options.productId, orderId });
  const body = JSON.stringify(event);
  const sent: SentOrder = { orderId, orderLineId: String(event.data.orderLineId), webhookId: `msg_${randomUUID()}`, deliveries: 0, retriedFor: [] };
  for (let attempt = 0; Date.now() < options.deadlineMs && !options.signal?.aborted; attempt += 1) {
    sent.deliveries += 1;
    const answer = await post(options, sent.webhookId, body);
    if ('status' in answer && answer.status < 500) {
      sent.finalStatus = answer.status;
      sent.finalBody = answer.body;
      return sent;
    }
    sent.retriedFor.push('status' in answer ? String(answer.status) : 'connection');
    await sleep(Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt));
  }
  return sent;
}

async function post(options: SenderOptions, webhookId: string, body: string): Promise<{ status: number; body: unknown } | { error: string }> {
  try {
    const response = await fetch(new URL('/v1/marketplace/events', options.apiUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signWebhook(options.secret, webhookId, body) },
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON: keep the text.
    }
    return { status: response.status, body: parsed };
  } catch (error) {
    return { error: String(error) };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
