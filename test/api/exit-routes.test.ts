/**
 * The exit routes over HTTP, on real PostgreSQL and the Temporal dev server, with a worker
 * running the exit workflow and its real activities: the merchant's signed request and its
 * exit's status with the blocking orders read from PostgreSQL, the no-invoice proof per order,
 * the operator's review (refused while blocked, rejected: the merchant trades again; approved:
 * delisted and removed), the exit record, the removed merchant's requests refused, isolation
 * between merchants and bad input naming the field.
 */
import path from 'node:path';
import request from 'supertest';
import { createExitActivities } from '../../src/activities/governance/exit';
import { createOrderSystemActivities } from '../../src/activities/notices/order-system';
import { upsertProduct } from '../../src/db/repositories/catalog/merchants';
import { exitWorkflowId } from '../../src/workflows/governance/exit/messages';
import { registerMerchant } from '../activities/fixtures';
import { apiHarness, uniqueId, type ApiHarness } from '../helpers/api-harness';
import { startApiWorker, type ApiWorker } from '../helpers/api-worker';
import { partyHeaders } from '../helpers/signed-party';
import { until } from '../helpers/until';

let h: ApiHarness;
let worker: ApiWorker | undefined;
const started: string[] = [];

beforeAll(async () => {
  h = await apiHarness();
  worker = await startApiWorker({
    taskQueue: h.config.temporal.taskQueue,
    workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'),
    activities: { ...createOrderSystemActivities({ db: h.db }), ...createExitActivities({ db: h.db }) },
  });
});

afterAll(async () => {
  // Blocked exits wait an hour for their next check: end them with the suite.
  await Promise.all(started.map((id) => h.client.workflow.getHandle(id).terminate('test finished').catch(() => undefined)));
  await worker?.stop();
  await h?.close();
});

interface Merchant {
  merchantId: string;
  accessKey: string;
  productId: string;
}

const signed = (m: Merchant, method: 'GET' | 'POST', url: string, text = '') =>
  request(h.app)[method === 'GET' ? 'get' : 'post'](url).set(partyHeaders({ idHeader: 'x-merchant-id', id: m.merchantId, key: m.accessKey }, method, url, text)).send(text);
const operator = () => ({ authorization: `Bearer ${h.config.operatorToken}`, 'x-operator': 'ops-anna' });

async function merchant(): Promise<Merchant> {
  const merchantId = uniqueId('M-exit');
  const accessKey = `${merchantId}-access-key`;
  await registerMerchant(h.db, { merchantId, productionUrl: 'http://127.0.0.1:1/saasproduce', accessKey });
  const productId = `${merchantId}-p`;
  await upsertProduct(h.db, { productId, merchantId, name: 'p', chargingMode: 'PERIOD', retentionDays: 15 });
  return { merchantId, accessKey, productId };
}

/** A provisioned periodic line of 99.00 CNY, paid a day ago and not billed yet; answers its order id. */
async function activeLine(m: Merchant): Promise<string> {
  const orderId = uniqueId('O');
  await h.db.query(`insert into orders (order_id, merchant_id, customer_id, order_type, currency) values ($1, $2, 'C', 'NEW', 'CNY')`, [orderId, m.merchantId]);
  await h.db.query(
    `insert into order_lines (order_id, order_line_id, product_id, sku_code, charging_mode, amount, workflow_id, status, accepted_at)
     values ($1, $1 || '-1', $2, 'SKU', 'PERIOD', 99.00, 'subscription:' || $1, 'active', now() - interval '1 day')`,
    [orderId, m.productId],
  );
  return orderId;
}

async function requestExit(m: Merchant): Promise<request.Response> {
  const res = await signed(m, 'POST', '/v1/governance/merchant/exit', JSON.stringify({ reason: 'closing the business' }));
  if (res.status === 202) started.push(exitWorkflowId(m.merchantId));
  return res;
}

async function exitAt(m: Merchant, step: string) {
  const { body } = await until(
    () => request(h.app).get(`/v1/merchants/${m.merchantId}/exit`).set(operator()),
    (r) => r.status === 200 && r.body.step === step,
    { intervalMs: 100, timeoutMs: 20_000, what: `exit of ${m.merchantId} not at ${step}` },
  );
  return body;
}

const merchantState = async (merchantId: string): Promise<string> =>
  (await h.db.query<{ s: string }>(`select listing_state as s from merchants where merchant_id = $1`, [merchantId])).rows[0]!.s;

const proof = { fileName: 'agreement.pdf', contentType: 'application/pdf', contentBase64: Buffer.from('%PDF-1.4 the customer agrees to no invoice').toString('base64') };

