/**
 * End to end, a merchant's exit (spec §9.4): a merchant of the reference merchant's address and
 * key, with two live monthly subscriptions paid by webhook, asks to leave through its signed
 * route; the exit waits on the unsettled and uninvoiced orders, which the month's statement
 * walked to paid through the settlement routes clears and re-checks the exit at once; an operator approves;
 * each subscription is refunded pro rata through the refund flow and released at the reference
 * merchant under its refund order; the merchant is removed, its signed requests refused, and no
 * call reaches the reference merchant afterwards. The exit record is downloaded. The dev
 * server, PostgreSQL, the worker, the API and the reference merchant, as `npm start` assembles them.
 */
import { randomUUID } from 'node:crypto';
import { sampleOrderPaid } from '../../src/dev/marketplace-client';
import { DEMO_ACCESS_KEY, type DevStack } from '../../src/dev/stack';
import type { Db } from '../../src/db/pool';
import { e2eCallers, startE2eStack } from '../helpers/e2e-stack';
import { until } from '../helpers/until';

type Callers = ReturnType<typeof e2eCallers>;

let stack: DevStack;
let db: Db;

beforeAll(async () => {
  ({ stack, db } = await startE2eStack('exit'));
  ({ asOperator, asMerchant, send } = e2eCallers(stack));
});

afterAll(async () => {
  await stack?.stop();
  await db?.close();
});

let asOperator: Callers['asOperator'];
let asMerchant: Callers['asMerchant'];
let send: Callers['send'];
/** The error code of a refused webhook. */
const codeOf = (body: unknown): string | undefined => (body as { error?: { code?: string } } | undefined)?.error?.code;

const exitOf = (merchantId: string, step: string) =>
  until(() => asOperator('GET', `/v1/merchants/${merchantId}/exit`), (r) => r.status === 200 && r.body.step === step, { what: `exit of ${merchantId} at ${step}`, timeoutMs: 60_000 });

