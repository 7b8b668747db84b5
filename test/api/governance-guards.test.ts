/**
 * Listing guards over HTTP, on real PostgreSQL: a new product is not registered on sale while
 * its merchant may not publish (a penalty's freeze), is leaving, or was removed; a removed
 * merchant cannot be registered again (its erased key would come back); once an exit is
 * approved the listing routes refuse changes, so nothing goes back on sale mid-removal; a
 * penalty entry tells the merchant in-site and starts its e-mail's workflow (Temporal dev server, no worker). Also, on PostgreSQL without HTTP: the dial tests'
 * lift leaves a product hidden under a publishing freeze, and the exit's steps tell the merchant.
 */
import request from 'supertest';
import { createDialTestActivities } from '../../src/activities/governance/dial-tests';
import { createExitActivities } from '../../src/activities/governance/exit';
import { insertDialTestSanction, recordDialTestResults } from '../../src/db/repositories/governance/dial-tests';
import { insertExit } from '../../src/db/repositories/governance/exit';
import { setMerchantListing, setProductListing } from '../../src/db/repositories/governance/listing';
import type { Mailer } from '../../src/clients/mailer';
import { penaltyNoticeWorkflowId } from '../../src/workflows/governance/penalties/messages';
import { apiHarness, uniqueId, type ApiHarness } from '../helpers/api-harness';

let h: ApiHarness;

beforeAll(async () => {
  h = await apiHarness();
});

afterAll(async () => {
  await h?.close();
});

const operator = () => ({ authorization: `Bearer ${h.config.operatorToken}`, 'x-operator': 'alice' });
const registerMerchant = (merchantId: string, accessKey = 'guard-access-key') =>
  request(h.app).put(`/v1/merchants/${merchantId}`).set(operator()).send({ name: 'Guarded merchant', productionUrl: 'http://127.0.0.1:9/saasproduce', protocolVersion: 'v2', accessKey, contactEmail: 'ops@merchant.example' });
const registerProduct = (merchantId: string, productId: string, name = 'Monthly') =>
  request(h.app).put(`/v1/merchants/${merchantId}/products/${productId}`).set(operator()).send({ name, chargingMode: 'PERIOD', retentionDays: 7 });
const productListing = (merchantId: string, productId: string, body: object) => request(h.app).post(`/v1/merchants/${merchantId}/products/${productId}/listing`).set(operator()).send(body);
const merchantListing = (merchantId: string, body: object) => request(h.app).post(`/v1/merchants/${merchantId}/listing`).set(operator()).send(body);

async function merchantWithProduct(): Promise<{ merchantId: string; productId: string }> {
  const merchantId = uniqueId('M');
  const productId = uniqueId('P');
  await registerMerchant(merchantId).expect(201);
  await registerProduct(merchantId, productId).expect(201);
  return { merchantId, productId };
}

async function productRow(productId: string): Promise<{ listing_state: string; name: string } | undefined> {
  return (await h.db.query<{ listing_state: string; name: string }>(`select listing_state, name from products where product_id = $1`, [productId])).rows[0];
}

async function merchantState(merchantId: string): Promise<string> {
  return (await h.db.query<{ listing_state: string }>(`select listing_state from merchants where merchant_id = $1`, [merchantId])).rows[0]!.listing_state;
}

const freezePublishing = (merchantId: string) => h.db.query(`update merchants set publishing_frozen_until = now() + interval '180 days' where merchant_id = $1`, [merchantId]);