describe('a merchant asks to leave', () => {
  it('when it has an unsettled, uninvoiced order, then the exit is blocked naming that order, to the merchant and to operators, and cannot be approved', async () => {
    const m = await merchant();
    const orderId = await activeLine(m);
    const res = await requestExit(m);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ workflowId: `exit:${m.merchantId}`, duplicate: false, merchantId: m.merchantId });

    const view = await exitAt(m, 'blocked');
    expect(await merchantState(m.merchantId)).toBe('exiting');
    expect(view.blocking.map((b: { precondition: string }) => b.precondition)).toEqual(['no-unsettled-order', 'no-uninvoiced-order']);
    expect(view.blocking[0].orders).toEqual([expect.objectContaining({ orderId, why: expect.stringContaining('not billed yet') })]);
    expect(view.productsToDelist).toEqual([{ productId: m.productId, state: 'on_sale' }]);
    expect(view.timeline.map((e: { action: string }) => e.action)).toEqual(['exit-requested', 'preconditions-failing']);
    const own = await signed(m, 'GET', '/v1/governance/merchant/exit');
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ merchantId: m.merchantId, step: 'blocked', kind: 'requested', requestedBy: m.merchantId });

    // A second request is the running exit.
    expect((await requestExit(m)).body).toMatchObject({ duplicate: true });
    const approve = await request(h.app).post(`/v1/merchants/${m.merchantId}/exit/review`).set(operator()).send({ decision: 'approve', reason: 'looks fine' });
    expect(approve.status).toBe(409);
    expect(approve.body.error).toMatchObject({ code: 'exit_review_refused', message: expect.stringContaining('no-unsettled-order') });
  });

  it('when the merchant uploads the customer\'s no-invoice agreement, then the order leaves the uninvoiced precondition (another merchant\'s order is 404, a bad type 415)', async () => {
    const m = await merchant();
    const other = await merchant();
    const orderId = await activeLine(m);
    const othersOrder = await activeLine(other);
    await requestExit(m);
    await exitAt(m, 'blocked');
    const url = (o: string) => `/v1/governance/merchant/exit/orders/${o}/no-invoice-proof`;

    const foreign = await signed(m, 'POST', url(othersOrder), JSON.stringify(proof));
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('order_not_found');
    const badType = await signed(m, 'POST', url(orderId), JSON.stringify({ ...proof, contentType: 'application/x-msdownload' }));
    expect(badType.status).toBe(415);
    expect(badType.body.error.details).toEqual([expect.objectContaining({ field: 'contentType' })]);
    const missing = await signed(m, 'POST', url(orderId), JSON.stringify({ fileName: 'a.pdf' }));
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(['contentType', 'contentBase64']));

    const uploaded = await signed(m, 'POST', url(orderId), JSON.stringify(proof));
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toMatchObject({ orderId, fileName: 'agreement.pdf', exitRechecked: true });
    const { body } = await until(
      () => request(h.app).get(`/v1/merchants/${m.merchantId}/exit`).set(operator()),
      (r) => r.status === 200 && !r.body.blocking.some((b: { precondition: string }) => b.precondition === 'no-uninvoiced-order'),
      { intervalMs: 100, timeoutMs: 20_000, what: 'the proof did not clear the uninvoiced order' },
    );
    // Still unsettled: the proof clears the invoice, not the settlement.
    expect(body.blocking.map((b: { precondition: string }) => b.precondition)).toEqual(['no-unsettled-order']);
  });

  it('when the operator rejects the exit, then the merchant trades again and the record says why', async () => {
    const m = await merchant();
    await activeLine(m);
    await requestExit(m);
    await exitAt(m, 'blocked');
    const rejected = await request(h.app).post(`/v1/merchants/${m.merchantId}/exit/review`).set(operator()).send({ decision: 'reject', reason: 'open customer complaints' });
    expect(rejected.status).toBe(200);
    await exitAt(m, 'rejected');
    expect(await merchantState(m.merchantId)).toBe('active');
    const record = await until(() => request(h.app).get(`/v1/merchants/${m.merchantId}/exit/record`).set(operator()), (r) => r.status === 200, { intervalMs: 100, timeoutMs: 20_000, what: 'no record' });
    expect(record.body).toMatchObject({ merchantId: m.merchantId, outcome: 'rejected', review: { decision: 'reject', actor: 'ops-anna', reason: 'open customer complaints' } });
    const actions = await h.db.query(`select action, reason from operator_actions where target_id = $1 order by action_id`, [m.merchantId]);
    expect(actions.rows).toEqual([{ action: 'exit.reject', reason: 'open customer complaints' }]);
  });

  it('when nothing blocks and the operator approves, then its products are delisted, it is removed with its key erased, its signed requests are refused with 403, and the record is downloadable', async () => {
    const m = await merchant();
    await requestExit(m);
    await exitAt(m, 'awaiting-review');
    const approved = await request(h.app).post(`/v1/merchants/${m.merchantId}/exit/review`).set(operator()).send({ decision: 'approve', reason: 'nothing open' });
    expect(approved.status).toBe(200);
    await exitAt(m, 'removed');

    const row = (await h.db.query(`select listing_state, access_key_enc, sync_key_enc from merchants where merchant_id = $1`, [m.merchantId])).rows[0];
    expect(row).toEqual({ listing_state: 'removed', access_key_enc: '', sync_key_enc: null });
    expect((await h.db.query(`select listing_state from products where product_id = $1`, [m.productId])).rows[0]).toEqual({ listing_state: 'delisted' });
    const changes = await h.db.query(`select to_state, actor from listing_changes where merchant_id = $1 and target_type = 'merchant' order by change_id`, [m.merchantId]);
    expect(changes.rows).toEqual([
      { to_state: 'exiting', actor: m.merchantId },
      { to_state: 'trading_frozen', actor: 'ops-anna' },
      { to_state: 'removed', actor: 'ops-anna' },
    ]);

    const refused = await signed(m, 'GET', '/v1/governance/merchant/exit');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('merchant_removed');
    const again = await request(h.app).post(`/v1/merchants/${m.merchantId}/exit`).set(operator()).send({ reason: 'force it again' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('merchant_removed');

    const record = await request(h.app).get(`/v1/merchants/${m.merchantId}/exit/record`).set(operator());
    expect(record.status).toBe(200);
    expect(record.headers['content-disposition']).toContain(`exit-record-${m.merchantId}.json`);
    expect(record.body).toMatchObject({ merchantId: m.merchantId, outcome: 'removed', openObligations: [], finalStatements: [], invoices: [], refundsChargedBack: { refunds: [] } });
    expect(record.body.timeline.map((e: { action: string; actor: string }) => `${e.action}:${e.actor}`)).toEqual([
      `exit-requested:${m.merchantId}`,
      'preconditions-met:system',
      'exit-approved:ops-anna',
      'products-delisted:system',
      'trading-frozen:system',
      'subscriptions-refunded:system',
      'subscriptions-released:system',
      'merchant-removed:system',
    ]);
  });
});

