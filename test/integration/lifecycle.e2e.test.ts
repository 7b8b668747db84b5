/**
 * End to end, the life after provisioning: renewal, expiry with freeze and renewal during
 * retention, trial reminders and release at the end of an unconverted trial, unsubscribe,
 * violations, and the synchronous change check — through the API, the dev server,
 * PostgreSQL, the worker and the reference merchant. Expiries are seconds away; the
 * production durations run on the time-skipping server (test/workflows/lifecycle.test.ts).
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { sampleOrderPaid, sendMarketplaceEvent, type SentWebhook } from '../../src/dev/marketplace-client';
import type { DevStack } from '../../src/dev/stack';
import type { Db } from '../../src/db/pool';
import { until } from '../helpers/until';
import { startE2eStack } from '../helpers/e2e-stack';

let stack: DevStack;
let db: Db;

beforeAll(async () => {
  // Reminders 2 s before a trial ends.
  ({ stack, db } = await startE2eStack('lifecycle', { env: { TRIAL_REMINDER_LEAD_HOURS: '0.0006' }, merchant: { refuseChangesTo: ['tiny'] } }));
});

afterAll(async () => {
  await stack?.stop();
  await db?.close();
});

const operator = (): Record<string, string> => ({ authorization: `Bearer ${stack.config.operatorToken}` });

async function send(type: string, data: Record<string, unknown>): Promise<SentWebhook> {
  return sendMarketplaceEvent(stack.api.url, stack.config.webhook.secret, { type, data });
}

async function getJson(path: string): Promise<Record<string, any>> {
  const res = await fetch(new URL(path, stack.api.url), { headers: operator() });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, any>;
}

/** Pays an order and waits until its instance is active; answers the ids. */
async function activeInstance(options: { expireInMs?: number; trial?: boolean } = {}): Promise<{ orderId: string; instanceId: string }> {
  const event = sampleOrderPaid({
    merchantId: stack.demo.merchantId,
    productId: stack.demo.productId,
    expireTime: new Date(Date.now() + (options.expireInMs ?? 30 * 86_400_000)).toISOString(),
  });
  const data = { ...event.data, trialFlag: options.trial ?? false, customer: { customerId: 'c-1', email: 'buyer@example.com' } };
  const sent = await send('order.paid', data);
  expect(sent.status).toBe(202);
  const orderId = String(event.data.orderId);
  const order = await until(() => getJson(`/v1/orders/${orderId}`), (o) => o.status === 'active');
  return { orderId, instanceId: order.instanceId as string };
}

const merchantInstance = (instanceId: string) => stack.merchant.store.get(instanceId);

test('when an order is renewed, then the merchant gets refreshInstance and the new expiry is stored', async () => {
  const { instanceId } = await activeInstance();
  const expireTime = new Date(Date.now() + 60 * 86_400_000).toISOString();

  const sent = await send('order.renewed', { instanceId, scene: 'RENEWAL', orderId: `R${randomUUID().slice(0, 8)}`, orderLineId: 'R-1', expireTime });
  expect(sent.status).toBe(202);

  const instance = await until(() => getJson(`/v1/instances/${instanceId}`), (i) => i.expireTime === expireTime);
  expect(instance).toMatchObject({ status: 'active', orders: [expect.objectContaining({ kind: 'renewal', scene: 'RENEWAL', status: 'completed' })] });
  expect(instance.appInfo).toMatchObject({ frontEndUrl: expect.stringMatching(/^http/) });
  expect(merchantInstance(instanceId)?.skuHistory.some((c) => c.kind === 'refresh' && c.scene === 'RENEWAL')).toBe(true);
});

test('when an instance expires, then it is frozen for the retention period, and a renewal then unfreezes and refreshes it', async () => {
  const { instanceId } = await activeInstance({ expireInMs: 2500 });

  // The row turns frozen a moment before the subscription settles into its retention step.
  const frozen = await until(() => getJson(`/v1/instances/${instanceId}`), (i) => i.status === 'frozen' && i.subscription?.step?.name === 'retention');
  expect(frozen.subscription).toMatchObject({ status: 'frozen', frozenBy: ['expiry'], step: { name: 'retention' } });
  expect(merchantInstance(instanceId)?.status).toBe('frozen');

  const expireTime = new Date(Date.now() + 30 * 86_400_000).toISOString();
  await send('order.renewed', { instanceId, scene: 'RENEWAL', orderId: `R${randomUUID().slice(0, 8)}`, orderLineId: 'R-1', expireTime });

  const renewed = await until(() => getJson(`/v1/instances/${instanceId}`), (i) => i.status === 'active' && i.expireTime === expireTime);
  expect(renewed.subscription).toMatchObject({ status: 'active', frozenBy: [] });
  expect(merchantInstance(instanceId)?.status).toBe('active');
  const effects = stack.merchant.store.effects().filter((e) => e.instanceId === instanceId).map((e) => e.kind);
  expect(effects).toEqual(['created', 'frozen', 'unfrozen', 'refreshed']);
});

