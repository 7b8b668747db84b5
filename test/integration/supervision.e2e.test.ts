/**
 * End to end, service supervision (spec §9.1): a supervised product's order paid by webhook,
 * its subscription provisioned with no expiry, then the supervision walked to acceptance
 * through the routes and the order system's events — documents uploaded and read back by
 * their checksums, the merchant's signed calls, a redelivered event answered the same — until
 * the validity moves the subscription's expiry and the reference merchant receives
 * refreshInstance; the settlement gate opens only then. The dev server, PostgreSQL, the
 * worker, the API and the reference merchant, as `npm start` assembles them.
 */
import { createHash, randomUUID } from 'node:crypto';
import { sampleOrderPaid, sendMarketplaceEvent, type SentWebhook } from '../../src/dev/marketplace-client';
import { DEMO_ACCESS_KEY, type DevStack } from '../../src/dev/stack';
import type { Db } from '../../src/db/pool';
import { settleableLines } from '../../src/db/repositories/supervision/supervisions';
import { addMonths } from '../../src/workflows/supervision/validity';
import { partyHeaders } from '../helpers/signed-party';
import { until } from '../helpers/until';
import { startE2eStack } from '../helpers/e2e-stack';

let stack: DevStack;
let db: Db;

beforeAll(async () => {
  ({ stack, db } = await startE2eStack('supervision'));
});

afterAll(async () => {
  await stack?.stop();
  await db?.close();
});

const operator = (): Record<string, string> => ({ authorization: `Bearer ${stack.config.operatorToken}`, 'content-type': 'application/json', 'x-operator': 'ops@example.com' });

