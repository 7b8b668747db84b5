/**
 * What the generated requests point at, so they reach past "unknown": a merchant with a
 * product of every charging mode, a second merchant with a product of its own, paid
 * subscriptions whose workflows run (no worker: they wait), one whose workflow has ended,
 * and two pay-per-use items on one order line. Built through the API, except the instance
 * rows, which only a worker would write.
 */
import { generateKeyPairSync } from 'node:crypto';
import { saveInstanceAppInfo, upsertInstance } from '../../../src/db/repositories/subscription/instances';
import { sampleOrderPaid } from '../../../src/dev/marketplace-client';
import { signWebhook } from '../../../src/platform/security/standard-webhooks';
import { uniqueId, type ApiHarness } from '../../helpers/api-harness';
import type { Wire, WireResponse } from './wire';

export const CHARGING_MODES = ['PERIOD', 'ONE_TIME', 'ON_DEMAND', 'ON_DEMAND_PKG'] as const;
export type ChargingMode = (typeof CHARGING_MODES)[number];

export interface Subscription {
  orderId: string;
  orderLineId: string;
  productId: string;
  workflowId: string;
  instanceId: string;
}

export interface Fixtures {
  merchantId: string;
  /** A product of `merchantId` per charging mode. */
  products: Record<ChargingMode, string>;
  otherMerchantId: string;
  /** Owned by `otherMerchantId`. */
  otherProductId: string;
  /** Paid, workflow running (waiting for a worker), with an instance row. */
  running: Subscription[];
  /** Paid, workflow terminated, with an instance row. */
  ended: Subscription;
  /** Two pay-per-use items sharing one order line, each its own running subscription. */
  shared: { orderId: string; orderLineId: string; productIds: [string, string] };
}

export function operatorHeaders(h: ApiHarness): Record<string, string> {
  return { authorization: `Bearer ${h.config.operatorToken}`, 'content-type': 'application/json', 'x-operator': 'fuzz' };
}

function expectStatus(what: string, response: WireResponse, ...statuses: number[]): WireResponse {
  if (!statuses.includes(response.status)) throw new Error(`fixture ${what}: expected ${statuses.join(' or ')}, got ${response.status} ${response.text}`);
  return response;
}

export async function putJson(h: ApiHarness, wire: Wire, path: string, body: unknown): Promise<WireResponse> {
  return wire.send({ method: 'PUT', path, headers: operatorHeaders(h), body: Buffer.from(JSON.stringify(body)) });
}

/** POSTs an event signed now with the harness's secret. */
export async function postSigned(h: ApiHarness, wire: Wire, event: unknown, id = uniqueId('msg_')): Promise<WireResponse> {
  const body = JSON.stringify(event);
  return wire.send({ method: 'POST', path: '/v1/marketplace/events', headers: { ...signWebhook(h.config.webhook.secret, id, body), 'content-type': 'application/json' }, body: Buffer.from(body) });
}

/** The fixture merchant takes tenant sync too: a sync key, and an application key on its products. */
export const merchantBody = { name: 'Fuzz merchant', productionUrl: 'http://127.0.0.1:9/saasproduce', protocolVersion: 'v2', accessKey: 'fuzz-access-key', syncKey: 'fuzz-sync-key' };

/** A 3072-bit RSA public key (the shortest the catalogue takes) for the products' applications. */
const appPublicKey = generateKeyPairSync('rsa', { modulusLength: 3072 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

async function pay(h: ApiHarness, wire: Wire, merchantId: string, productId: string, chargingMode: ChargingMode, orderId: string, orderLineId?: string): Promise<string> {
  const event = sampleOrderPaid({ merchantId, productId, orderId, chargingMode });
  if (orderLineId) event.data.orderLineId = orderLineId;
  const paid = expectStatus(`order.paid ${orderId}`, await postSigned(h, wire, event), 202);
  return String((paid.json as { workflowId: string }).workflowId);
}

export async function buildFixtures(h: ApiHarness, wire: Wire): Promise<Fixtures> {
  const merchantId = uniqueId('FM');
  const otherMerchantId = uniqueId('FM');
  expectStatus('merchant', await putJson(h, wire, `/v1/merchants/${merchantId}`, merchantBody), 201);
  expectStatus('other merchant', await putJson(h, wire, `/v1/merchants/${otherMerchantId}`, { ...merchantBody, name: 'Other fuzz merchant' }), 201);
  const products = {} as Record<ChargingMode, string>;
  for (const mode of CHARGING_MODES) {
    products[mode] = uniqueId(`FP-${mode}-`);
    expectStatus(`product ${mode}`, await putJson(h, wire, `/v1/merchants/${merchantId}/products/${products[mode]}`, { name: mode, chargingMode: mode, retentionDays: 7, appPublicKey }), 201);
  }
  const otherProductId = uniqueId('FP-other-');
  expectStatus('other product', await putJson(h, wire, `/v1/merchants/${otherMerchantId}/products/${otherProductId}`, { name: 'other', chargingMode: 'PERIOD', retentionDays: 3 }), 201);

  const subscription = async (mode: ChargingMode): Promise<Subscription> => {
    const orderId = uniqueId('FO');
    const orderLineId = `${orderId}-000001`;
    const workflowId = await pay(h, wire, merchantId, products[mode], mode, orderId);
    const instanceId = uniqueId('FI-');
    const row = { instanceId, workflowId, merchantId, orderId, orderLineId, productId: products[mode] };
    await upsertInstance(h.db, { ...row, skuCode: 'basic', status: 'active', expireTime: '2030-01-01T00:00:00.000Z' });
    return { orderId, orderLineId, productId: products[mode], workflowId, instanceId };
  };

  // Signals to a workflow with no worker pile up in its history: spread them over a few.
  const running = [await subscription('PERIOD'), await subscription('PERIOD'), await subscription('ONE_TIME'), await subscription('ON_DEMAND')];
  const withAppInfo = running[0]!;
  const appInfo = { frontEndUrl: 'https://app.example.com', adminUrl: 'https://app.example.com/admin', userName: 'admin', password: 'fuzz-Passw0rd' };
  await saveInstanceAppInfo(h.db, { ...withAppInfo, merchantId, appInfoEnc: h.encryptor.encrypt(JSON.stringify(appInfo)) });

  const ended = await subscription('PERIOD');
  await h.client.workflow.getHandle(ended.workflowId).terminate('fuzz fixture: an ended subscription');

  const sharedOrderId = uniqueId('FO');
  const sharedLine = `${sharedOrderId}-000001`;
  const item = uniqueId('FP-item-');
  expectStatus('second pay-per-use item', await putJson(h, wire, `/v1/merchants/${merchantId}/products/${item}`, { name: 'item', chargingMode: 'ON_DEMAND', retentionDays: 1 }), 201);
  await pay(h, wire, merchantId, products.ON_DEMAND, 'ON_DEMAND', sharedOrderId, sharedLine);
  await pay(h, wire, merchantId, item, 'ON_DEMAND', sharedOrderId, sharedLine);

  return { merchantId, products, otherMerchantId, otherProductId, running, ended, shared: { orderId: sharedOrderId, orderLineId: sharedLine, productIds: [products.ON_DEMAND, item] } };
}
