/**
 * The supervision routes over HTTP on real PostgreSQL and a real dev server, with no worker:
 * who may call what (signed merchant and customer-side requests, the operator token), one
 * party never seeing another's supervision or documents, document limits and checksums,
 * bad input refused with the field named and nothing written, the supervised flag at
 * registration, and the settlement gate as the bill run reads it. The walk through the nodes
 * with a worker is in test/integration/supervision.e2e.test.ts.
 */
import { createHash } from 'node:crypto';
import request from 'supertest';
import { DOCUMENT_MAX_BYTES } from '../../src/api/supervision/documents';
import { supervisionWorkflowId } from '../../src/api/supervision/gateway';
import { sampleOrderPaid } from '../../src/dev/marketplace-client';
import { saveSupervisionStep, settleableLines } from '../../src/db/repositories/supervision/supervisions';
import { signWebhook } from '../../src/platform/security/standard-webhooks';
import { apiHarness, uniqueId, type ApiHarness } from '../helpers/api-harness';
import { partyHeaders } from '../helpers/signed-party';

let h: ApiHarness;
const merchantA = { id: uniqueId('MA'), key: 'merchant-a-access-key' };
const merchantB = { id: uniqueId('MB'), key: 'merchant-b-access-key' };
const supervisedProduct = uniqueId('PS');
const plainProduct = uniqueId('PP');
const operator = () => ({ authorization: `Bearer ${h.config.operatorToken}`, 'x-operator': 'ops@example.com' });

beforeAll(async () => {
  h = await apiHarness();
  for (const m of [merchantA, merchantB]) {
    await request(h.app).put(`/v1/merchants/${m.id}`).set(operator()).send({ name: m.id, productionUrl: 'http://127.0.0.1:9/saasproduce', protocolVersion: 'v2', accessKey: m.key }).expect(201);
  }
  await request(h.app)
    .put(`/v1/merchants/${merchantA.id}/products/${supervisedProduct}`)
    .set(operator())
    .send({ name: 'Implementation', chargingMode: 'PERIOD', retentionDays: 7, supervised: true, acceptanceStandard: 'Signed acceptance report' })
    .expect(201);
  await request(h.app).put(`/v1/merchants/${merchantA.id}/products/${plainProduct}`).set(operator()).send({ name: 'Plain', chargingMode: 'PERIOD', retentionDays: 7 }).expect(201);
});

afterAll(async () => {
  await h?.close();
});

function webhook(type: string, data: Record<string, unknown>, id = uniqueId('msg_')) {
  const body = JSON.stringify({ type, data });
  return request(h.app).post('/v1/marketplace/events').set(signWebhook(h.config.webhook.secret, id, body)).set('content-type', 'application/json').send(body);
}

/** A paid order of `productId` for `customerId`; answers its line. */
async function paidLine(productId = supervisedProduct, customerId = 'customer-a'): Promise<{ orderId: string; orderLineId: string }> {
  const event = sampleOrderPaid({ merchantId: merchantA.id, productId });
  const res = await webhook('order.paid', { ...event.data, customer: { customerId } });
  expect(res.status).toBe(202);
  return { orderId: String(event.data.orderId), orderLineId: String(event.data.orderLineId) };
}

type Party = { idHeader: 'x-merchant-id' | 'x-customer-id'; id: string; key: string };
const asMerchant = (m = merchantA): Party => ({ idHeader: 'x-merchant-id', id: m.id, key: m.key });
const asCustomer = (customerId = 'customer-a'): Party => ({ idHeader: 'x-customer-id', id: customerId, key: h.config.webhook.secret });

function signed(party: Party, method: 'get' | 'post', path: string, body?: unknown, nowMs?: number) {
  const text = body === undefined ? '' : JSON.stringify(body);
  const req = request(h.app)[method](path).set(partyHeaders(party, method, path, text, nowMs));
  return body === undefined ? req : req.send(text);
}

const documentCount = async (orderId: string): Promise<number> =>
  (await h.db.query<{ n: number }>('select count(*)::int as n from supervision_documents where order_id = $1', [orderId])).rows[0]!.n;
const inboundCount = async (): Promise<number> => (await h.db.query<{ n: number }>('select count(*)::int as n from inbound_events')).rows[0]!.n;

const pdf = (bytes: Buffer) => ({ purpose: 'acceptance', fileName: 'report.pdf', contentType: 'application/pdf', contentBase64: bytes.toString('base64') });

