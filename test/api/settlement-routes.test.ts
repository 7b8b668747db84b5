/**
 * The settlement routes over HTTP, on real PostgreSQL and the Temporal dev server, with a
 * worker running the settlement workflows and their real activities: operator and merchant
 * authentication (merchants sign with their access key), merchant isolation, 4xx naming the field, every invoice rule refused by
 * name with nothing written, a statement walked from held to paid through the routes, and a
 * merchant's list of its own statements.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { createNotificationActivities } from '../../src/activities/notices/notifications';
import { createSettlementActivities } from '../../src/activities/settlement';
import { upsertProduct } from '../../src/db/repositories/catalog/merchants';
import { statementWorkflowId } from '../../src/workflows/settlement/messages';
import { computeScope } from '../../src/db/repositories/settlement/scope';
import { recreateDatabaseOn } from '../../src/dev/databases';
import { apiHarness, uniqueId, type ApiHarness } from '../helpers/api-harness';
import { startApiWorker, type ApiWorker } from '../helpers/api-worker';
import { registerMerchant } from '../activities/fixtures';
import { until } from '../helpers/until';
import { partyHeaders } from '../helpers/signed-party';

let h: ApiHarness;
let worker: ApiWorker | undefined;

const PERIOD = '202412';

beforeAll(async () => {
  // A database of its own: a bill run takes every merchant's unsettled facts, and must take
  // neither other suites' nor leave them a statement that moves their later facts on.
  const databaseUrl = await recreateDatabaseOn(process.env.TEST_DATABASE_URL as string, 'saas_fulfillment_settlement_routes');
  // The migration runner is an ES module jest cannot load: the project's own command runs it.
  await promisify(execFile)(path.resolve(__dirname, '../../node_modules/.bin/tsx'), ['src/db/migrate-cli.ts'], {
    cwd: path.resolve(__dirname, '../..'),
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
  h = await apiHarness({}, { databaseUrl });
  worker = await startApiWorker({
    taskQueue: h.config.temporal.taskQueue,
    workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'),
    activities: { ...createSettlementActivities({ db: h.db }), ...createNotificationActivities({ db: h.db }) },
  });
});

afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

const operator = () => ({ authorization: `Bearer ${h.config.operatorToken}`, 'x-operator': 'ops@example.com' });
interface Merchant {
  merchantId: string;
  accessKey: string;
}

/** A merchant's signed GET. */
const merchantGet = (m: Merchant, path: string) => request(h.app).get(path).set(partyHeaders({ idHeader: 'x-merchant-id', id: m.merchantId, key: m.accessKey }, 'GET', path));

/** A merchant's signed POST of a JSON body. */
const merchantPost = (m: Merchant, path: string, body: object) => {
  const text = JSON.stringify(body);
  return request(h.app).post(path).set(partyHeaders({ idHeader: 'x-merchant-id', id: m.merchantId, key: m.accessKey }, 'POST', path, text)).send(text);
};

/** A merchant with a 6 % and a 13 % product and a paid line of each in December 2024 (Beijing), of these amounts. */
async function merchantWithLines(amounts: { soft: string; hw: string } = { soft: '100.00', hw: '50.5' }): Promise<Merchant> {
  const merchantId = uniqueId('M-settle');
  const accessKey = `${merchantId}-access-key`;
  await registerMerchant(h.db, { merchantId, productionUrl: 'http://127.0.0.1:1/saasproduce', accessKey });
  for (const [suffix, rate, amount] of [['soft', '0.06', amounts.soft], ['hw', '0.13', amounts.hw]] as const) {
    const productId = `${merchantId}-${suffix}`;
    await upsertProduct(h.db, { productId, merchantId, name: suffix, chargingMode: 'ONE_TIME', retentionDays: 15 });
    await h.db.query('update products set tax_rate = $2 where product_id = $1', [productId, rate]);
    const orderId = uniqueId('O');
    await h.db.query(`insert into orders (order_id, merchant_id, customer_id, order_type, currency) values ($1, $2, 'C', 'NEW', 'CNY')`, [orderId, merchantId]);
    await h.db.query(
      `insert into order_lines (order_id, order_line_id, product_id, sku_code, charging_mode, amount, workflow_id, status, accepted_at)
       values ($1, $1 || '-000001', $2, 'SKU', 'ONE_TIME', $3, 'subscription:' || $1, 'active', '2024-12-10T10:00:00+08:00')`,
      [orderId, productId, amount],
    );
  }
  return { merchantId, accessKey };
}