test('when a merchant with live subscriptions exits, then they are refunded pro rata and released at the merchant before it is removed, and nothing reaches it afterwards', async () => {
  // A merchant of its own at the reference merchant's address and key: the demo merchant stays for the other suites.
  const merchantId = `exit-${randomUUID().slice(0, 8)}`;
  const productId = `${merchantId}-soft`;
  const taxId = '91310000MA1FL0000X';
  expect((await asOperator('PUT', `/v1/merchants/${merchantId}`, { name: 'Leaving Ltd', productionUrl: stack.merchant.url, protocolVersion: 'v2', accessKey: DEMO_ACCESS_KEY })).status).toBe(201);
  expect((await asOperator('PUT', `/v1/merchants/${merchantId}/products/${productId}`, { name: 'Leaving software', chargingMode: 'PERIOD', retentionDays: 15 })).status).toBe(201);
  expect((await asOperator('PUT', `/v1/merchants/${merchantId}/business-info`, { bankAccount: '6222000033334444', taxId })).status).toBe(200);

  // Two monthly subscriptions paid through the signed webhook, both live at the reference merchant.
  const orders = [sampleOrderPaid({ merchantId, productId }), sampleOrderPaid({ merchantId, productId })];
  for (const order of orders) expect((await send('order.paid', order.data)).status).toBe(202);
  const instances: string[] = [];
  for (const order of orders) {
    const active = await until(() => asOperator('GET', `/v1/orders/${String(order.data.orderId)}`), (r) => r.body?.status === 'active', { what: 'order active', timeoutMs: 60_000 });
    instances.push(active.body.instanceId as string);
  }
  const merchant = asMerchant(merchantId);

  // The merchant asks to leave: it takes no new orders, and its orders block the exit until settled and invoiced.
  const asked = await merchant('POST', '/v1/governance/merchant/exit', { reason: 'closing the business' });
  expect(asked.status).toBe(202);
  const blocked = await exitOf(merchantId, 'blocked');
  expect(blocked.body.blocking.map((b: { precondition: string }) => b.precondition)).toEqual(['no-unsettled-order', 'no-uninvoiced-order']);
  expect(blocked.body.blocking[0].orders.map((o: { orderId: string }) => o.orderId).sort()).toEqual(orders.map((o) => String(o.data.orderId)).sort());
  const refusedOrder = await send('order.paid', sampleOrderPaid({ merchantId, productId }).data);
  expect([refusedOrder.status, codeOf(refusedOrder.body)]).toEqual([422, 'merchant_not_trading']);

  // Settled through the settlement routes: a bill run of a period of its own (a far month, so no other suite's run of it
  // exists; the lines took effect before its end), the statement walked to paid with the merchant's invoice.
  const period = `${2100 + Math.floor(Math.random() * 800)}${String(1 + Math.floor(Math.random() * 12)).padStart(2, '0')}`;
  expect((await asOperator('POST', '/v1/settlement/runs', { period })).status).toBe(202);
  const statementNumber = `ST${period}-${merchantId}`;
  const statement = await until(() => asOperator('GET', `/v1/settlement/statements/${statementNumber}`), (r) => r.body?.step === 'review', { what: 'statement in review', timeoutMs: 60_000 });
  expect(statement.body.totals).toEqual([{ currency: 'CNY', taxRate: '0.0600', amount: '198.0000' }]);
  const act = async (action: string) => (await asOperator('POST', `/v1/settlement/statements/${statementNumber}/actions`, { action })).body;
  expect((await act('approve-and-send')).step).toBe('countersign');
  expect((await act('countersign')).step).toBe('payment-request');
  const requestNumber = (await act('issue-payment-request')).paymentRequestNumber as string;
  const invoiceNumber = `INV-${randomUUID().slice(0, 8)}`;
  const invoice = await merchant('POST', `/v1/settlement/merchant/payment-requests/${requestNumber}/invoices`, {
    invoiceNumber,
    paymentRequestNumbers: [requestNumber],
    taxRate: '0.06',
    amount: '198',
    currency: 'CNY',
    taxpayerId: taxId,
    remarks: `申付单 ${requestNumber}, period ${period}`,
  });
  expect(invoice.status).toBe(201);
  await until(() => asOperator('GET', `/v1/settlement/statements/${statementNumber}`), (r) => r.body?.step === 'verification', { what: 'statement in verification' });
  expect((await act('verify-invoices')).step).toBe('payment');
  expect((await act('mark-paid')).step).toBe('paid');

  // The paid statement re-checks the exit at once (no operator's re-check, no hourly timer): nothing blocks; approved.
  const ready = await exitOf(merchantId, 'awaiting-review');
  expect(ready.body.productsToDelist).toEqual([{ productId, state: 'on_sale' }]);
  const approved = await asOperator('POST', `/v1/merchants/${merchantId}/exit/review`, { decision: 'approve', reason: 'settled and invoiced' });
  expect(approved.status).toBe(200);
  await exitOf(merchantId, 'removed');

  // Each subscription: refunded pro rata through the refund flow (the order system told), released at the merchant under its refund order.
  for (const [i, order] of orders.entries()) {
    const refundOrderId = `exit-${merchantId}-${String(order.data.orderId)}-${String(order.data.orderLineId)}`;
    const verdict = stack.orderSystem.received().find((c) => c.type === 'order.refund_decided' && c.data.refundOrderId === refundOrderId);
    expect(verdict?.data).toMatchObject({ approved: true, kind: 'merchant_exit', currency: 'CNY' });
    // A month paid, a minute or so used: just under the 99.00 paid, to the cent.
    expect(Number(verdict?.data.amount)).toBeGreaterThan(98);
    expect(Number(verdict?.data.amount)).toBeLessThan(99);
    expect(stack.merchant.store.get(instances[i]!)?.status).toBe('released');
    const releases = stack.merchant
      .requests()
      .filter((r) => r.activity === 'releaseInstance')
      .map((r) => JSON.parse(r.body) as Record<string, unknown>)
      .filter((body) => body.instanceId === instances[i]);
    expect(releases).toEqual([{ activity: 'releaseInstance', instanceId: instances[i], orderId: refundOrderId }]);
  }

  // Removed: credentials gone, its signed requests refused, its product delisted.
  const row = (await db.query(`select listing_state, access_key_enc from merchants where merchant_id = $1`, [merchantId])).rows[0];
  expect(row).toEqual({ listing_state: 'removed', access_key_enc: '' });
  expect((await db.query(`select listing_state from products where product_id = $1`, [productId])).rows[0]).toEqual({ listing_state: 'delisted' });
  const refused = await merchant('GET', '/v1/governance/merchant/exit');
  expect([refused.status, refused.body.error.code]).toEqual([403, 'merchant_removed']);
  // Registering it again would give it a key back: refused, and the key stays erased.
  const revived = await asOperator('PUT', `/v1/merchants/${merchantId}`, { name: 'Leaving Ltd', productionUrl: stack.merchant.url, protocolVersion: 'v2', accessKey: DEMO_ACCESS_KEY });
  expect([revived.status, revived.body.error.code]).toEqual([409, 'merchant_removed']);
  expect((await db.query(`select access_key_enc from merchants where merchant_id = $1`, [merchantId])).rows[0]).toEqual({ access_key_enc: '' });

  // The merchant was told of each step, in-site, once each: received, blocked (naming the orders), approved with the reason, removed.
  const told = (await db.query<{ subject: string; body: string }>(`select subject, body from notifications where recipient_type = 'merchant' and recipient_id = $1 and idempotency_key like 'exit:%' order by notification_id`, [merchantId])).rows;
  expect(told.map((n) => n.subject)).toEqual(['Your exit request was received', 'Your exit is blocked', 'Your exit was approved', 'You were removed from the marketplace']);
  expect(told[1]!.body).toContain(String(orders[0]!.data.orderId));
  expect(told[2]!.body).toContain('settled and invoiced');

  // The exit record: the paid statement and its invoice, no open obligation, the refunds charged back, the timeline.
  const record = await asOperator('GET', `/v1/merchants/${merchantId}/exit/record`);
  expect(record.status).toBe(200);
  expect(record.body).toMatchObject({ merchantId, outcome: 'removed', openObligations: [], review: { decision: 'approve', actor: 'ops@example.com' } });
  expect(record.body.finalStatements).toEqual([expect.objectContaining({ statementNumber, step: 'paid', paymentRequestNumber: requestNumber })]);
  expect(record.body.invoices).toEqual([expect.objectContaining({ invoiceNumber, amount: '198.0000' })]);
  expect(record.body.refundsChargedBack.refunds).toHaveLength(2);
  expect(record.body.timeline.map((e: { action: string }) => e.action)).toEqual([
    'exit-requested',
    'preconditions-failing',
    'preconditions-met',
    'exit-approved',
    'products-delisted',
    'trading-frozen',
    'subscriptions-refunded',
    'subscriptions-released',
    'merchant-removed',
  ]);

  // Nothing reaches the reference merchant afterwards: a new order is refused, and no call is made for its instances.
  const callsForIt = () => stack.merchant.requests().filter((r) => instances.some((id) => r.body.includes(id)) || orders.some((o) => r.body.includes(String(o.data.orderId)))).length;
  const before = callsForIt();
  const late = await send('order.paid', sampleOrderPaid({ merchantId, productId }).data);
  expect([late.status, codeOf(late.body)]).toEqual([422, 'merchant_not_trading']);
  const lateEvent = await send('instance.violation', { instanceId: instances[0] });
  expect(lateEvent.status).toBe(409);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  expect(callsForIt()).toBe(before);
});