describe('authentication', () => {
  test('when a party request is unsigned, wrongly signed, stale, or from an unknown merchant, then 401 and nothing is read', async () => {
    const { orderId, orderLineId } = await paidLine();
    const path = `/v1/supervision/merchant/${orderId}/${orderLineId}`;
    expect((await request(h.app).get(path)).status).toBe(401);
    expect((await signed({ ...asMerchant(), key: 'not-the-key' }, 'get', path)).status).toBe(401);
    expect((await signed(asMerchant(), 'get', path, undefined, Date.now() - 120_000)).status).toBe(401);
    expect((await signed({ idHeader: 'x-merchant-id', id: 'no-such-merchant', key: merchantA.key }, 'get', path)).status).toBe(401);
    expect((await signed({ ...asCustomer(), key: 'not-the-secret' }, 'get', `/v1/supervision/customer/${orderId}/${orderLineId}`)).status).toBe(401);
    // A signature for one path does not open another.
    const headers = partyHeaders(asMerchant(), 'get', path);
    expect((await request(h.app).get(`${path}/documents/00000000-0000-0000-0000-000000000000`).set(headers)).status).toBe(401);
    expect((await request(h.app).get('/v1/supervisions')).status).toBe(401);
    expect((await signed(asMerchant(), 'get', path)).status).toBe(200);
    // A signed request for a route that does not exist: 404, not the operators' 401.
    const unknown = await signed(asMerchant(), 'post', `${path}/no-such-action`, {});
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
  });
});

describe('isolation', () => {
  test("when another merchant or another customer asks for a supervision or its document, then 404, as for one that does not exist; operators read it", async () => {
    const line = await paidLine();
    const upload = await signed(asMerchant(), 'post', `/v1/supervision/merchant/${line.orderId}/${line.orderLineId}/documents`, pdf(Buffer.from('%PDF report')));
    expect(upload.status).toBe(201);
    const docPath = (side: string) => `/v1/supervision/${side}/${line.orderId}/${line.orderLineId}/documents/${upload.body.documentId}`;

    expect((await signed(asMerchant(merchantB), 'get', `/v1/supervision/merchant/${line.orderId}/${line.orderLineId}`)).status).toBe(404);
    expect((await signed(asMerchant(merchantB), 'get', docPath('merchant'))).status).toBe(404);
    expect((await signed(asCustomer('customer-b'), 'get', docPath('customer'))).status).toBe(404);

    // The document through another line of the same merchant is not found either.
    const other = await paidLine();
    const elsewhere = `/v1/supervision/merchant/${other.orderId}/${other.orderLineId}/documents/${upload.body.documentId}`;
    expect((await signed(asMerchant(), 'get', elsewhere)).status).toBe(404);

    const own = await signed(asCustomer('customer-a'), 'get', docPath('customer'));
    expect(own.status).toBe(200);
    expect(own.headers['x-content-sha256']).toBe(createHash('sha256').update('%PDF report').digest('hex'));
    const byOperator = await request(h.app).get(`/v1/supervisions/${line.orderId}/${line.orderLineId}/documents/${upload.body.documentId}`).set(operator());
    expect([byOperator.status, byOperator.headers['content-type']]).toEqual([200, 'application/pdf']);
    expect(Buffer.from(byOperator.body as Buffer).toString()).toBe('%PDF report');
  });
});

describe('documents', () => {
  test('when a document is too large, of an unknown type, not base64, with a wrong checksum or for a purpose not the party’s, then 413/415/400 naming the field and nothing is stored', async () => {
    const line = await paidLine();
    const path = `/v1/supervision/merchant/${line.orderId}/${line.orderLineId}/documents`;
    const cases: Array<[unknown, number, string]> = [
      [pdf(Buffer.alloc(DOCUMENT_MAX_BYTES + 1, 1)), 413, 'contentBase64'],
      [{ ...pdf(Buffer.from('x')), contentType: 'application/x-msdownload' }, 415, 'contentType'],
      [{ ...pdf(Buffer.from('x')), contentBase64: 'not base64!' }, 400, 'contentBase64'],
      [{ ...pdf(Buffer.from('x')), sha256: '0'.repeat(64) }, 400, 'sha256'],
      [{ ...pdf(Buffer.from('x')), purpose: 'requirement' }, 400, 'purpose'],
      [{ ...pdf(Buffer.from('x')), fileName: '../etc/passwd' }, 400, 'fileName'],
      [{ ...pdf(Buffer.from('x')), extra: 1 }, 400, '(body)'],
    ];
    for (const [body, status, field] of cases) {
      const res = await signed(asMerchant(), 'post', path, body);
      expect([res.status, res.body.error?.details?.[0]?.field]).toEqual([status, field]);
    }
    expect(await documentCount(line.orderId)).toBe(0);

    // At the limit exactly, with the right checksum: stored, with its size and checksum.
    const content = Buffer.alloc(DOCUMENT_MAX_BYTES, 7);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const ok = await signed(asMerchant(), 'post', path, { ...pdf(content), sha256: sha256.toUpperCase() });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ sizeBytes: DOCUMENT_MAX_BYTES, sha256, contentType: 'application/pdf', uploaderType: 'merchant', uploaderId: merchantA.id, purpose: 'acceptance' });
    expect(await documentCount(line.orderId)).toBe(1);
  });
});

