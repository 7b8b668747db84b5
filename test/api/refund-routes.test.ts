/**
 * Refunds over HTTP, on real PostgreSQL and the Temporal dev server, with a worker running the
 * workflows, the refund's record activities and the real order-system callback activity (no
 * order system configured: the callback is recorded only): the signed order.refund_requested
 * event starting `refund:<refundOrderId>` from the paid line's rows, one live refund per line,
 * the merchant's signed answer and reads (isolation, 400s, one answer only), the operator's
 * reads and answer, every decision on the refund and the order's timeline, and the verdict
 * recorded as an order.refund_decided callback; order.invoice_requested failing a refund under
 * the merchant's review, and changing nothing otherwise.
 */
import path from 'node:path';
import request from 'supertest';
import { createOrderSystemActivities } from '../../src/activities/notices/order-system';
import { createRefundActivities } from '../../src/activities/refunds';
import { upsertProduct } from '../../src/db/repositories/catalog/merchants';
import { supervisionRecordOfLine } from '../../src/db/repositories/refunds/order-lines';
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
    activities: { ...createOrderSystemActivities({ db: h.db }), ...createRefundActivities({ db: h.db }) },
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
const merchantGet = (m: Merchant, url: string) => request(h.app).get(url).set(partyHeaders({ idHeader: 'x-merchant-id', id: m.merchantId, key: m.accessKey }, 'GET', url));
const operator = () => ({ authorization: `Bearer ${h.config.operatorToken}`, 'x-operator': 'ops-anna' });

async function merchant(): Promise<Merchant> {
  const merchantId = uniqueId('M-refund');
  const accessKey = `${merchantId}-access-key`;
  await registerMerchant(h.db, { merchantId, productionUrl: 'http://127.0.0.1:1/saasproduce', accessKey });
  await upsertProduct(h.db, { productId: `${merchantId}-p`, merchantId, name: 'p', chargingMode: 'PERIOD', retentionDays: 15 });
  return { merchantId, accessKey };
}

/** A paid periodic line of 99.00 CNY, paid `paidAgoMs` ago; answers its order id. */
async function paidLine(m: Merchant, paidAgoMs: number, productId = `${m.merchantId}-p`): Promise<string> {
  const orderId = uniqueId('O');
  await h.db.query(`insert into orders (order_id, merchant_id, customer_id, order_type, currency) values ($1, $2, 'C', 'NEW', 'CNY')`, [orderId, m.merchantId]);
  await h.db.query(
    `insert into order_lines (order_id, order_line_id, product_id, sku_code, charging_mode, amount, workflow_id, status, accepted_at)
     values ($1, $1 || '-1', $2, 'SKU', 'PERIOD', 99.00, 'subscription:' || $1, 'active', $3)`,
    [orderId, productId, new Date(Date.now() - paidAgoMs)],
  );
  return orderId;
}