describe('registering a product', () => {
  it('when the merchant\'s publishing is frozen, then a new product is 409 publishing_frozen and not stored; an existing one is still updated, its state unchanged', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    await productListing(merchantId, productId, { state: 'hidden', reason: 'fixing the interface' }).expect(200);
    await freezePublishing(merchantId);
    const newProductId = uniqueId('P');

    const refused = await registerProduct(merchantId, newProductId).expect(409);
    await registerProduct(merchantId, productId, 'Monthly, renamed').expect(200);

    expect(refused.body.error.code).toBe('publishing_frozen');
    expect(await productRow(newProductId)).toBeUndefined();
    expect(await productRow(productId)).toEqual({ listing_state: 'hidden', name: 'Monthly, renamed' });
  });

  it('when the publishing freeze has ended, then a new product is registered on sale', async () => {
    const { merchantId } = await merchantWithProduct();
    await h.db.query(`update merchants set publishing_frozen_until = now() - interval '1 second' where merchant_id = $1`, [merchantId]);
    const productId = uniqueId('P');
    await registerProduct(merchantId, productId).expect(201);
    expect(await productRow(productId)).toMatchObject({ listing_state: 'on_sale' });
  });

  it('when the merchant is exiting, then a new product is 409 merchant_exiting and not stored', async () => {
    const { merchantId } = await merchantWithProduct();
    await merchantListing(merchantId, { state: 'exiting', reason: 'asked to leave' }).expect(200);
    const productId = uniqueId('P');
    const refused = await registerProduct(merchantId, productId).expect(409);
    expect(refused.body.error.code).toBe('merchant_exiting');
    expect(await productRow(productId)).toBeUndefined();
  });
});

describe('a removed merchant', () => {
  it('when an operator registers it again, then 409 merchant_removed and its erased key stays erased; its products do not change either', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    await h.db.query(`update merchants set listing_state = 'removed', access_key_enc = '' where merchant_id = $1`, [merchantId]);

    const revived = await registerMerchant(merchantId, 'a-new-key').expect(409);
    const product = await registerProduct(merchantId, productId, 'Renamed').expect(409);
    const fresh = await registerProduct(merchantId, uniqueId('P')).expect(409);

    expect([revived.body.error.code, product.body.error.code, fresh.body.error.code]).toEqual(['merchant_removed', 'merchant_removed', 'merchant_removed']);
    const { rows } = await h.db.query(`select listing_state, access_key_enc, name from merchants where merchant_id = $1`, [merchantId]);
    expect(rows[0]).toEqual({ listing_state: 'removed', access_key_enc: '', name: 'Guarded merchant' });
    expect(await productRow(productId)).toMatchObject({ name: 'Monthly' });
  });
});

describe('an approved exit', () => {
  async function exitAt(merchantId: string, step: string, ended = false): Promise<string> {
    const exitId = uniqueId('exit');
    await insertExit(h.db, { exitId, merchantId, workflowId: `exit:${merchantId}`, kind: 'requested', requestedBy: merchantId, reason: 'leaving' });
    await h.db.query(`update merchant_exits set step = $2, ended_at = case when $3 then now() end where exit_id = $1`, [exitId, step, ended]);
    return exitId;
  }

  it('when an operator relists a product or unfreezes the merchant mid-removal, then 409 exit_approved and nothing changes', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    await productListing(merchantId, productId, { state: 'delisted', reason: 'exit approved' }).expect(200);
    await merchantListing(merchantId, { state: 'trading_frozen', reason: 'exit approved' }).expect(200);
    await exitAt(merchantId, 'awaiting-releases');

    const relist = await productListing(merchantId, productId, { state: 'on_sale', reason: 'oops' }).expect(409);
    const unfreeze = await merchantListing(merchantId, { state: 'active', reason: 'oops' }).expect(409);
    const fresh = await registerProduct(merchantId, uniqueId('P')).expect(409);

    expect([relist.body.error.code, unfreeze.body.error.code, fresh.body.error.code]).toEqual(['exit_approved', 'exit_approved', 'exit_approved']);
    expect(relist.body.error.message).toContain('awaiting-releases');
    expect(await productRow(productId)).toMatchObject({ listing_state: 'delisted' });
    expect(await merchantState(merchantId)).toBe('trading_frozen');
  });

  it('when the exit is not approved yet, or has ended, then the listing routes change states as before', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    await exitAt(merchantId, 'blocked');
    await productListing(merchantId, productId, { state: 'hidden', reason: 'before the review' }).expect(200);
    await h.db.query(`update merchant_exits set step = 'rejected', ended_at = now() where merchant_id = $1`, [merchantId]);
    await exitAt(merchantId, 'releasing', true);
    await productListing(merchantId, productId, { state: 'on_sale', reason: 'after the exit' }).expect(200);
    expect(await productRow(productId)).toMatchObject({ listing_state: 'on_sale' });
  });
});