const statementNumber = (merchantId: string) => `ST${PERIOD}-${merchantId}`;

async function stepOf(merchantId: string): Promise<string> {
  const res = await request(h.app).get(`/v1/settlement/statements/${statementNumber(merchantId)}`).set(operator());
  return res.status === 200 ? (res.body.step as string) : `http ${res.status}`;
}

const act = (merchantId: string, action: string) =>
  request(h.app).post(`/v1/settlement/statements/${statementNumber(merchantId)}/actions`).set(operator()).send({ action });

async function invoiceCount(requestNumber: string): Promise<number> {
  const { rows } = await h.db.query<{ n: number }>('select count(*)::int as n from invoices where request_number = $1', [requestNumber]);
  return rows[0]?.n ?? -1;
}

describe('settlement routes', () => {
  let a: Merchant;
  let b: Merchant;
  /** Never certified: its statement stays held, never sent. */
  let c: Merchant;
  /** Certified, with free lines only: nothing to invoice. */
  let d: Merchant;

  beforeAll(async () => {
    a = await merchantWithLines();
    b = await merchantWithLines();
    c = await merchantWithLines();
    d = await merchantWithLines({ soft: '0', hw: '0.00' });
    // B is certified before the run; A is not, so A's statement is held.
    const certified = await request(h.app).put(`/v1/merchants/${b.merchantId}/business-info`).set(operator()).send({ bankAccount: '6222000011112222', taxId: '91110000MA01ABCDE1' });
    expect(certified.status).toBe(200);
    await request(h.app).put(`/v1/merchants/${d.merchantId}/business-info`).set(operator()).send({ bankAccount: '6222000055556666', taxId: '91440300MA5G000001' });
  });

  test('when a caller is not the right party, then 401 and nothing is read', async () => {
    const own = `/v1/settlement/merchant/statements/${statementNumber(a.merchantId)}`;
    expect((await request(h.app).post('/v1/settlement/runs').send({ period: PERIOD })).status).toBe(401);
    // A merchant's signature does not open operator routes, nor the operator token merchant routes.
    const signed = partyHeaders({ idHeader: 'x-merchant-id', id: a.merchantId, key: a.accessKey }, 'GET', '/v1/settlement/periods/202412');
    expect((await request(h.app).get('/v1/settlement/periods/202412').set(signed)).status).toBe(401);
    expect((await request(h.app).get(own).set(operator())).status).toBe(401);
    // Signed with another merchant's key.
    const forged = await request(h.app).get(own).set(partyHeaders({ idHeader: 'x-merchant-id', id: a.merchantId, key: b.accessKey }, 'GET', own));
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('unauthorized');
  });

  test('when bodies are wrong, then 400 names the field and nothing changes', async () => {
    const run = await request(h.app).post('/v1/settlement/runs').set(operator()).send({ period: '2024-12' });
    expect(run.status).toBe(400);
    expect(run.body.error.details).toEqual([{ field: 'period', reason: expect.stringContaining('YYYYMM') }]);
    const info = await request(h.app).put(`/v1/merchants/${a.merchantId}/business-info`).set(operator()).send({ bankAccount: '6222000011112222', taxId: 'lower-case' });
    expect(info.status).toBe(400);
    expect(info.body.error.details.map((d: { field: string }) => d.field)).toEqual(['taxId']);
    const { rows } = await h.db.query('select tax_id from merchants where merchant_id = $1', [a.merchantId]);
    expect(rows[0]).toEqual({ tax_id: null });
    expect((await request(h.app).put(`/v1/merchants/${uniqueId('nobody')}/business-info`).set(operator()).send({ bankAccount: '6222000011112222', taxId: '91110000MA01ABCDE1' })).status).toBe(404);
    expect((await request(h.app).get('/v1/settlement/periods/209901').set(operator())).status).toBe(404);
    const badPeriod = await request(h.app).get('/v1/settlement/periods/2024-12').set(operator());
    expect([badPeriod.status, badPeriod.body.error.details[0].field]).toEqual([400, 'period']);
    const unknown = `/v1/settlement/statements/ST${PERIOD}-${uniqueId('nobody')}`;
    expect((await request(h.app).get(unknown).set(operator())).body.error.code).toBe('statement_not_found');
    expect((await request(h.app).post(`${unknown}/actions`).set(operator()).send({ action: 'countersign' })).status).toBe(404);
    expect((await request(h.app).get(`/v1/settlement/disputes/${uniqueId('DP')}`).set(operator())).body.error.code).toBe('dispute_not_found');
  });

  test("when an operator sets a product's tax rate, then it is checked, recorded with who and why, and another merchant's product is 404", async () => {
    const productId = `${a.merchantId}-soft`;
    const url = (merchantId: string, product = productId) => `/v1/merchants/${merchantId}/products/${product}/tax-rate`;
    const rateOf = async () => (await h.db.query<{ rate: string }>('select tax_rate::text as rate from products where product_id = $1', [productId])).rows[0]?.rate;
    const refused: Array<[object, string[]]> = [
      [{ taxRate: '1', reason: 'rate one' }, ['taxRate']],
      [{ taxRate: '1.0000', reason: 'rate one' }, ['taxRate']],
      [{ taxRate: '-0.06', reason: 'negative' }, ['taxRate']],
      [{ taxRate: '0.06125', reason: 'five decimals' }, ['taxRate']],
      [{ taxRate: 0.06, reason: 'a JSON number' }, ['taxRate']],
      [{ taxRate: '0.09' }, ['reason']],
      [{ taxRate: '0.09', reason: 'a good reason', extra: 1 }, ['(body)']],
    ];
    for (const [body, fields] of refused) {
      const res = await request(h.app).put(url(a.merchantId)).set(operator()).send(body);
      expect([res.status, res.body.error.code]).toEqual([400, 'invalid_request']);
      expect(res.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(fields.sort());
    }
    expect(await rateOf()).toBe('0.0600');
    // B cannot be named as the owner of A's product; unknown products are 404 too; operators only.
    expect((await request(h.app).put(url(b.merchantId)).set(operator()).send({ taxRate: '0.09', reason: 'wrong owner' })).body.error?.code).toBe('product_not_found');
    expect((await request(h.app).put(url(a.merchantId, uniqueId('P'))).set(operator()).send({ taxRate: '0.09', reason: 'no such product' })).status).toBe(404);
    expect((await request(h.app).put(url(a.merchantId)).send({ taxRate: '0.09', reason: 'no token' })).status).toBe(401);
    expect(await rateOf()).toBe('0.0600');

    const set = await request(h.app).put(url(a.merchantId)).set(operator()).send({ taxRate: '0.0600', reason: 'periodic software is at 6 %' });
    expect([set.status, set.body]).toEqual([200, { merchantId: a.merchantId, productId, taxRate: '0.0600', previousTaxRate: '0.0600' }]);
    const zero = await request(h.app).put(url(a.merchantId)).set(operator()).send({ taxRate: '0', reason: 'exempt product' });
    expect(zero.body).toEqual({ merchantId: a.merchantId, productId, taxRate: '0.0000', previousTaxRate: '0.0600' });
    const { rows } = await h.db.query('select actor, action, reason, details from operator_actions where target_type = $1 and target_id = $2 order by action_id', ['product', productId]);
    expect(rows).toEqual([
      { actor: 'ops@example.com', action: 'product-tax-rate', reason: 'periodic software is at 6 %', details: { merchantId: a.merchantId, from: '0.0600', to: '0.0600' } },
      { actor: 'ops@example.com', action: 'product-tax-rate', reason: 'exempt product', details: { merchantId: a.merchantId, from: '0.0600', to: '0.0000' } },
    ]);
    // Back to 6 % before the run below takes the product's rate.
    await request(h.app).put(url(a.merchantId)).set(operator()).send({ taxRate: '0.06', reason: 'exemption withdrawn' });
    expect(await rateOf()).toBe('0.0600');
  });

  test('when a period is run, then held and ready statements walk to paid through the routes, invoices checked rule by rule', async () => {
    const first = await request(h.app).post('/v1/settlement/runs').set(operator()).send({ period: PERIOD });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ workflowId: `settlement:${PERIOD}`, duplicate: false, period: PERIOD });
    const again = await request(h.app).post('/v1/settlement/runs').set(operator()).send({ period: PERIOD });
    expect(again.body.duplicate).toBe(true);

    await until(() => stepOf(a.merchantId), (s) => s === 'held', { what: 'A not held', timeoutMs: 30_000 });
    await until(() => stepOf(b.merchantId), (s) => s === 'review', { what: 'B not in review', timeoutMs: 30_000 });
    const held = await request(h.app).get(`/v1/settlement/statements/${statementNumber(a.merchantId)}`).set(operator());
    expect(held.body.holdReason).toBe('business information incomplete: bankAccount, taxId missing');
    const summary = await request(h.app).get(`/v1/settlement/periods/${PERIOD}`).set(operator());
    expect(summary.body.statements).toEqual(
      expect.arrayContaining([
        {
          statementNumber: statementNumber(b.merchantId),
          merchantId: b.merchantId,
          step: 'review',
          lines: 2,
          totals: [
            { currency: 'CNY', taxRate: '0.0600', amount: '100.0000' },
            { currency: 'CNY', taxRate: '0.1300', amount: '50.5000' },
          ],
        },
      ]),
    );

    // Business information arrives: A's statement is released to review.
    const released = await request(h.app).put(`/v1/merchants/${a.merchantId}/business-info`).set(operator()).send({ bankAccount: '6222000033334444', taxId: '91310000MA1FL0000X' });
    expect(released.body).toEqual({ merchantId: a.merchantId, released: [statementNumber(a.merchantId)] });
    await until(() => stepOf(a.merchantId), (s) => s === 'review', { what: 'A not released', timeoutMs: 30_000 });
    // What an operator types in the Web UI finds the statements still held in the period, and only those.
    const findHeld = async (): Promise<string[]> => {
      const ids: string[] = [];
      for await (const w of h.client.workflow.list({ query: `SettlementPeriod = '${PERIOD}' AND FulfillmentStatus = 'statement:held'` })) ids.push(w.workflowId);
      return ids;
    };
    await until(findHeld, (ids) => ids.includes(statementWorkflowId(PERIOD, c.merchantId)) && !ids.includes(statementWorkflowId(PERIOD, a.merchantId)), {
      what: 'held statements not found by search attributes',
      timeoutMs: 30_000,
    });

    // Merchants see only their own statements.
    expect((await merchantGet(b, `/v1/settlement/merchant/statements/${statementNumber(a.merchantId)}`)).status).toBe(404);
    const own = await merchantGet(a, `/v1/settlement/merchant/statements/${statementNumber(a.merchantId)}`);
    expect(own.status).toBe(200);
    expect(own.body.lines).toHaveLength(2);

    const badAction = await act(a.merchantId, 'pay-twice');
    expect([badAction.status, badAction.body.error.details[0].field]).toEqual([400, 'action']);
    const wrong = await act(a.merchantId, 'mark-paid');
    expect(wrong.status).toBe(409);
    expect(wrong.body.error.code).toBe('wrong_step');
    expect((await act(a.merchantId, 'approve-and-send')).body.step).toBe('countersign');
    expect((await act(a.merchantId, 'countersign')).body.step).toBe('payment-request');
    const issued = await act(a.merchantId, 'issue-payment-request');
    expect(issued.body.step).toBe('invoicing');
    const requestNumber = issued.body.paymentRequestNumber as string;
    expect(requestNumber).toMatch(new RegExp(`^SF${PERIOD}\\d{6}$`));
    const { rows: notices } = await h.db.query('select subject from notifications where recipient_id = $1 order by notification_id', [a.merchantId]);
    expect(notices.map((n) => n.subject)).toEqual([`Settlement statement ${statementNumber(a.merchantId)} for ${PERIOD}`, `Payment request ${requestNumber}: please invoice`]);

    const good = {
      invoiceNumber: uniqueId('INV'),
      paymentRequestNumbers: [requestNumber],
      taxRate: '0.06',
      amount: '100',
      currency: 'CNY',
      taxpayerId: '91310000MA1FL0000X',
      remarks: `申付单 ${requestNumber}, period ${PERIOD}`,
    };
    const invoices = `/v1/settlement/merchant/payment-requests/${requestNumber}/invoices`;
    const refusals: Array<[object, string, string]> = [
      [{ paymentRequestNumbers: [requestNumber, 'SF202412999999'] }, 'invoice_one_payment_request', 'paymentRequestNumbers'],
      [{ remarks: `申付单 ${requestNumber}` }, 'invoice_remarks_request_and_period', 'remarks'],
      [{ taxpayerId: '91110000MA01ABCDE1' }, 'invoice_taxpayer_matches_business_info', 'taxpayerId'],
      [{ taxRate: '0.09' }, 'invoice_split_by_tax_rate', 'taxRate'],
      [{ amount: '150.50' }, 'invoice_amounts_add_up', 'amount'],
    ];
    for (const [change, code, field] of refusals) {
      const res = await merchantPost(a, invoices, { ...good, ...change });
      expect([res.status, res.body.error?.code, res.body.error?.details?.[0]?.field]).toEqual([422, code, field]);
    }
    expect(await invoiceCount(requestNumber)).toBe(0);
    // Another merchant cannot invoice A's payment request.
    expect((await merchantPost(b, invoices, { ...good, taxpayerId: '91110000MA01ABCDE1' })).status).toBe(404);

    const part = await merchantPost(a, invoices, good);
    expect(part.status).toBe(201);
    expect(part.body.outstanding).toEqual([{ currency: 'CNY', taxRate: '0.1300', amount: '50.5000' }]);
    // The 13 % total split over two invoices; a third would exceed it.
    expect((await merchantPost(a, invoices, { ...good, invoiceNumber: uniqueId('INV'), taxRate: '0.13', amount: '30' })).status).toBe(201);
    const over = await merchantPost(a, invoices, { ...good, invoiceNumber: uniqueId('INV'), taxRate: '0.13', amount: '20.6' });
    expect(over.body.error.code).toBe('invoice_amounts_add_up');
    const last = await merchantPost(a, invoices, { ...good, invoiceNumber: uniqueId('INV'), taxRate: '0.13', amount: '20.5' });
    expect(last.body.outstanding).toEqual([]);
    expect(await invoiceCount(requestNumber)).toBe(3);

    await until(() => stepOf(a.merchantId), (s) => s === 'verification', { what: 'A not in verification', timeoutMs: 30_000 });
    expect((await act(a.merchantId, 'verify-invoices')).body.step).toBe('payment');
    expect((await act(a.merchantId, 'mark-paid')).body.step).toBe('paid');
    expect(await stepOf(a.merchantId)).toBe('paid');
    // Invoices are taken only while the statement is at invoicing.
    const late = await merchantPost(a, invoices, { ...good, invoiceNumber: uniqueId('INV') });
    expect([late.status, late.body.error.code]).toEqual([409, 'not_invoicing']);

    // B's payment request: an invoice number already filed under A's is refused by the same rule,
    // and a malformed body names its fields; neither writes anything.
    await act(b.merchantId, 'approve-and-send');
    await act(b.merchantId, 'countersign');
    const bRequest = (await act(b.merchantId, 'issue-payment-request')).body.paymentRequestNumber as string;
    const bInvoices = `/v1/settlement/merchant/payment-requests/${bRequest}/invoices`;
    const bGood = { ...good, paymentRequestNumbers: [bRequest], taxpayerId: '91110000MA01ABCDE1', remarks: `${bRequest} ${PERIOD}` };
    const reused = await merchantPost(b, bInvoices, bGood);
    expect([reused.status, reused.body.error.code, reused.body.error.details[0].field]).toEqual([422, 'invoice_one_payment_request', 'invoiceNumber']);
    const malformed = await merchantPost(b, bInvoices, { ...bGood, invoiceNumber: uniqueId('INV'), amount: '-3', taxRate: '6%' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['amount', 'taxRate']);
    expect(await invoiceCount(bRequest)).toBe(0);
  });

  test("when a merchant disputes a line of its sent statement, then an operator confirms a difference into the ledger once, or rejects it, and no one sees another merchant's", async () => {
    const statementA = statementNumber(a.merchantId);
    const sent = await request(h.app).get(`/v1/settlement/statements/${statementA}`).set(operator());
    expect(sent.body.step).toBe('paid');
    const soft = sent.body.lines.find((l: { taxRate: string }) => l.taxRate === '0.0600');
    const hw = sent.body.lines.find((l: { taxRate: string }) => l.taxRate === '0.1300');
    const lineKey = (l: { kind: string; orderId: string; orderLineId: string; productId: string }) => ({ kind: l.kind, orderId: l.orderId, orderLineId: l.orderLineId, productId: l.productId });
    const disputes = (n: string) => `/v1/settlement/merchant/statements/${n}/disputes`;
    const claim = { ...lineKey(soft), claimedAmount: '120', reason: 'the price list says 120' };
    const disputeRows = async () => (await h.db.query('select count(*)::int as n from statement_disputes where merchant_id = $1', [a.merchantId])).rows[0]?.n;

    // Another merchant's statement, a statement not yet sent, a line it does not have, a claim that changes nothing, bad bodies.
    expect((await merchantPost(b, disputes(statementA), claim)).body.error?.code).toBe('statement_not_found');
    await until(() => stepOf(c.merchantId), (st) => st === 'held', { what: 'C not held', timeoutMs: 30_000 });
    const cLines = (await merchantGet(c, `/v1/settlement/merchant/statements/${statementNumber(c.merchantId)}`)).body.lines;
    const unsent = await merchantPost(c, disputes(statementNumber(c.merchantId)), { ...lineKey(cLines[0]), claimedAmount: '1', reason: 'too early' });
    expect([unsent.status, unsent.body.error.code]).toEqual([409, 'statement_not_sent']);
    expect((await merchantPost(a, disputes(statementA), { ...claim, orderId: uniqueId('O') })).body.error?.code).toBe('statement_line_not_found');
    const same = await merchantPost(a, disputes(statementA), { ...claim, claimedAmount: '100.0' });
    expect([same.status, same.body.error.code, same.body.error.details[0].field]).toEqual([422, 'claim_equals_line', 'claimedAmount']);
    const malformed = await merchantPost(a, disputes(statementA), { ...claim, kind: 'adjustment', claimedAmount: '12.34567', reason: '' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['claimedAmount', 'kind', 'reason']);
    expect(await disputeRows()).toBe(0);

    const opened = await merchantPost(a, disputes(statementA), claim);
    expect(opened.status).toBe(201);
    const disputeId = opened.body.disputeId as string;
    expect(disputeId).toMatch(new RegExp(`^DP${PERIOD}\\d{6}$`));
    expect(opened.body).toMatchObject({ statementNumber: statementA, merchantId: a.merchantId, status: 'open', claimedAmount: '120.0000', claimedDifference: '20.0000', adjustment: null });
    expect(opened.body.line).toMatchObject({ ...lineKey(soft), amount: '100.0000', taxRate: '0.0600', currency: 'CNY' });
    expect((await merchantPost(a, disputes(statementA), claim)).body.error?.code).toBe('dispute_already_open');
    // Merchants read only their own disputes.
    expect((await merchantGet(b, `/v1/settlement/merchant/disputes/${disputeId}`)).status).toBe(404);
    expect((await merchantGet(b, disputes(statementA))).status).toBe(404);
    expect((await merchantGet(a, `/v1/settlement/merchant/disputes/${disputeId}`)).body.status).toBe('open');
    expect((await merchantGet(a, disputes(statementA))).body.disputes.map((d: { disputeId: string }) => d.disputeId)).toEqual([disputeId]);
    const open = await request(h.app).get('/v1/settlement/disputes?status=open').set(operator());
    expect(open.body.disputes.map((d: { disputeId: string }) => d.disputeId)).toContain(disputeId);
    const badStatus = await request(h.app).get('/v1/settlement/disputes?status=closed').set(operator());
    expect([badStatus.status, badStatus.body.error.details[0].field]).toEqual([400, 'status']);
    expect((await request(h.app).get('/v1/settlement/disputes').set(partyHeaders({ idHeader: 'x-merchant-id', id: a.merchantId, key: a.accessKey }, 'GET', '/v1/settlement/disputes'))).status).toBe(401);

    // The operator confirms at most the claim, in its direction; refusals change nothing.
    const confirm = (body: object, id = disputeId) => request(h.app).post(`/v1/settlement/disputes/${id}/confirm`).set(operator()).send(body);
    const adjustments = async () =>
      (await h.db.query('select kind, amount::text, reference, settle_period from settlement_ledger where fact_key = $1', [`adjustment:${disputeId}`])).rows;
    for (const [body, status, code] of [
      [{ difference: '25', reason: 'more than claimed' }, 422, 'difference_within_claim'],
      [{ difference: '-5', reason: 'the other way' }, 422, 'difference_same_direction_as_claim'],
      [{ difference: '0', reason: 'nothing' }, 400, 'invalid_request'],
      [{ difference: '5' }, 400, 'invalid_request'],
    ] as const) {
      const res = await confirm(body);
      expect([res.status, res.body.error.code]).toEqual([status, code]);
    }
    expect((await confirm({ difference: '5', reason: 'unknown dispute' }, uniqueId('DP'))).status).toBe(404);
    expect(await adjustments()).toEqual([]);

    const confirmed = await confirm({ difference: '15.5', reason: 'price list checked: 115.50' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ status: 'confirmed', confirmedDifference: '15.5000', decidedBy: 'ops@example.com', decisionReason: 'price list checked: 115.50' });
    const [adjustment] = await adjustments();
    expect(adjustment).toEqual({ kind: 'adjustment', amount: '15.5000', reference: disputeId, settle_period: confirmed.body.adjustment.period });
    // A later period, never the statement that was sent: its lines and totals are as they were.
    expect(confirmed.body.adjustment.period > PERIOD).toBe(true);
    const after = await request(h.app).get(`/v1/settlement/statements/${statementA}`).set(operator());
    expect([after.body.lines, after.body.totals]).toEqual([sent.body.lines, sent.body.totals]);
    // Decided once: a second confirmation or a rejection is refused, and the ledger keeps one line.
    expect((await confirm({ difference: '15.5', reason: 'again' })).body.error?.code).toBe('dispute_decided');
    expect((await request(h.app).post(`/v1/settlement/disputes/${disputeId}/reject`).set(operator()).send({ reason: 'changed my mind' })).status).toBe(409);
    expect(await adjustments()).toHaveLength(1);

    // The next bill run (computed here without its workflows) puts the adjustment on A's next
    // statement; computed again, it is still there once.
    const next = confirmed.body.adjustment.period as string;
    await computeScope(h.db, next, 'test');
    await computeScope(h.db, next, 'test');
    const nextStatement = await request(h.app).get(`/v1/settlement/statements/ST${next}-${a.merchantId}`).set(operator());
    expect(nextStatement.body.lines).toEqual([
      expect.objectContaining({ ...lineKey(soft), kind: 'adjustment', amount: '15.5000', taxRate: '0.0600', currency: 'CNY' }),
    ]);
    expect(nextStatement.body.totals).toEqual([{ currency: 'CNY', taxRate: '0.0600', amount: '15.5000' }]);

    // The other line: disputed and rejected with a reason, which the merchant is told.
    const second = await merchantPost(a, disputes(statementA), { ...lineKey(hw), claimedAmount: '40', reason: 'one month was free' });
    const secondId = second.body.disputeId as string;
    const noReason = await request(h.app).post(`/v1/settlement/disputes/${secondId}/reject`).set(operator()).send({});
    expect([noReason.status, noReason.body.error.details[0].field]).toEqual([400, 'reason']);
    const rejected = await request(h.app).post(`/v1/settlement/disputes/${secondId}/reject`).set(operator()).send({ reason: 'the free month was December 2023' });
    expect(rejected.body).toMatchObject({ status: 'rejected', confirmedDifference: null, adjustment: null, decisionReason: 'the free month was December 2023' });
    expect((await h.db.query('select count(*)::int as n from settlement_ledger where reference = $1', [secondId])).rows[0]?.n).toBe(0);

    const { rows: actions } = await h.db.query('select action, target_id, reason from operator_actions where target_type = $1 and target_id in ($2, $3) order by action_id', ['dispute', disputeId, secondId]);
    expect(actions).toEqual([
      { action: 'dispute-confirm', target_id: disputeId, reason: 'price list checked: 115.50' },
      { action: 'dispute-reject', target_id: secondId, reason: 'the free month was December 2023' },
    ]);
    const { rows: told } = await h.db.query('select subject from notifications where recipient_id = $1 and subject like $2 order by notification_id', [a.merchantId, 'Dispute %']);
    expect(told.map((n) => n.subject)).toEqual([`Dispute ${disputeId} confirmed`, `Dispute ${secondId} rejected`]);
    const { rows: raised } = await h.db.query("select count(*)::int as n from notifications where recipient_type = 'operator' and subject like $1", [`%dispute ${disputeId}`]);
    expect(raised[0]?.n).toBe(1);
  });

  test('when a step is overdue, then the reminder goes to whoever owes it: the merchant for invoices, operators otherwise, once per key', async () => {
    const { remindStatementStep } = createSettlementActivities({ db: h.db });
    const key = uniqueId('remind');
    const base = { statementNumber: statementNumber(b.merchantId), merchantId: b.merchantId, overdueWorkingDays: 10 };
    const first = await remindStatementStep({ ...base, idempotencyKey: `${key}:invoicing`, step: 'invoicing' });
    expect(await remindStatementStep({ ...base, idempotencyKey: `${key}:invoicing`, step: 'invoicing' })).toEqual(first);
    await remindStatementStep({ ...base, idempotencyKey: `${key}:review`, step: 'review', overdueWorkingDays: 2 });
    const { rows } = await h.db.query('select recipient_type, recipient_id, subject from notifications where idempotency_key like $1 order by notification_id', [`${key}:%`]);
    expect(rows).toEqual([
      { recipient_type: 'merchant', recipient_id: b.merchantId, subject: `Statement ${base.statementNumber}: step invoicing overdue` },
      { recipient_type: 'operator', recipient_id: 'settlement', subject: `Statement ${base.statementNumber}: step review overdue` },
    ]);
  });

  test('when a statement has nothing to invoice, then issuing its payment request takes it to verification without any invoice', async () => {
    await until(() => stepOf(d.merchantId), (st) => st === 'review', { what: 'D not in review', timeoutMs: 30_000 });
    const totals = (await request(h.app).get(`/v1/settlement/statements/${statementNumber(d.merchantId)}`).set(operator())).body.totals;
    expect(totals).toEqual([
      { currency: 'CNY', taxRate: '0.0600', amount: '0.0000' },
      { currency: 'CNY', taxRate: '0.1300', amount: '0.0000' },
    ]);
    expect((await act(d.merchantId, 'approve-and-send')).body.step).toBe('countersign');
    expect((await act(d.merchantId, 'countersign')).body.step).toBe('payment-request');
    const requestNumber = (await act(d.merchantId, 'issue-payment-request')).body.paymentRequestNumber as string;
    await until(() => stepOf(d.merchantId), (st) => st === 'verification', { what: 'D not in verification', timeoutMs: 30_000 });
    expect(await invoiceCount(requestNumber)).toBe(0);
    const { rows } = await h.db.query('select subject from notifications where recipient_id = $1 order by notification_id', [d.merchantId]);
    expect(rows.map((n) => n.subject)).toEqual([`Settlement statement ${statementNumber(d.merchantId)} for ${PERIOD}`]);
    expect((await act(d.merchantId, 'verify-invoices')).body.step).toBe('payment');
    expect((await act(d.merchantId, 'mark-paid')).body.step).toBe('paid');
  });
  test('when a merchant lists its statements, then it sees only its own, newest period first, one period when asked; a bad period or parameter is 400', async () => {
    // An older statement of A's, as an earlier period left it.
    await h.db.query(
      `insert into settlement_runs (period, period_start, period_end, started_by, computed_at)
       values ('202411', '2024-10-31T16:00:00Z', '2024-11-30T16:00:00Z', 'test', now()) on conflict do nothing`,
    );
    const older = `ST202411-${a.merchantId}`;
    await h.db.query(`insert into statements (statement_number, period, merchant_id, step) values ($1, '202411', $2, 'paid')`, [older, a.merchantId]);

    const url = '/v1/settlement/merchant/statements';
    const list = await merchantGet(a, url);
    expect(list.status).toBe(200);
    expect(list.body.merchantId).toBe(a.merchantId);
    type Item = { statementNumber: string; period: string };
    const items: Item[] = list.body.statements;
    // Newest first: the dispute above put an adjustment in a later period's statement of A's too.
    expect(items.map((st) => st.period)).toEqual(items.map((st) => st.period).sort().reverse());
    expect(items.slice(-2).map((st) => [st.statementNumber, st.period])).toEqual([
      [statementNumber(a.merchantId), PERIOD],
      [older, '202411'],
    ]);
    expect(items.every((st) => st.statementNumber.endsWith(`-${a.merchantId}`))).toBe(true);
    // Each item is the statement as the merchant reads it, with its line count in place of the lines.
    const { merchantId: _merchant, lines, ...head } = (await merchantGet(a, `${url}/${statementNumber(a.merchantId)}`)).body;
    expect(lines.length).toBeGreaterThan(0);
    expect(items.at(-2)).toEqual({ ...head, lines: lines.length });
    expect(items.at(-1)).toMatchObject({ step: 'paid', lines: 0, totals: [], paymentRequestNumber: null, holdReason: null });

    const one = await merchantGet(a, `${url}?period=202411`);
    expect([one.status, one.body.statements.map((st: { statementNumber: string }) => st.statementNumber)]).toEqual([200, [older]]);
    expect((await merchantGet(a, `${url}?period=209901`)).body).toEqual({ merchantId: a.merchantId, statements: [] });
    // B sees its own only, never A's.
    const others: Item[] = (await merchantGet(b, url)).body.statements;
    expect(others.map((st) => st.statementNumber)).toContain(statementNumber(b.merchantId));
    expect(others.every((st) => st.statementNumber.endsWith(`-${b.merchantId}`))).toBe(true);
    expect((await merchantGet(b, `${url}?period=202411`)).body.statements).toEqual([]);

    for (const [query, field] of [
      ['period=2024-11', 'period'],
      ['period=202413', 'period'],
      ['period=202411&period=202412', 'period'],
      ['status=paid', '(body)'],
    ] as const) {
      const bad = await merchantGet(a, `${url}?${query}`);
      expect([bad.status, bad.body.error.code, bad.body.error.details.map((d: { field: string }) => d.field)]).toEqual([400, 'invalid_request', [field]]);
    }
    expect((await request(h.app).get(url)).status).toBe(401);
    expect((await request(h.app).get(url).set(operator())).status).toBe(401);
  });
});