describe('refused actions and events', () => {
  test('when a merchant action is malformed or names a document that is not its own acceptance document, then 400/422 naming the field', async () => {
    const line = await paidLine();
    const base = `/v1/supervision/merchant/${line.orderId}/${line.orderLineId}`;
    const customerDoc = await signed(asCustomer(), 'post', `/v1/supervision/customer/${line.orderId}/${line.orderLineId}/documents`, {
      purpose: 'requirement',
      fileName: 'needs.txt',
      contentType: 'text/plain',
      contentBase64: Buffer.from('needs').toString('base64'),
    });
    expect(customerDoc.status).toBe(201);
    const cases: Array<[string, unknown, number, string]> = [
      ['requirement', { decision: 'return' }, 400, 'reason'],
      ['requirement', { decision: 'maybe' }, 400, 'decision'],
      ['completion', { resultDescription: 'done' }, 400, 'acceptanceDocumentId'],
      ['completion', { resultDescription: 'done', acceptanceDocumentId: 'x', actualActivationTime: 'yesterday' }, 400, 'actualActivationTime'],
      ['completion', { resultDescription: 'done', acceptanceDocumentId: customerDoc.body.documentId }, 422, 'acceptanceDocumentId'],
      ['appeal', { reason: 'no answer', documentIds: ['00000000-0000-0000-0000-000000000000'] }, 422, 'documentIds.0'],
    ];
    for (const [route, body, status, field] of cases) {
      const res = await signed(asMerchant(), 'post', `${base}/${route}`, body);
      expect([route, res.status, res.body.error?.details?.[0]?.field]).toEqual([route, status, field]);
    }
    const idempotencyKey = await request(h.app).post(`${base}/requirement`).set(partyHeaders(asMerchant(), 'post', `${base}/requirement`, '{}')).set('idempotency-key', ' ').send('{}');
    expect(idempotencyKey.status).toBe(400);
  });

  test('when an order-system event names a line without supervision, lacks a field, or attaches the merchant’s document, then 422/400 naming the field and nothing is stored', async () => {
    const plain = await paidLine(plainProduct);
    const line = await paidLine();
    const merchantDoc = await signed(asMerchant(), 'post', `/v1/supervision/merchant/${line.orderId}/${line.orderLineId}/documents`, pdf(Buffer.from('%PDF')));
    const before = await inboundCount();
    const cases: Array<[string, Record<string, unknown>, number, string]> = [
      ['supervision.accepted', plain, 422, 'data.orderLineId'],
      ['supervision.accepted', { orderId: 'nope', orderLineId: 'nope-1' }, 422, 'data.orderLineId'],
      ['supervision.rejected', line, 400, 'data.reason'],
      ['supervision.requirement_submitted', { ...line, requirement: 'r', documentIds: [merchantDoc.body.documentId] }, 422, 'data.documentIds.0'],
      ['supervision.appealed', { ...line, reason: 'r', documentIds: 'doc' }, 400, 'data.documentIds'],
    ];
    for (const [type, data, status, field] of cases) {
      const res = await webhook(type, data);
      expect([type, res.status, res.body.error?.details?.[0]?.field]).toEqual([type, status, field]);
    }
    expect(await inboundCount()).toBe(before);
  });
});