describe('the exit routes refuse', () => {
  it('unsigned merchant requests (401) and bad bodies naming the field (400), changing nothing', async () => {
    const m = await merchant();
    expect((await request(h.app).post('/v1/governance/merchant/exit').send({ reason: 'leaving' })).status).toBe(401);
    const noReason = await signed(m, 'POST', '/v1/governance/merchant/exit', JSON.stringify({}));
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.details).toEqual([expect.objectContaining({ field: 'reason' })]);
    const extra = await signed(m, 'POST', '/v1/governance/merchant/exit', JSON.stringify({ reason: 'leaving', force: true }));
    expect(extra.status).toBe(400);
    expect(await merchantState(m.merchantId)).toBe('active');

    const badDecision = await request(h.app).post(`/v1/merchants/${m.merchantId}/exit/review`).set(operator()).send({ decision: 'maybe', reason: 'hmm hmm' });
    expect(badDecision.status).toBe(400);
    expect(badDecision.body.error.details).toEqual([expect.objectContaining({ field: 'decision' })]);
    const noExit = await request(h.app).post(`/v1/merchants/${m.merchantId}/exit/review`).set(operator()).send({ decision: 'approve', reason: 'nothing open' });
    expect(noExit.status).toBe(409);
    expect(noExit.body.error.code).toBe('exit_not_running');
    expect((await request(h.app).post(`/v1/merchants/${m.merchantId}/exit/recheck`).set(operator()).send({})).status).toBe(400);
    expect((await request(h.app).post(`/v1/merchants/${m.merchantId}/exit/recheck`).set(operator()).send({ reason: 'paid now' })).body.error.code).toBe('exit_not_running');
    expect((await request(h.app).post('/v1/merchants/nobody-here/exit').set(operator()).send({ reason: 'terminated' })).body.error.code).toBe('merchant_not_found');
    expect((await request(h.app).get(`/v1/merchants/${m.merchantId}/exit`).set(operator())).body.error.code).toBe('exit_not_found');
    expect((await request(h.app).get(`/v1/merchants/${m.merchantId}/exit/record`).set(operator())).body.error.code).toBe('exit_record_not_found');
    expect((await request(h.app).get(`/v1/merchants/${m.merchantId}/exit`)).status).toBe(401);
  });

  it('another merchant\'s exit: each merchant sees only its own', async () => {
    const leaving = await merchant();
    const staying = await merchant();
    await requestExit(leaving);
    await exitAt(leaving, 'awaiting-review');
    const view = await signed(staying, 'GET', '/v1/governance/merchant/exit');
    expect(view.status).toBe(404);
    expect(view.body.error.code).toBe('exit_not_found');
    expect(await merchantState(staying.merchantId)).toBe('active');
  });
});
