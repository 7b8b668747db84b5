/**
 * End to end: the real Temporal dev server, real PostgreSQL, the worker, the API and the
 * reference merchant over HTTP, assembled exactly as `npm start` assembles them. The
 * production windows are covered on the time-skipping server; here the policy is
 * shortened so that retries and an exhausted window happen within seconds.
 */
import { randomUUID } from 'node:crypto';
import { sampleOrderPaid, sendMarketplaceEvent } from '../../src/dev/marketplace-client';
import type { DevStack } from '../../src/dev/stack';
import { until } from '../helpers/until';
import { startMerchantSim, type MerchantSim } from '../../src/merchant-sim';
import type { Db } from '../../src/db/pool';
import { encryptorFromConfig } from '../../src/platform/security/keys';
import { startE2eStack } from '../helpers/e2e-stack';

const FAST_POLICY = JSON.stringify({
  create: { windowMs: 8000, initialIntervalMs: 200, maximumIntervalMs: 1000, pollIntervalMs: 200 },
});

let stack: DevStack;
let db: Db;
let asyncMerchant: MerchantSim;
const operatorHeaders = (): Record<string, string> => ({ authorization: `Bearer ${stack.config.operatorToken}`, 'content-type': 'application/json' });

beforeAll(async () => {
  ({ stack, db } = await startE2eStack('order-paid', { env: { RETRY_POLICY_JSON: FAST_POLICY } }));

  // A second merchant that provisions asynchronously (000004, then ready on a later query).
  asyncMerchant = await startMerchantSim({ accessKey: 'async-merchant-key', asyncProvisioning: { readyAfterQueries: 2 } });
  await put('/v1/merchants/async-merchant', { name: 'Async merchant', productionUrl: asyncMerchant.url, protocolVersion: 'v2', accessKey: 'async-merchant-key' });
  await put('/v1/merchants/async-merchant/products/async-product', { name: 'Async product', chargingMode: 'PERIOD', retentionDays: 3 });
});

afterAll(async () => {
  await stack?.stop();
  await asyncMerchant?.close();
  await db?.close();
});

beforeEach(() => {
  stack.merchant.faults.clear();
});