describe('notices', () => {
  it('when a penalty is recorded, then the merchant has one in-site message naming the violation, the points and the consequences, and its e-mail is handed to the worker once', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    const recorded = await request(h.app)
      .post(`/v1/merchants/${merchantId}/penalties`)
      .set(operator())
      .set('idempotency-key', 'guard-penalty-1')
      .send({ code: 'outdated_product_content', productId, reason: 'pricing page from 2019' })
      .expect(201);
    await request(h.app).post(`/v1/merchants/${merchantId}/penalties`).set(operator()).set('idempotency-key', 'guard-penalty-1').send({ code: 'outdated_product_content', productId, reason: 'pricing page from 2019' }).expect(200);

    const { rows } = await h.db.query<{ idempotency_key: string; subject: string; body: string; email_status: string }>(
      `select idempotency_key, subject, body, email_status from notifications where recipient_type = 'merchant' and recipient_id = $1`,
      [merchantId],
    );
    expect(rows).toHaveLength(1);
    // The merchant has a contact address: the e-mail waits for the worker's penaltyNoticeWorkflow (no worker runs here).
    expect(rows[0]!.email_status).toBe('pending');
    expect(recorded.body.noticeEmail).toBe('started');
    const started = await h.client.workflow.getHandle(penaltyNoticeWorkflowId(recorded.body.entry.entryId as string)).fetchHistory();
    const input = started.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
    expect(JSON.parse(Buffer.from(input as Uint8Array).toString('utf8'))).toEqual({
      notice: { idempotencyKey: rows[0]!.idempotency_key, merchantId, subject: rows[0]!.subject, body: rows[0]!.body },
    });
    expect(rows[0]!.idempotency_key).toBe(`penalty:${recorded.body.entry.entryId as string}`);
    expect(rows[0]!.subject).toBe(`Penalty ${recorded.body.entry.entryId as string}: outdated_product_content (10 points)`);
    expect(rows[0]!.body).toContain('pricing page from 2019');
    expect(rows[0]!.body).toContain(`product ${productId}: on_sale → delisted_until until ${recorded.body.entry.delistedUntil as string}`);
  });

  it('when the exit records its steps, then the merchant is told of the request, the block with its orders, the approval with the reason and the removal, by in-site message and e-mail, once each', async () => {
    const { merchantId } = await merchantWithProduct();
    const sent: Array<{ to: string; subject: string }> = [];
    const mailer: Mailer = { send: async (m) => void sent.push({ to: m.to, subject: m.subject }) } as Mailer;
    const exits = createExitActivities({ db: h.db, mailer });
    const exitId = uniqueId('exit');
    await insertExit(h.db, { exitId, merchantId, workflowId: `exit:${merchantId}`, kind: 'requested', requestedBy: merchantId, reason: 'closing' });
    const blocking = [{ precondition: 'no-unsettled-order' as const, orders: [{ orderId: 'ORD-1', orderLineId: 'ORD-1-000001', productId: 'P', why: 'not on a paid statement' }] }];
    const entry = (seq: number, action: string, reason?: string) => ({ seq, atMs: Date.now(), actor: 'alice', action, ...(reason ? { reason } : {}) });

    await exits.recordExitProgress({ exitId, step: 'checking', entries: [entry(1, 'exit-requested', 'closing')] });
    await exits.recordExitProgress({ exitId, step: 'blocked', blocking, entries: [entry(2, 'preconditions-failing')] });
    // A retried activity, and an hourly re-check with nothing new: no second notice.
    await exits.recordExitProgress({ exitId, step: 'blocked', blocking, entries: [entry(2, 'preconditions-failing')] });
    await exits.recordExitProgress({ exitId, step: 'blocked', blocking });
    await exits.recordExitProgress({ exitId, step: 'delisting', entries: [entry(3, 'preconditions-met'), entry(4, 'exit-approved', 'all settled')] });
    await exits.recordExitProgress({ exitId, step: 'recording', entries: [entry(5, 'products-delisted'), entry(6, 'merchant-removed')] });

    const { rows } = await h.db.query<{ idempotency_key: string; subject: string; body: string; email_status: string }>(
      `select idempotency_key, subject, body, email_status from notifications where recipient_id = $1 order by notification_id`,
      [merchantId],
    );
    expect(rows.map((r) => [r.idempotency_key, r.subject, r.email_status])).toEqual([
      [`exit:${exitId}:1`, 'Your exit request was received', 'sent'],
      [`exit:${exitId}:2`, 'Your exit is blocked', 'sent'],
      [`exit:${exitId}:4`, 'Your exit was approved', 'sent'],
      [`exit:${exitId}:6`, 'You were removed from the marketplace', 'sent'],
    ]);
    expect(rows[1]!.body).toContain('order ORD-1 (line ORD-1-000001, product P): not on a paid statement');
    expect(rows[2]!.body).toContain('all settled');
    expect(sent).toEqual(rows.map((r) => ({ to: 'ops@merchant.example', subject: r.subject })));
  });

  it('when an exit is rejected, then the merchant is told with the reason', async () => {
    const { merchantId } = await merchantWithProduct();
    const exits = createExitActivities({ db: h.db });
    const exitId = uniqueId('exit');
    await insertExit(h.db, { exitId, merchantId, workflowId: `exit:${merchantId}`, kind: 'forced', requestedBy: 'alice', reason: 'terminated' });
    await exits.recordExitProgress({ exitId, step: 'rejected', entries: [{ seq: 2, atMs: Date.now(), actor: 'bob', action: 'exit-rejected', reason: 'the contract runs on' }] });
    const { rows } = await h.db.query(`select subject, body from notifications where recipient_id = $1`, [merchantId]);
    expect(rows).toEqual([{ subject: 'Your exit was rejected', body: expect.stringContaining('the contract runs on') }]);
  });
});

