/**
 * The settlement routes over HTTP, on real PostgreSQL and the Temporal dev server, with a
 * worker running the settlement workflows and their real activities: operator and merchant
 * authentication (merchants sign with their access key), merchant isolation, 4xx naming the field, every invoice rule refused by
 * name with nothing written, and a statement walked from held to paid through the routes.
 */
import path from 'node:path';
import request from 'supertest';
import { createNotificationActivities } from '../../src/activities/notices/notifications';
import { createSettlementActivities } from '../../src/activities/settlement';
import { upsertProduct } from '../../src/db/repositories/catalog/merchants';
import { apiHarness, uniqueId, type ApiHarness } from '../helpers/api-harness';
import { startApiWorker, type ApiWorker } from '../helpers/api-worker';
import { registerMerchant } from '../activities/fixtures';
import { until } from '../helpers/until';
import { partyHeaders } from '../helpers/signed-party';

let h: ApiHarness;
let worker: ApiWorker | undefined;

const PERIOD = '202412';

beforeAll(async () => {
  h = await apiHarness();
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

/** A merchant with a 6 % and a 13 % product and a paid line of each in December 2024 (Beijing). */
async function merchantWithLines(): Promise<Merchant> {
  const merchantId = uniqueId('M-settle');
  const accessKey = `${merchantId}-access-key`;
  await registerMerchant(h.db, { merchantId, productionUrl: 'http://127.0.0.1:1/saasproduce', accessKey });
  for (const [suffix, rate, amount] of [['soft', '0.06', '100.00'], ['hw', '0.13', '50.5']] as const) {
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

  beforeAll(async () => {
    a = await merchantWithLines();
    b = await merchantWithLines();
    // B is certified before the run; A is not, so A's statement is held.
    const certified = await request(h.app).put(`/v1/merchants/${b.merchantId}/business-info`).set(operator()).send({ bankAccount: '6222000011112222', taxId: '91110000MA01ABCDE1' });
    expect(certified.status).toBe(200);
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

    // Merchants see only their own statements.
    expect((await merchantGet(b, `/v1/settlement/merchant/statements/${statementNumber(a.merchantId)}`)).status).toBe(404);
    const own = await merchantGet(a, `/v1/settlement/merchant/statements/${statementNumber(a.merchantId)}`);
    expect(own.status).toBe(200);
    expect(own.body.lines).toHaveLength(2);

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
});
