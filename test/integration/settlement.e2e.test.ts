/**
 * End to end, money (spec §9.2, §9.3): two orders of a merchant paid through the webhook and
 * provisioned at the reference merchant, one refunded within five days (the refund workflow
 * grants it, the order system hears the verdict, the subscription releases the instance at
 * the merchant), then the month's bill run on demand, and the merchant's statement walked to
 * paid through the operator routes and the merchant's signed invoice upload. The statement
 * shows both orders and the refund beside its original, netting to zero. The dev server,
 * PostgreSQL, the worker, the API and the reference merchant, as `npm start` assembles them.
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
  ({ stack, db } = await startE2eStack('settlement'));
  ({ asOperator, asMerchant, send } = e2eCallers(stack));
});

afterAll(async () => {
  await stack?.stop();
  await db?.close();
});

let asOperator: Callers['asOperator'];
let asMerchant: Callers['asMerchant'];
let send: Callers['send'];

/** The settlement period an order paid now belongs to: its Beijing month, as YYYYMM. */
function beijingMonth(at: Date): string {
  const shifted = new Date(at.getTime() + 8 * 3_600_000);
  return `${shifted.getUTCFullYear()}${String(shifted.getUTCMonth() + 1).padStart(2, '0')}`;
}

test('when orders are paid by webhook and one is refunded, then the bill run states both and the refund beside its original, and the statement walks to paid through the routes', async () => {
  // A merchant of its own (the reference merchant's address and key), so no other suite's orders are in its statement.
  const merchantId = `settle-${randomUUID().slice(0, 8)}`;
  const productId = `${merchantId}-soft`;
  const taxId = '91310000MA1FL0000X';
  expect((await asOperator('PUT', `/v1/merchants/${merchantId}`, { name: 'Settled Ltd', productionUrl: stack.merchant.url, protocolVersion: 'v2', accessKey: DEMO_ACCESS_KEY })).status).toBe(201);
  expect((await asOperator('PUT', `/v1/merchants/${merchantId}/products/${productId}`, { name: 'Settled software', chargingMode: 'PERIOD', retentionDays: 15 })).status).toBe(201);
  expect((await asOperator('PUT', `/v1/merchants/${merchantId}/business-info`, { bankAccount: '6222000033334444', taxId })).status).toBe(200);

  // Two orders paid through the signed webhook, both provisioned at the reference merchant.
  const kept = sampleOrderPaid({ merchantId, productId });
  const refunded = sampleOrderPaid({ merchantId, productId });
  for (const order of [kept, refunded]) expect((await send('order.paid', order.data)).status).toBe(202);
  const period = beijingMonth(new Date());
  const activeOrder = (orderId: unknown) => until(() => asOperator('GET', `/v1/orders/${String(orderId)}`), (r) => r.body?.status === 'active', { what: `order ${String(orderId)} active`, timeoutMs: 60_000 });
  await activeOrder(kept.data.orderId);
  const refundedInstance = (await activeOrder(refunded.data.orderId)).body.instanceId as string;

  // The customer's refund within five days: granted by the rules, the instance released at the merchant.
  const refundOrderId = `RF${randomUUID().slice(0, 8)}`;
  const requested = await send('order.refund_requested', { orderId: refunded.data.orderId, orderLineId: refunded.data.orderLineId, refundOrderId, requestedAt: new Date().toISOString() });
  expect(requested.status).toBe(202);
  const refund = await until(() => asOperator('GET', `/v1/refunds/${refundOrderId}`), (r) => r.body?.status === 'approved', { what: 'refund approved', timeoutMs: 60_000 });
  expect(refund.body).toMatchObject({ refundOrderId, amount: '99.0000' });
  await until(async () => stack.merchant.store.get(refundedInstance)?.status, (s) => s === 'released', { what: 'instance released at the merchant', timeoutMs: 60_000 });
  const verdict = await until(
    async () => stack.orderSystem.received().find((c) => c.type === 'order.refund_decided' && c.data.refundOrderId === refundOrderId),
    (c) => c !== undefined,
    { what: 'the verdict at the order system' },
  );
  expect(verdict?.data).toMatchObject({ approved: true, amount: '99.0000', currency: 'CNY' });
  // The subscription records the unsubscription after the merchant answered the release: the
  // refund is a settleable fact from then on (a run before it would leave it to the next period).
  await until(() => asOperator('GET', `/v1/orders/${String(refunded.data.orderId)}`), (r) => r.body?.status === 'released', { what: 'order released' });
  await until(
    async () => (await db.query('select amount::text from settlement_ledger where refund_order_id = $1', [refundOrderId])).rows,
    (rows) => rows.length === 1,
    { what: 'the refund in the settlement ledger' },
  );

  // The month's bill run on demand: the merchant's statement, in review.
  const run = await asOperator('POST', '/v1/settlement/runs', { period });
  expect(run.status).toBe(202);
  const statementNumber = `ST${period}-${merchantId}`;
  const statement = await until(() => asOperator('GET', `/v1/settlement/statements/${statementNumber}`), (r) => r.body?.step === 'review', { what: 'statement in review', timeoutMs: 60_000 });
  const lines = statement.body.lines.map((l: { kind: string; orderId: string; amount: string; refundOrderId: string | null }) => [l.kind, l.orderId, l.amount, l.refundOrderId]);
  expect(lines).toEqual(
    expect.arrayContaining([
      ['order', kept.data.orderId, '99.0000', null],
      ['order', refunded.data.orderId, '99.0000', null],
      ['refund', refunded.data.orderId, '-99.0000', refundOrderId],
    ]),
  );
  expect(lines).toHaveLength(3);
  expect(statement.body.totals).toEqual([{ currency: 'CNY', taxRate: '0.0600', amount: '99.0000' }]);

  // Walked through the operator's steps to the payment request.
  const act = async (action: string) => (await asOperator('POST', `/v1/settlement/statements/${statementNumber}/actions`, { action })).body;
  expect((await act('approve-and-send')).step).toBe('countersign');
  expect((await act('countersign')).step).toBe('payment-request');
  const issued = await act('issue-payment-request');
  expect(issued.step).toBe('invoicing');
  const requestNumber = issued.paymentRequestNumber as string;

  // The merchant reads its statement and uploads its invoice, signed under its key.
  const merchant = asMerchant(merchantId);
  expect((await merchant('GET', `/v1/settlement/merchant/statements/${statementNumber}`)).body).toMatchObject({ step: 'invoicing', paymentRequestNumber: requestNumber });
  const invoice = await merchant('POST', `/v1/settlement/merchant/payment-requests/${requestNumber}/invoices`, {
    invoiceNumber: `INV-${randomUUID().slice(0, 8)}`,
    paymentRequestNumbers: [requestNumber],
    taxRate: '0.06',
    amount: '99',
    currency: 'CNY',
    taxpayerId: taxId,
    remarks: `申付单 ${requestNumber}, period ${period}`,
  });
  expect(invoice.status).toBe(201);
  await until(() => asOperator('GET', `/v1/settlement/statements/${statementNumber}`), (r) => r.body?.step === 'verification', { what: 'statement in verification' });
  expect((await act('verify-invoices')).step).toBe('payment');
  expect((await act('mark-paid')).step).toBe('paid');
  expect((await merchant('GET', `/v1/settlement/merchant/statements/${statementNumber}`)).body.step).toBe('paid');

  // The steps are in the statement's history of operator actions.
  const { rows } = await db.query<{ action: string }>(`select action from operator_actions where target_type = 'statement' and target_id = $1 order by action_id`, [statementNumber]);
  expect(rows.map((r) => r.action)).toEqual(['statement-approve-and-send', 'statement-countersign', 'statement-issue-payment-request', 'statement-verify-invoices', 'statement-mark-paid']);
});