async function api(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: any; raw: Buffer }> {
  const res = await fetch(new URL(path, stack.api.url), { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const raw = Buffer.from(await res.arrayBuffer());
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, raw };
}

/** A signed request of the merchant or of the order system for the customer. */
function asParty(party: 'merchant' | 'customer', customerId = 'demo-customer') {
  const signer =
    party === 'merchant'
      ? { idHeader: 'x-merchant-id' as const, id: stack.demo.merchantId, key: DEMO_ACCESS_KEY }
      : { idHeader: 'x-customer-id' as const, id: customerId, key: stack.config.webhook.secret };
  return (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    return api(method, path, { ...partyHeaders(signer, method, path, text), ...extra }, body === undefined ? undefined : text);
  };
}

/** Registers a supervised monthly product of the demo merchant; answers its id. */
async function supervisedProduct(name: string, supervisionVariant: 'service' | 'licence', acceptanceStandard: string): Promise<string> {
  const productId = `sup-${randomUUID().slice(0, 8)}`;
  const registered = await api('PUT', `/v1/merchants/${stack.demo.merchantId}/products/${productId}`, operator(), {
    name,
    chargingMode: 'PERIOD',
    retentionDays: 15,
    supervised: true,
    supervisionVariant,
    acceptanceStandard,
  });
  expect(registered.status).toBe(201);
  expect(registered.body).toMatchObject({ supervised: true, supervisionVariant, acceptanceStandard });
  return productId;
}

const send = (type: string, data: Record<string, unknown>, webhookId?: string): Promise<SentWebhook> => sendMarketplaceEvent(stack.api.url, stack.config.webhook.secret, { type, data }, webhookId);

test('when a supervised order is paid and walked to acceptance, then the subscription expiry moves to the validity end, the merchant gets refreshInstance, and the line becomes settleable', async () => {
  const productId = await supervisedProduct('Onboarding service', 'service', 'Signed acceptance report listing every configured module');

  // Paid: the subscription is provisioned, without an expiry until acceptance.
  const paid = sampleOrderPaid({ merchantId: stack.demo.merchantId, productId });
  const orderId = String(paid.data.orderId);
  const orderLineId = String(paid.data.orderLineId);
  expect((await send('order.paid', paid.data)).status).toBe(202);
  // After the API accepted the payment: an activation time may not lie before it.
  const paidBy = Date.now();
  const order = await until(() => api('GET', `/v1/orders/${orderId}`, operator()), (r) => r.body?.status === 'active');
  const instanceId = order.body.instanceId as string;
  expect((await api('GET', `/v1/instances/${instanceId}`, operator())).body.expireTime ?? null).toBeNull();
  const line = { orderId, orderLineId };
  expect(await settleableLines(db, orderId)).toEqual([]);

  const customer = asParty('customer');
  const merchant = asParty('merchant');
  const base = `/v1/supervision/customer/${orderId}/${orderLineId}`;
  const merchantBase = `/v1/supervision/merchant/${orderId}/${orderLineId}`;
  await until(() => merchant('GET', merchantBase), (r) => r.body?.node === 'awaiting-requirement');

  // The customer's requirement, with an attachment uploaded first.
  const attachment = Buffer.from('Modules: HR, payroll. 20 seats.');
  const uploaded = await customer('POST', `${base}/documents`, { purpose: 'requirement', fileName: 'requirement.txt', contentType: 'text/plain', contentBase64: attachment.toString('base64') });
  expect(uploaded.status).toBe(201);
  expect(uploaded.body.sha256).toBe(createHash('sha256').update(attachment).digest('hex'));
  const requirementId = `msg_${randomUUID()}`;
  const submitted = await send('supervision.requirement_submitted', { ...line, requirement: 'HR and payroll for 20 seats', documentIds: [uploaded.body.documentId] }, requirementId);
  expect(submitted.status).toBe(202);
  expect(submitted.body).toMatchObject({ node: 'awaiting-confirmation' });
  // The same webhook-id again: the stored answer, and no second action.
  const again = await send('supervision.requirement_submitted', { ...line, requirement: 'HR and payroll for 20 seats', documentIds: [uploaded.body.documentId] }, requirementId);
  expect([again.status, again.body]).toEqual([submitted.status, submitted.body]);

  // The merchant reads the attachment back, byte for byte, and confirms.
  const read = await merchant('GET', `${merchantBase}/documents/${uploaded.body.documentId}`);
  expect(read.status).toBe(200);
  expect(read.raw.equals(attachment)).toBe(true);
  expect((await merchant('POST', `${merchantBase}/requirement`, { decision: 'confirm' })).body).toMatchObject({ node: 'in-delivery' });

  // Completion with the acceptance document and the actual activation time.
  const report = await merchant('POST', `${merchantBase}/documents`, { purpose: 'acceptance', fileName: 'acceptance.pdf', contentType: 'application/pdf', contentBase64: Buffer.from('%PDF-1.7 report').toString('base64') });
  expect(report.status).toBe(201);
  // A second ago, but never before the payment (the whole walk can take under a second).
  const activatedAt = new Date(Math.max(paidBy, Date.now() - 1000)).toISOString();
  const completed = await merchant('POST', `${merchantBase}/completion`, { resultDescription: 'Configured HR and payroll', actualActivationTime: activatedAt, acceptanceDocumentId: report.body.documentId });
  expect([completed.status, completed.body.node]).toEqual([202, 'awaiting-acceptance']);

  // The customer accepts: the validity runs a month from the activation time.
  const accepted = await send('supervision.accepted', line);
  expect([accepted.status, (accepted.body as { node: string }).node]).toEqual([202, 'completed']);
  const expected = new Date(addMonths(Date.parse(activatedAt), 1)).toISOString();
  const instance = await until(() => api('GET', `/v1/instances/${instanceId}`, operator()), (r) => r.body?.expireTime === expected);
  expect(instance.body.status).toBe('active');
  const refreshed = stack.merchant.store.get(instanceId)?.skuHistory.filter((c) => c.kind === 'refresh') ?? [];
  expect(refreshed).toEqual([expect.objectContaining({ scene: 'RENEWAL' })]);

  const view = await until(() => api('GET', `/v1/supervisions/${orderId}/${orderLineId}`, operator()), (r) => r.body?.timeline?.some((e: { action: string }) => e.action === 'validity.set'));
  expect(view.body).toMatchObject({ node: 'completed', settleable: true, validity: { start: activatedAt, end: expected } });
  expect(view.body.timeline.map((e: { action: string; actor: { type: string } }) => `${e.action}:${e.actor.type}`)).toEqual([
    'started:system',
    'requirement.submitted:customer',
    'requirement.confirmed:merchant',
    'completion.confirmed:merchant',
    'accepted:customer',
    'validity.set:system',
  ]);
  expect(await settleableLines(db, orderId)).toEqual([expect.objectContaining({ orderLineId, supervised: true })]);
  // The order's own view shows the supervision's timeline beside the merchant calls.
  const orderView = await api('GET', `/v1/orders/${orderId}`, operator());
  expect(orderView.body.lines[0].supervision).toMatchObject({ node: 'completed', frozenNode: null });
  expect(orderView.body.lines[0].supervision.timeline.map((e: { action: string; actor: { id: string } }) => `${e.action}:${e.actor.id}`)).toEqual([
    'started:supervision',
    'requirement.submitted:demo-customer',
    `requirement.confirmed:${stack.demo.merchantId}`,
    `completion.confirmed:${stack.demo.merchantId}`,
    'accepted:demo-customer',
    'validity.set:supervision',
  ]);

  // Once the product has an order, whether it is supervised can no longer change.
  const change = await api('PUT', `/v1/merchants/${stack.demo.merchantId}/products/${productId}`, operator(), { name: 'Onboarding service', chargingMode: 'PERIOD', retentionDays: 15, supervised: false });
  expect(change.status).toBe(409);
  expect(change.body.error).toMatchObject({ code: 'supervision_fixed', details: [{ field: 'supervised', reason: 'cannot change once the product has orders' }] });
});

test('when a supervised order is unsubscribed before acceptance, then its supervision closes and the line never becomes settleable', async () => {
  const productId = await supervisedProduct('Licence', 'licence', 'Activation screenshot');
  const paid = sampleOrderPaid({ merchantId: stack.demo.merchantId, productId });
  const line = { orderId: String(paid.data.orderId), orderLineId: String(paid.data.orderLineId) };
  expect((await send('order.paid', paid.data)).status).toBe(202);
  await until(() => api('GET', `/v1/orders/${line.orderId}`, operator()), (r) => r.body?.status === 'active');
  const claimed = await send('licence.claimed', line);
  expect([claimed.status, (claimed.body as { node: string }).node]).toEqual([202, 'awaiting-activation']);

  const unsubscribed = await send('order.unsubscribed', { subscription: line, orderId: `UN${randomUUID().slice(0, 8)}` });
  expect(unsubscribed.status).toBe(202);
  const view = await until(() => api('GET', `/v1/supervisions/${line.orderId}/${line.orderLineId}`, operator()), (r) => r.body?.timeline?.some((e: { action: string }) => e.action === 'order.unsubscribed'));
  expect(view.body).toMatchObject({ node: 'closed', settleable: false, completedAt: null, validity: null });
  expect(view.body.timeline.map((e: { action: string }) => e.action)).toEqual(['started', 'licence.claimed', 'order.unsubscribed']);
  expect(await settleableLines(db, line.orderId)).toEqual([]);
  // Nothing can move it any more.
  const activation = await asParty('merchant')('POST', `/v1/supervision/merchant/${line.orderId}/${line.orderLineId}/licence-activation`, {});
  expect([activation.status, activation.body.error.code]).toEqual([409, 'supervision_ended']);
});
