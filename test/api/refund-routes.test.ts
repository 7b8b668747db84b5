/**
 * Refunds over HTTP, on real PostgreSQL and the Temporal dev server, with a worker running the
 * workflows and the real order-system callback activity (no order system configured: the
 * callback is recorded only): the signed order.refund_requested event starting
 * `refund:<orderId>:<orderLineId>` from the paid line's rows, the merchant's signed answer
 * (isolation, 400s, one answer only), and the verdict recorded as an order.refund_decided callback.
 */
import path from 'node:path';
import request from 'supertest';
import { createOrderSystemActivities } from '../../src/activities/notices/order-system';
import { upsertProduct } from '../../src/db/repositories/catalog/merchants';
import { signWebhook } from '../../src/platform/security/standard-webhooks';
import { apiHarness, uniqueId, type ApiHarness } from '../helpers/api-harness';
import { startApiWorker, type ApiWorker } from '../helpers/api-worker';
import { registerMerchant } from '../activities/fixtures';
import { until } from '../helpers/until';
import { partyHeaders } from '../helpers/signed-party';

let h: ApiHarness;
let worker: ApiWorker | undefined;
const DAY_MS = 86_400_000;

beforeAll(async () => {
  h = await apiHarness();
  worker = await startApiWorker({
    taskQueue: h.config.temporal.taskQueue,
    workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'),
    activities: createOrderSystemActivities({ db: h.db }),
  });
});

afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

interface Merchant {
  merchantId: string;
  accessKey: string;
}

function webhook(type: string, data: Record<string, unknown>, id = uniqueId('msg_')) {
  const body = JSON.stringify({ type, data });
  return request(h.app).post('/v1/marketplace/events').set(signWebhook(h.config.webhook.secret, id, body)).set('content-type', 'application/json').send(body);
}

const merchantPost = (m: Merchant, url: string, text: string) =>
  request(h.app).post(url).set(partyHeaders({ idHeader: 'x-merchant-id', id: m.merchantId, key: m.accessKey }, 'POST', url, text)).send(text);

async function merchant(): Promise<Merchant> {
  const merchantId = uniqueId('M-refund');
  const accessKey = `${merchantId}-access-key`;
  await registerMerchant(h.db, { merchantId, productionUrl: 'http://127.0.0.1:1/saasproduce', accessKey });
  await upsertProduct(h.db, { productId: `${merchantId}-p`, merchantId, name: 'p', chargingMode: 'PERIOD', retentionDays: 15 });
  return { merchantId, accessKey };
}

/** A paid periodic line of 99.00 CNY, paid `paidAgoMs` ago; answers its order id. */
async function paidLine(m: Merchant, paidAgoMs: number): Promise<string> {
  const orderId = uniqueId('O');
  await h.db.query(`insert into orders (order_id, merchant_id, customer_id, order_type, currency) values ($1, $2, 'C', 'NEW', 'CNY')`, [orderId, m.merchantId]);
  await h.db.query(
    `insert into order_lines (order_id, order_line_id, product_id, sku_code, charging_mode, amount, workflow_id, status, accepted_at)
     values ($1, $1 || '-1', $2, 'SKU', 'PERIOD', 99.00, 'subscription:' || $1, 'active', $3)`,
    [orderId, `${m.merchantId}-p`, new Date(Date.now() - paidAgoMs)],
  );
  return orderId;
}

async function verdictOf(orderId: string): Promise<Record<string, unknown>> {
  const { rows } = await until(
    () => h.db.query<{ payload: { data: Record<string, unknown> } }>(`select payload from order_system_callbacks where event_type = 'order.refund_decided' and payload->'data'->>'orderId' = $1`, [orderId]),
    (r) => r.rows.length > 0,
    { intervalMs: 100, what: `no refund verdict for ${orderId}` },
  );
  return rows[0]?.payload.data ?? {};
}

const refundRequested = (orderId: string, extra: Record<string, unknown> = {}) => ({
  orderId,
  orderLineId: `${orderId}-1`,
  refundOrderId: `R${orderId}`,
  requestedAt: new Date().toISOString(),
  ...extra,
});