test('when a trial ends unconverted, then buyer and merchant were reminded and the instance is released', async () => {
  const { orderId, instanceId } = await activeInstance({ expireInMs: 4000, trial: true });

  const released = await until(() => getJson(`/v1/instances/${instanceId}`), (i) => i.status === 'released');
  expect(released.expireTime).toBeDefined();
  expect(merchantInstance(instanceId)?.status).toBe('released');
  const reminders = await db.query<{ recipient_type: string; subject: string }>(
    "select recipient_type, subject from notifications where idempotency_key like $1 order by recipient_type",
    [`%${orderId}%trial-reminder%`],
  );
  expect(reminders.rows).toEqual([
    { recipient_type: 'customer', subject: 'Your trial ends soon' },
    { recipient_type: 'merchant', subject: `Trial of order ${orderId} ends soon` },
  ]);
  // The order line is marked right after the instance row.
  const order = await until(() => getJson(`/v1/orders/${orderId}`), (o) => o.status === 'released');
  expect(order.lines[0]).toMatchObject({ status: 'released', instanceId });
});

test('when an order is unsubscribed, then the instance is released naming the unsubscribe order', async () => {
  const { instanceId } = await activeInstance();
  const unsubscribeOrderId = `U${randomUUID().slice(0, 8)}`;

  expect((await send('order.unsubscribed', { instanceId, orderId: unsubscribeOrderId })).status).toBe(202);

  const released = await until(() => getJson(`/v1/instances/${instanceId}`), (i) => i.status === 'released');
  const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS as string });
  const result = await new Client({ connection }).workflow.getHandle(released.workflowId as string).result();
  await connection.close();
  expect(result).toMatchObject({ status: 'released', instanceId });
  const releases = stack.merchant
    .requests()
    .filter((r) => r.activity === 'releaseInstance')
    .map((r) => JSON.parse(r.body) as Record<string, unknown>)
    .filter((body) => body.instanceId === instanceId);
  expect(releases).toEqual([{ activity: 'releaseInstance', instanceId, orderId: unsubscribeOrderId }]);
  // The subscription has ended: a later event is answered 409 and changes nothing.
  const late = await send('instance.violation', { instanceId });
  expect(late.status).toBe(409);
  expect(late.body).toMatchObject({ error: { code: 'subscription_ended' } });
});

test('when a violation is reported and lifted, then the instance is frozen and unfrozen', async () => {
  const { instanceId } = await activeInstance();

  await send('instance.violation', { instanceId, reason: 'content complaint' });
  await until(() => getJson(`/v1/instances/${instanceId}`), (i) => i.status === 'frozen');
  expect(merchantInstance(instanceId)?.status).toBe('frozen');

  await send('instance.violation_lifted', { instanceId });
  await until(() => getJson(`/v1/instances/${instanceId}`), (i) => i.status === 'active');
  expect(merchantInstance(instanceId)?.status).toBe('active');
});

test('when the order system asks for a change check, then it gets the merchant verdict synchronously', async () => {
  const { instanceId } = await activeInstance();

  const allowed = await send('order.change_requested', { instanceId, productInfo: { productId: 'p-year', skuCode: 'large', productName: 'Large' } });
  expect(allowed.status).toBe(200);
  expect(allowed.body).toMatchObject({ allowed: true });

  const refused = await send('order.change_requested', { instanceId, productInfo: { productId: 'p-year', skuCode: 'tiny', productName: 'Tiny' } });
  expect(refused.status).toBe(200);
  expect(refused.body).toMatchObject({ allowed: false, reason: expect.stringMatching(/^refused: /), resultCode: '000002' });
});

test('when an event names an unknown instance, then 422 and nothing is stored', async () => {
  const sent = await send('order.renewed', { instanceId: 'no-such-instance', scene: 'RENEWAL', orderId: 'R1', orderLineId: 'R1-1', expireTime: new Date().toISOString() });
  expect(sent.status).toBe(422);
  expect(sent.body).toMatchObject({ error: { code: 'unknown_subscription', details: [{ field: 'data.instanceId', reason: 'unknown instance' }] } });
  const { rows } = await db.query('select 1 from inbound_events where event_id = $1', [sent.webhookId]);
  expect(rows).toHaveLength(0);
});