async function put(path: string, body: unknown): Promise<void> {
  const res = await fetch(new URL(path, stack.api.url), { method: 'PUT', headers: operatorHeaders(), body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`PUT ${path} → ${res.status} ${await res.text()}`);
}

interface OrderAnswer {
  status: string;
  instanceId: string | null;
  lines: Array<{ productId: string; instanceId: string | null; status: string }>;
  attempts: Array<Record<string, unknown>>;
}

async function getOrder(orderId: string): Promise<OrderAnswer> {
  const res = await fetch(new URL(`/v1/orders/${orderId}`, stack.api.url), { headers: operatorHeaders() });
  expect(res.status).toBe(200);
  return res.json() as never;
}

async function payOrder(merchantId = stack.demo.merchantId, productId = stack.demo.productId): Promise<string> {
  const event = sampleOrderPaid({ merchantId, productId });
  const sent = await sendMarketplaceEvent(stack.api.url, stack.config.webhook.secret, event);
  expect(sent.status).toBe(202);
  return String(event.data.orderId);
}

test('when a paid order arrives, then the merchant creates one instance and it is active with its rows stored', async () => {
  const orderId = await payOrder();

  const order = await until(() => getOrder(orderId), (o) => o.status === 'active');

  const created = stack.merchant.store.list();
  const instance = created.find((i) => i.orderId === orderId);
  expect(instance).toBeDefined();
  expect(order.instanceId).toBe(instance!.instanceId);
  expect(order.attempts.map((a) => [a.activity, a.outcome, a.resultCode])).toEqual([
    ['newInstance', 'success', '000000'],
    ['queryInstance', 'success', '000000'],
  ]);

  const rows = await db.query<{ status: string; app_info_enc: string }>('select status, app_info_enc from instances where instance_id = $1', [order.instanceId]);
  expect(rows.rows[0]?.status).toBe('active');
  // App info holds the customer's admin password: stored encrypted, readable with the key.
  expect(rows.rows[0]?.app_info_enc).not.toContain('frontEndUrl');
  const appInfo = JSON.parse(encryptorFromConfig(stack.config).decrypt(rows.rows[0]!.app_info_enc)) as { frontEndUrl: string };
  expect(appInfo.frontEndUrl).toMatch(/^http/);

  await until(async () => stack.orderSystem.received().filter((c) => c.data.orderId === orderId), (c) => c.length > 0);
  const callbacks = stack.orderSystem.received().filter((c) => c.data.orderId === orderId);
  expect(callbacks).toEqual([expect.objectContaining({ type: 'instance.provisioned', data: { orderId, orderLineId: `${orderId}-000001`, instanceId: order.instanceId } })]);
});

test('when the merchant fails twice, then the third attempt provisions, the merchant is notified once and every attempt is on the timeline', async () => {
  stack.merchant.faults.add({ activity: 'newInstance', mode: 'fail', resultCode: '000005', times: 2 });
  const orderId = await payOrder();

  const order = await until(() => getOrder(orderId), (o) => o.status === 'active');

  expect(order.attempts.map((a) => [a.activity, a.outcome, a.resultCode])).toEqual([
    ['newInstance', 'failure', '000005'],
    ['newInstance', 'failure', '000005'],
    ['newInstance', 'success', '000000'],
    ['queryInstance', 'success', '000000'],
  ]);
  expect(stack.merchant.store.list().filter((i) => i.orderId === orderId)).toHaveLength(1);
  const notices = await db.query('select recipient_id, subject from notifications where idempotency_key like $1', [`%${orderId}%`]);
  expect(notices.rows).toEqual([{ recipient_id: stack.demo.merchantId, subject: `Provisioning of order ${orderId} is failing` }]);
});

test('when the merchant provisions asynchronously, then queryInstance is polled until the instance is ready', async () => {
  const orderId = await payOrder('async-merchant', 'async-product');

  const order = await until(() => getOrder(orderId), (o) => o.status === 'active');

  const kinds = order.attempts.map((a) => [a.activity, a.resultCode]);
  expect(kinds[0]).toEqual(['newInstance', '000004']);
  expect(kinds.slice(1)).toEqual([
    ['queryInstance', '000004'],
    ['queryInstance', '000004'],
    ['queryInstance', '000000'],
  ]);
  expect(asyncMerchant.createdCount()).toBe(1);
});

test('when the merchant fails for the whole window, then the order fails and the order system is asked once to unsubscribe and refund', async () => {
  stack.merchant.faults.add({ activity: 'newInstance', mode: 'http-error', httpStatus: 503 });
  const orderId = await payOrder();

  const order = await until(() => getOrder(orderId), (o) => o.status === 'failed');

  expect(order.instanceId).toBeNull();
  expect(order.attempts.length).toBeGreaterThan(2);
  expect(order.attempts.map((a) => [a.outcome, a.httpStatus, a.error])).toEqual(order.attempts.map(() => ['failure', 503, 'HTTP 503']));
  await until(async () => stack.orderSystem.received().filter((c) => c.data.orderId === orderId), (c) => c.length > 0);
  // Wait a moment longer: a second request would be a defect.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const callbacks = stack.orderSystem.received().filter((c) => c.data.orderId === orderId);
  expect(callbacks).toEqual([expect.objectContaining({ type: 'order.unsubscribe_requested', data: expect.objectContaining({ orderId, refund: true }) })]);
  const stored = await db.query('select status from order_system_callbacks where idempotency_key like $1', [`%${orderId}%unsubscribe-and-refund`]);
  expect(stored.rows).toEqual([{ status: 'delivered' }]);
});

test('when a pay-per-use order has two billing items on one line, then the merchant creates one instance per item and both are active', async () => {
  const items = ['e2e-sms', 'e2e-mms'];
  for (const item of items) await put(`/v1/merchants/${stack.demo.merchantId}/products/${item}`, { name: item, chargingMode: 'ON_DEMAND', retentionDays: 1 });
  const orderId = `CS${randomUUID().slice(0, 8).toUpperCase()}`;
  for (const productId of items) {
    const sent = await sendMarketplaceEvent(stack.api.url, stack.config.webhook.secret, sampleOrderPaid({ merchantId: stack.demo.merchantId, productId, orderId, chargingMode: 'ON_DEMAND' }));
    expect(sent.status).toBe(202);
  }

  const order = await until(() => getOrder(orderId), (o) => o.status === 'active' && o.lines.length === 2);

  const created = stack.merchant.store.list().filter((i) => i.orderId === orderId);
  expect(created.map((i) => i.productId).sort()).toEqual([...items].sort());
  expect(new Set(created.map((i) => i.instanceId)).size).toBe(2);
  for (const line of order.lines) {
    expect(line).toMatchObject({ status: 'active', instanceId: created.find((i) => i.productId === line.productId)?.instanceId });
  }
  const rows = await db.query<{ workflow_id: string }>('select workflow_id from instances where order_id = $1 order by product_id', [orderId]);
  expect(new Set(rows.rows.map((r) => r.workflow_id)).size).toBe(2);
});