/** The refund as operators read it, once it has its verdict. */
async function decided(refundOrderId: string): Promise<{ status: string; amount: string | null; rule: string | null; decisions: Record<string, unknown>[] }> {
  const { body } = await until(
    () => request(h.app).get(`/v1/refunds/${refundOrderId}`).set(operator()),
    (r) => r.status === 200 && r.body.status !== 'pending',
    { intervalMs: 100, what: `refund ${refundOrderId} never decided` },
  );
  return body;
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
    expect(res.body).toMatchObject({ workflowId: `refund:R${orderId}`, refundOrderId: `R${orderId}`, duplicate: false });
    expect(res.headers.location).toBe(`/v1/refunds/R${orderId}`);
    expect(await verdictOf(orderId)).toEqual({ orderId, orderLineId: `${orderId}-1`, refundOrderId: `R${orderId}`, approved: true, kind: 'full', amount: '99.0000', currency: 'CNY' });

    // Every decision is on record with its reason; the settlement reads status and amount.
    const refund = await decided(`R${orderId}`);
    expect(refund).toMatchObject({ refundOrderId: `R${orderId}`, orderId, orderLineId: `${orderId}-1`, merchantId: m.merchantId, customerId: 'C', origin: 'customer', kind: 'full', status: 'approved', amount: '99.0000', currency: 'CNY' });
    expect(refund.decisions.map((d) => [d.seq, d.step, d.outcome, d.actorType, d.actorId])).toEqual([
      [1, 'requested', 'requested', 'customer', 'C'],
      [2, 'rules', 'full', 'marketplace', 'refund-rules'],
      [3, 'verdict', 'approved', 'marketplace', 'refund-rules'],
    ]);
    expect(refund.decisions[1]?.reason).toMatch(/within 5 days/);

    // The order's timeline shows them on the line.
    const order = await request(h.app).get(`/v1/orders/${orderId}`).set(operator());
    expect(order.status).toBe(200);
    expect(order.body.lines[0].refunds).toEqual([expect.objectContaining({ refundOrderId: `R${orderId}`, status: 'approved', decisions: refund.decisions })]);
    const list = await request(h.app).get(`/v1/orders/${orderId}/refunds`).set(operator());
    expect(list.body).toEqual({ orderId, refunds: [refund] });

    // Approved is live: another refund order for the line is refused, and nothing is stored.
    const again = await webhook('order.refund_requested', { ...refundRequested(orderId), refundOrderId: `R2${orderId}` });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'refund_already_live', details: [{ field: 'data.orderLineId' }] });
    expect((await request(h.app).get(`/v1/refunds/R2${orderId}`).set(operator())).status).toBe(404);
  });

  test('when the customer already had 10 self-service refunds this year, then the full refund is refused by that rule', async () => {
    const m = await merchant();
    const orderId = await paidLine(m, DAY_MS);
    const earlier = Array.from({ length: 10 }, (_, i) => new Date(Date.now() - (i + 1) * 60_000).toISOString());
    expect((await webhook('order.refund_requested', refundRequested(orderId, { earlierSelfServiceRefunds: earlier }))).status).toBe(202);
    expect(await verdictOf(orderId)).toMatchObject({ approved: false, rule: 'self_service_limit_reached' });
    expect(await decided(`R${orderId}`)).toMatchObject({ status: 'refused', amount: null, rule: 'self_service_limit_reached' });
    // A refused refund is not live: the customer may ask again (a negotiated refund, under a new refund order).
    const next = await webhook('order.refund_requested', { ...refundRequested(orderId, { proposedAmount: '10' }), refundOrderId: `R2${orderId}` });
    expect(next.status).toBe(202);
    expect(next.body).toMatchObject({ workflowId: `refund:R2${orderId}`, duplicate: false });
  });

  test('when a negotiated refund is asked, then only its merchant answers it, once, and the verdict follows', async () => {
    const m = await merchant();
    const other = await merchant();
    const orderId = await paidLine(m, 10 * DAY_MS);
    const first = await webhook('order.refund_requested', refundRequested(orderId, { proposedAmount: '40.5' }));
    expect(first.status).toBe(202);
    // The same refund order again (another event) does not start a second refund.
    const second = await webhook('order.refund_requested', refundRequested(orderId, { proposedAmount: '90' }));
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ workflowId: `refund:R${orderId}`, duplicate: true });
    // Another refund order while this one is pending: 409.
    const concurrent = await webhook('order.refund_requested', { ...refundRequested(orderId), refundOrderId: `R3${orderId}` });
    expect(concurrent.status).toBe(409);
    expect(concurrent.body.error.code).toBe('refund_already_live');

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
    expect(answered.body).toMatchObject({ workflowId: `refund:R${orderId}`, answer: { approved: true, actorType: 'merchant', actor: m.merchantId, reason: 'fair' } });
    expect(await verdictOf(orderId)).toEqual({ orderId, orderLineId: `${orderId}-1`, refundOrderId: `R${orderId}`, approved: true, kind: 'negotiated', amount: '40.5', currency: 'CNY' });
    // The same answer again is answered as the first; a different one is refused.
    const same = await merchantPost(m, url, '{"approved":true,"reason":"fair"}');
    expect(same.status).toBe(200);
    expect(same.body.answer).toEqual(answered.body.answer);
    const contrary = await merchantPost(m, url, '{"approved":false}');
    expect(contrary.status).toBe(409);
    expect(contrary.body.error.code).toBe('refund_already_answered');
    // A line with no refund cannot be answered.
    const idle = await paidLine(m, DAY_MS);
    const none = await merchantPost(m, `/v1/refunds/merchant/orders/${idle}/lines/${idle}-1/answer`, '{"approved":true}');
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('refund_not_found');

    // The merchant reads its own refund, with the answer on record; another merchant cannot.
    const refund = await decided(`R${orderId}`);
    expect(refund).toMatchObject({ status: 'approved', amount: '40.5000', kind: 'negotiated', proposedAmount: '40.5000' });
    const own = await merchantGet(m, `/v1/refunds/merchant/refunds/R${orderId}`);
    expect(own.status).toBe(200);
    expect(own.body).toEqual(refund);
    expect(own.body.decisions.map((d: { step: string; outcome: string; reason: string }) => [d.step, d.outcome, d.reason])).toEqual([
      ['requested', 'requested', 'the customer proposed a refund of 40.5'],
      ['rules', 'negotiated', expect.stringMatching(/guarantee period/)],
      ['merchant_answer', 'approved', 'fair'],
      ['verdict', 'approved', 'refunded 40.5 CNY'],
    ]);
    expect((await merchantGet(other, `/v1/refunds/merchant/refunds/R${orderId}`)).status).toBe(404);
    expect((await request(h.app).get(`/v1/refunds/merchant/refunds/R${orderId}`)).status).toBe(401);
    // The same routes for operators need the operator's token.
    expect((await request(h.app).get(`/v1/refunds/R${orderId}`)).status).toBe(401);
  });

  test('when an operator answers a negotiated refund for the merchant, then the answer is recorded under the operator, with the reason, and the verdict follows', async () => {
    const m = await merchant();
    const orderId = await paidLine(m, 10 * DAY_MS);
    expect((await webhook('order.refund_requested', refundRequested(orderId, { proposedAmount: '20' }))).status).toBe(202);
    const url = `/v1/refunds/R${orderId}/answer`;
    expect((await request(h.app).post(url).send({ approved: false, reason: 'no' })).status).toBe(401);
    const noReason = await request(h.app).post(url).set(operator()).send({ approved: false });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.details.map((d: { field: string }) => d.field)).toEqual(['reason']);
    const unknown = await request(h.app).post(`/v1/refunds/R-none-${orderId}/answer`).set(operator()).send({ approved: false, reason: 'unknown refund' });
    expect(unknown.status).toBe(404);

    const answered = await until(
      () => request(h.app).post(url).set(operator()).send({ approved: false, reason: 'merchant declined by phone' }),
      (r) => r.status !== 409,
      { intervalMs: 100, what: 'the refund never awaited the merchant' },
    );
    expect(answered.status).toBe(200);
    expect(answered.body.answer).toMatchObject({ approved: false, actorType: 'operator', actor: 'ops-anna', reason: 'merchant declined by phone' });
    expect(await verdictOf(orderId)).toMatchObject({ approved: false, rule: 'merchant_rejected' });
    const refund = await decided(`R${orderId}`);
    expect(refund).toMatchObject({ status: 'refused', rule: 'merchant_rejected', amount: null });
    expect(refund.decisions[2]).toMatchObject({ step: 'merchant_answer', outcome: 'rejected', actorType: 'operator', actorId: 'ops-anna', reason: 'merchant declined by phone' });
    const { rows } = await h.db.query(`select actor, action, reason from operator_actions where target_type = 'refund' and target_id = $1`, [`R${orderId}`]);
    expect(rows).toEqual([{ actor: 'ops-anna', action: 'refund.reject', reason: 'merchant declined by phone' }]);
    // Decided: no second answer.
    const late = await request(h.app).post(url).set(operator()).send({ approved: true, reason: 'changed mind' });
    expect(late.status).toBe(409);
  });

  test('when the customer asks for an invoice while the merchant reviews a negotiated refund, then the refund fails as invoice_requested_during_review, recorded and told', async () => {
    const m = await merchant();
    const orderId = await paidLine(m, 10 * DAY_MS);
    expect((await webhook('order.refund_requested', refundRequested(orderId, { proposedAmount: '30' }))).status).toBe(202);
    // The review is on record once the rules' step is.
    await until(
      () => request(h.app).get(`/v1/refunds/R${orderId}`).set(operator()),
      (r) => r.status === 200 && r.body.decisions.some((d: { step: string }) => d.step === 'rules'),
      { intervalMs: 100, what: 'the refund never reached the merchant' },
    );
    const eventId = uniqueId('msg_invoice_');
    const invoice = { orderId, orderLineId: `${orderId}-1`, requestedAt: new Date().toISOString() };
    const res = await webhook('order.invoice_requested', invoice, eventId);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ eventId, orderId, orderLineId: `${orderId}-1`, status: 'accepted', refundTold: true, refundOrderId: `R${orderId}`, workflowId: `refund:R${orderId}` });
    expect(res.headers.location).toBe(`/v1/refunds/R${orderId}`);
    expect(await verdictOf(orderId)).toEqual({ orderId, orderLineId: `${orderId}-1`, refundOrderId: `R${orderId}`, approved: false, kind: 'negotiated', rule: 'invoice_requested_during_review' });
    const refund = await decided(`R${orderId}`);
    expect(refund).toMatchObject({ status: 'refused', rule: 'invoice_requested_during_review', amount: null });
    expect(refund.decisions.map((d) => [d.step, d.outcome, d.rule, d.actorType, d.actorId])).toEqual([
      ['requested', 'requested', null, 'customer', 'C'],
      ['rules', 'negotiated', null, 'marketplace', 'refund-rules'],
      ['invoice_requested', 'refused', 'invoice_requested_during_review', 'customer', 'C'],
      ['verdict', 'refused', 'invoice_requested_during_review', 'marketplace', 'refund-rules'],
    ]);
    // The merchant's answer comes too late.
    const late = await merchantPost(m, `/v1/refunds/merchant/refunds/R${orderId}/answer`, '{"approved":true}');
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('refund_not_awaiting_merchant');
    // A redelivery gets the first answer; a later invoice request finds nothing under review.
    const again = await webhook('order.invoice_requested', invoice, eventId);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(res.body);
    const later = await webhook('order.invoice_requested', { ...invoice, requestedAt: new Date().toISOString() });
    expect(later.status).toBe(202);
    expect(later.body).toMatchObject({ refundTold: false });
    expect((await decided(`R${orderId}`)).decisions).toHaveLength(4);
  });

  test('when an invoice is asked for a line without a refund under review, then the event is recorded and changes nothing; a bad or unknown one is refused', async () => {
    const m = await merchant();
    // A full refund has no review: it is approved whatever the invoice request.
    const orderId = await paidLine(m, DAY_MS);
    const eventId = uniqueId('msg_invoice_');
    const res = await webhook('order.invoice_requested', { orderId, orderLineId: `${orderId}-1`, requestedAt: new Date().toISOString() }, eventId);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ eventId, orderId, orderLineId: `${orderId}-1`, status: 'accepted', refundTold: false });
    const { rows } = await h.db.query(`select event_type as "eventType", workflow_id as "workflowId", response_status as "status" from inbound_events where event_id = $1`, [eventId]);
    expect(rows).toEqual([{ eventType: 'order.invoice_requested', workflowId: `subscription:${orderId}`, status: 202 }]);
    expect((await request(h.app).get(`/v1/orders/${orderId}/refunds`).set(operator())).body.refunds).toEqual([]);

    const missing = await webhook('order.invoice_requested', { orderId: uniqueId('O'), orderLineId: 'x', requestedAt: new Date().toISOString() });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('order_line_not_found');
    const badEventId = uniqueId('msg_invoice_');
    const bad = await webhook('order.invoice_requested', { orderId, orderLineId: `${orderId}-1`, requestedAt: 'yesterday' }, badEventId);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(['data.requestedAt']);
    expect((await h.db.query(`select 1 from inbound_events where event_id = $1`, [badEventId])).rowCount).toBe(0);
  });

  test('when a claimed licence code is refunded by negotiation, then the supervision record refuses it as licence_claimed', async () => {
    const m = await merchant();
    const productId = `${m.merchantId}-licence`;
    await upsertProduct(h.db, { productId, merchantId: m.merchantId, name: 'licence', chargingMode: 'PERIOD', retentionDays: 15 });
    await h.db.query(`update products set supervised = true, supervision_variant = 'licence' where product_id = $1`, [productId]);
    const orderId = await paidLine(m, 10 * DAY_MS, productId);
    const workflowId = `supervision:${orderId}`;
    await h.db.query(
      `insert into supervisions (workflow_id, order_id, order_line_id, merchant_id, customer_id, product_id, variant, node, node_since)
       values ($1, $2, $2 || '-1', $3, 'C', $4, 'licence', 'awaiting-activation', now())`,
      [workflowId, orderId, m.merchantId, productId],
    );
    await h.db.query(`insert into supervision_events (workflow_id, seq, node, action, actor_type, actor_id, at) values ($1, 1, 'awaiting-activation', 'licence.claimed', 'customer', 'C', now())`, [
      workflowId,
    ]);
    expect((await webhook('order.refund_requested', refundRequested(orderId, { proposedAmount: '20' }))).status).toBe(202);
    expect(await verdictOf(orderId)).toMatchObject({ approved: false, rule: 'licence_claimed' });
  });

  test('when the supervision of a manual service has a requirement returned and resubmitted, then the facts read are the first submission and each wait on the customer', async () => {
    const m = await merchant();
    const orderId = await paidLine(m, 40 * DAY_MS);
    const workflowId = `supervision:${orderId}`;
    await h.db.query(
      `insert into supervisions (workflow_id, order_id, order_line_id, merchant_id, customer_id, product_id, variant, node, node_since)
       values ($1, $2, $2 || '-1', $3, 'C', $4, 'service', 'requirement-returned', now())`,
      [workflowId, orderId, m.merchantId, `${m.merchantId}-p`],
    );
    const t = (iso: string) => new Date(iso);
    const events: [number, string, string, Date][] = [
      [1, 'awaiting-confirmation', 'requirement.submitted', t('2026-03-02T00:00:00Z')],
      [2, 'requirement-returned', 'requirement.returned', t('2026-03-03T00:00:00Z')],
      [3, 'awaiting-confirmation', 'requirement.submitted', t('2026-04-20T00:00:00Z')],
      [4, 'requirement-returned', 'requirement.returned', t('2026-04-21T00:00:00Z')],
    ];
    for (const [seq, node, action, at] of events) {
      await h.db.query(`insert into supervision_events (workflow_id, seq, node, action, actor_type, actor_id, at) values ($1, $2, $3, $4, 'customer', 'C', $5)`, [workflowId, seq, node, action, at]);
    }
    expect(await supervisionRecordOfLine(h.db, orderId, `${orderId}-1`)).toEqual({
      requirementSubmittedAt: Date.parse('2026-03-02T00:00:00Z'),
      customerWaits: [{ from: Date.parse('2026-03-03T00:00:00Z'), to: Date.parse('2026-04-20T00:00:00Z') }, { from: Date.parse('2026-04-21T00:00:00Z') }],
      licenceClaimed: false,
    });
    expect(await supervisionRecordOfLine(h.db, uniqueId('O'), 'none')).toEqual({ customerWaits: [], licenceClaimed: false });
  });

  test('when hardware is in transit, then the refund is refused as hardware_in_transit', async () => {
    const m = await merchant();
    const orderId = await paidLine(m, DAY_MS);
    expect((await webhook('order.refund_requested', refundRequested(orderId, { goodsInTransit: true }))).status).toBe(202);
    expect(await verdictOf(orderId)).toMatchObject({ approved: false, rule: 'hardware_in_transit' });
  });

  test('when the order line is unknown or the event is malformed, then 404 or 400 and nothing starts', async () => {
    const missing = await webhook('order.refund_requested', refundRequested(uniqueId('O')));
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('order_line_not_found');
    const malformed = await webhook('order.refund_requested', refundRequested(uniqueId('O'), { proposedAmount: '-1' }));
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details.map((d: { field: string }) => d.field)).toEqual(['data.proposedAmount']);
    const badFlag = await webhook('order.refund_requested', refundRequested(uniqueId('O'), { goodsInTransit: 'yes' }));
    expect(badFlag.status).toBe(400);
    expect(badFlag.body.error.details.map((d: { field: string }) => d.field)).toEqual(['data.goodsInTransit']);
    expect((await request(h.app).get(`/v1/refunds/${uniqueId('R')}`).set(operator())).body.error.code).toBe('refund_not_found');
  });

  test('when a refund order id is reused for another order line, then 409 names it and nothing starts', async () => {
    const m = await merchant();
    const first = await paidLine(m, DAY_MS);
    const second = await paidLine(m, DAY_MS);
    const refundOrderId = uniqueId('R');
    expect((await webhook('order.refund_requested', { ...refundRequested(first), refundOrderId })).status).toBe(202);
    const reused = await webhook('order.refund_requested', { ...refundRequested(second), refundOrderId });
    expect(reused.status).toBe(409);
    expect(reused.body.error).toMatchObject({ code: 'refund_order_id_reused', details: [{ field: 'data.refundOrderId' }] });
    expect((await request(h.app).get(`/v1/orders/${second}/refunds`).set(operator())).body).toEqual({ orderId: second, refunds: [] });
    const unknownOrder = await request(h.app).get(`/v1/orders/${uniqueId('O')}/refunds`).set(operator());
    expect(unknownOrder.status).toBe(404);
    expect(unknownOrder.body.error.code).toBe('order_not_found');
  });
});