describe('the dial tests\' lift', () => {
  it('when a product the dial tests hid passes again under a publishing freeze, then trading returns but the product stays hidden', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    const reason = 'dial tests failed 5 consecutive days';
    await setProductListing(h.db, { merchantId, productId, from: 'on_sale', to: 'hidden', until: null, actor: 'dial-tests', reason });
    await setMerchantListing(h.db, { merchantId, from: 'active', to: 'trading_frozen', actor: 'dial-tests', reason });
    await insertDialTestSanction(h.db, { productId, merchantId, imposedRunId: uniqueId('run'), imposedDay: '2026-11-30', failedDays: 5, productHidden: true, merchantFrozen: true });
    await freezePublishing(merchantId);
    const runId = uniqueId('run');
    const runAtMs = Date.parse('2026-12-01T01:00:00Z');
    const passed = (['create', 'query', 'release'] as const).map((caseKind) => ({ caseKind, ok: true, resultCode: '000000', latencyMs: 5, error: null }));
    await recordDialTestResults(h.db, { runId, merchantId, productId, ranAt: new Date(runAtMs).toISOString(), day: '2026-12-01' }, passed);
    const dial = createDialTestActivities({ db: h.db, merchants: {} as never, merchantClient: {} as never });

    const verdict = await dial.judgeDialTests({ runId, merchantId, productId, runAtMs, failedDaysToFreeze: 5 });

    expect(verdict).toMatchObject({ passed: true, action: 'lifted' });
    expect(await productRow(productId)).toMatchObject({ listing_state: 'hidden' });
    expect(await merchantState(merchantId)).toBe('active');
  });
});