describe('refund routes', () => {
  test('when a customer asks within 5 days, then the full refund is approved and the verdict recorded for the order system', async () => {
    const m = await merchant();
    const orderId = await paidLine(m, DAY_MS);
    const res = await webhook('order.refund_requested', refundRequested(orderId));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ workflowId: `refund:${orderId}:${orderId}-1`, duplicate: false });
    expect(await verdictOf(orderId)).toEqual({ orderId, orderLineId: `${orderId}-1`, refundOrderId: `R${orderId}`, approved: true, kind: 'full', amount: '99.0000', currency: 'CNY' });
  });

  test('when the customer already had 10 self-service refunds this year, then the full refund is refused by that rule', async () => {
    const m = await merchant();
    const orderId = await paidLine(m, DAY_MS);
    const earlier = Array.from({ length: 10 }, (_, i) => new Date(Date.now() - (i + 1) * 60_000).toISOString());
    expect((await webhook('order.refund_requested', refundRequested(orderId, { earlierSelfServiceRefunds: earlier }))).status).toBe(202);
    expect(await verdictOf(orderId)).toMatchObject({ approved: false, rule: 'self_service_limit_reached' });
  });

  test('when a negotiated refund is asked, then only its merchant answers it, once, and the verdict follows', async () => {
    const m = await merchant();
    const other = await merchant();
    const orderId = await paidLine(m, 10 * DAY_MS);
    const first = await webhook('order.refund_requested', refundRequested(orderId, { proposedAmount: '40.5' }));
    expect(first.status).toBe(202);
    // Another request for the same line (another event) does not start a second refund.
    const second = await webhook('order.refund_requested', refundRequested(orderId, { proposedAmount: '90' }));
    expect(second.body).toMatchObject({ workflowId: `refund:${orderId}:${orderId}-1`, duplicate: true });

    const url = `/v1/refunds/merchant/orders/${orderId}/lines/${orderId}-1/answer`;
    expect((await request(h.app).post(url).send('{"approved":true}')).status).toBe(401);
    expect((await merchantPost(other, url, '{"approved":true}')).status).toBe(404);
    const bad = await merchantPost(m, url, '{"approved":"yes"}');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(['approved']);

    const answered = await until(
      () => merchantPost(m, url, '{"approved":true,"reason":"fair"}'),
      (r) => r.status !== 409,
      { intervalMs: 100, what: 'the refund never awaited the merchant' },
    );
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ workflowId: `refund:${orderId}:${orderId}-1`, answer: { approved: true, actor: m.merchantId, reason: 'fair' } });
    expect(await verdictOf(orderId)).toEqual({ orderId, orderLineId: `${orderId}-1`, refundOrderId: `R${orderId}`, approved: true, kind: 'negotiated', amount: '40.5', currency: 'CNY' });
    // The same answer again is answered as the first; a different one is refused.
    const same = await merchantPost(m, url, '{"approved":true,"reason":"fair"}');
    expect(same.status).toBe(200);
    expect(same.body.answer).toEqual(answered.body.answer);
    const contrary = await merchantPost(m, url, '{"approved":false}');
    expect(contrary.status).toBe(409);
    expect(contrary.body.error.code).toBe('refund_already_answered');
    // A line with no refund running cannot be answered.
    const idle = await paidLine(m, DAY_MS);
    const idleUrl = `/v1/refunds/merchant/orders/${idle}/lines/${idle}-1/answer`;
    const none = await merchantPost(m, idleUrl, '{"approved":true}');
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe('refund_not_awaiting_merchant');
  });

  test('when the order line is unknown or the event is malformed, then 404 or 400 and nothing starts', async () => {
    const missing = await webhook('order.refund_requested', refundRequested(uniqueId('O')));
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('order_line_not_found');
    const malformed = await webhook('order.refund_requested', refundRequested(uniqueId('O'), { proposedAmount: '-1' }));
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details.map((d: { field: string }) => d.field)).toEqual(['data.proposedAmount']);
  });
});
