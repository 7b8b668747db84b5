/**
 * The order system's side of our webhook: builds sample events and sends them signed.
 * Used by `npm run order:send`, the demo and the tests, so they all speak the exact wire
 * format the API checks.
 */
import { randomUUID } from 'node:crypto';
import { signWebhook } from '../platform/security/standard-webhooks';

export interface SentWebhook {
  status: number;
  body: unknown;
  webhookId: string;
}

/** POSTs an event to /v1/marketplace/events with a Standard Webhooks signature. */
export async function sendMarketplaceEvent(apiUrl: string, secret: string, event: unknown, webhookId = `msg_${randomUUID()}`): Promise<SentWebhook> {
  const body = JSON.stringify(event);
  const response = await fetch(new URL('/v1/marketplace/events', apiUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signWebhook(secret, webhookId, body) },
    body,
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body: parsed, webhookId };
}

export interface SampleOrderOptions {
  merchantId: string;
  productId: string;
  orderId?: string;
  expireTime?: string;
  chargingMode?: 'PERIOD' | 'ONE_TIME' | 'ON_DEMAND' | 'ON_DEMAND_PKG';
}

/** A paid monthly order in the shape of the order system's order.paid webhook. */
export function sampleOrderPaid(options: SampleOrderOptions): { type: 'order.paid'; data: Record<string, unknown> } {
  const orderId = options.orderId ?? `CS${Date.now().toString(36).toUpperCase()}${Math.floor(Math.random() * 1e4)}`;
  const periodic = (options.chargingMode ?? 'PERIOD') === 'PERIOD';
  return {
    type: 'order.paid',
    data: {
      orderId,
      orderLineId: `${orderId}-000001`,
      orderType: 'NEW',
      merchantId: options.merchantId,
      productId: options.productId,
      skuCode: 'basic',
      chargingMode: options.chargingMode ?? 'PERIOD',
      ...(periodic
        ? { periodType: 'month', periodNumber: 1, expireTime: options.expireTime ?? new Date(Date.now() + 30 * 86_400_000).toISOString() }
        : {}),
      trialFlag: false,
      customer: { customerId: 'demo-customer', customerName: 'Demo Customer Ltd' },
      amount: '99.00',
      currency: 'CNY',
    },
  };
}