describe('catalogue', () => {
  test('when a product is marked supervised without an acceptance standard, then 400 names it; once the product has orders the flag cannot change and nothing of the request is applied', async () => {
    const productId = uniqueId('PX');
    const missing = await request(h.app).put(`/v1/merchants/${merchantA.id}/products/${productId}`).set(operator()).send({ name: 'X', chargingMode: 'PERIOD', retentionDays: 7, supervised: true });
    expect([missing.status, missing.body.error.details]).toEqual([400, [expect.objectContaining({ field: 'acceptanceStandard' })]]);

    await paidLine(plainProduct);
    const change = await request(h.app).put(`/v1/merchants/${merchantA.id}/products/${plainProduct}`).set(operator()).send({ name: 'Renamed', chargingMode: 'PERIOD', retentionDays: 7, supervised: true, acceptanceStandard: 'x' });
    expect(change.status).toBe(409);
    expect(change.body.error).toMatchObject({ code: 'supervision_fixed', details: [{ field: 'supervised', reason: 'cannot change once the product has orders' }] });
    const { rows } = await h.db.query<{ name: string; supervised: boolean }>('select name, supervised from products where product_id = $1', [plainProduct]);
    expect(rows[0]).toEqual({ name: 'Plain', supervised: false });
    // The same flag again is not a change.
    const same = await request(h.app).put(`/v1/merchants/${merchantA.id}/products/${plainProduct}`).set(operator()).send({ name: 'Plain', chargingMode: 'PERIOD', retentionDays: 7, supervised: false });
    expect(same.status).toBe(200);
  });
});

describe('settlement gate and operators', () => {
  test('when a supervised line has not completed, then it is not settleable while an unsupervised line is; once completed it is; operators list what is stuck', async () => {
    const supervised = await paidLine();
    const plain = await paidLine(plainProduct);
    expect(await settleableLines(h.db, plain.orderId)).toEqual([expect.objectContaining({ orderLineId: plain.orderLineId, supervised: false })]);
    expect(await settleableLines(h.db, supervised.orderId)).toEqual([]);

    const workflowId = supervisionWorkflowId(supervised.orderId, supervised.orderLineId);
    const step = { workflowId, ...supervised, merchantId: merchantA.id, customerId: 'customer-a', productId: supervisedProduct, variant: 'service' as const };
    const longAgo = Date.now() - 200 * 86_400_000;
    await h.db.withTransaction((tx) => saveSupervisionStep(tx, { ...step, node: 'awaiting-acceptance', nodeSinceMs: longAgo }));
    expect(await settleableLines(h.db, supervised.orderId)).toEqual([]);
    const stuck = await request(h.app).get('/v1/supervisions?node=awaiting-acceptance&stuckForDays=180&limit=500').set(operator());
    expect(stuck.status).toBe(200);
    expect(stuck.body.supervisions.map((s: { workflowId: string }) => s.workflowId)).toContain(workflowId);
    expect((await request(h.app).get('/v1/supervisions?stuckForDays=-1').set(operator())).body.error.details[0].field).toBe('stuckForDays');

    const completedAtMs = Date.now();
    await h.db.withTransaction((tx) => saveSupervisionStep(tx, { ...step, node: 'completed', nodeSinceMs: completedAtMs, acceptedAtMs: completedAtMs, completedAtMs }));
    expect(await settleableLines(h.db, supervised.orderId)).toEqual([
      expect.objectContaining({ orderLineId: supervised.orderLineId, supervised: true, settleableSince: new Date(completedAtMs).toISOString() }),
    ]);
    const after = await request(h.app).get('/v1/supervisions?node=awaiting-acceptance&stuckForDays=180&limit=500').set(operator());
    expect(after.body.supervisions.map((s: { workflowId: string }) => s.workflowId)).not.toContain(workflowId);
  });

  test('when an operator resolves an appeal with a bad body or on an unknown line, then 400/404 and no operator action is recorded', async () => {
    const line = await paidLine();
    const path = `/v1/supervisions/${line.orderId}/${line.orderLineId}/appeal-resolution`;
    const bad = await request(h.app).post(path).set(operator()).send({ outcome: 'close', reason: 'x' });
    expect([bad.status, bad.body.error.details.map((d: { field: string }) => d.field)]).toEqual([400, ['outcome', 'reason']]);
    expect((await request(h.app).post(`/v1/supervisions/nope/nope-1/appeal-resolution`).set(operator()).send({ outcome: 'resume', reason: 'fine' })).status).toBe(404);
    const { rows } = await h.db.query<{ n: number }>(`select count(*)::int as n from operator_actions where target_id = $1`, [supervisionWorkflowId(line.orderId, line.orderLineId)]);
    expect(rows[0]!.n).toBe(0);
  });
});
