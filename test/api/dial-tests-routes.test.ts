/**
 * Dial-test routes over HTTP on real PostgreSQL, and the dial-test Schedule on the Temporal dev
 * server: operators read and save a product's debug cases (the default derived from the
 * product when none are saved), merchants do the same for their own products only through
 * signed requests, bad input is refused naming the field with nothing saved, and the Schedule
 * fires at 09:00 and 15:00 Beijing time.
 */
import request from 'supertest';
import { ensureDialTestSchedule } from '../../src/api/governance/dial-tests-gateway';
import { apiHarness, uniqueId, type ApiHarness } from '../helpers/api-harness';
import { partyHeaders } from '../helpers/signed-party';

let h: ApiHarness;
const scheduleId = uniqueId('dial-tests-schedule-test');

beforeAll(async () => {
  h = await apiHarness();
});

afterAll(async () => {
  await h.client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  await h?.close();
});

const operator = () => ({ authorization: `Bearer ${h.config.operatorToken}`, 'x-operator': 'alice' });

async function merchantWithProduct(chargingMode = 'PERIOD'): Promise<{ merchantId: string; productId: string; accessKey: string }> {
  const merchantId = uniqueId('M');
  const productId = uniqueId('P');
  const accessKey = `key-${merchantId}`;
  await request(h.app).put(`/v1/merchants/${merchantId}`).set(operator()).send({ name: 'Merchant', productionUrl: 'http://127.0.0.1:9/saasproduce', protocolVersion: 'v2', accessKey }).expect(201);
  await request(h.app).put(`/v1/merchants/${merchantId}/products/${productId}`).set(operator()).send({ name: 'Product', chargingMode, retentionDays: 7 }).expect(201);
  return { merchantId, productId, accessKey };
}

const casesPath = (merchantId: string, productId: string) => `/v1/merchants/${merchantId}/products/${productId}/dial-test-cases`;
const saved = async (productId: string) => (await h.db.query(`select cases, saved_by from dial_test_cases where product_id = $1`, [productId])).rows;

/** A merchant's signed request to its own dial-test routes. */
function signed(m: { merchantId: string; accessKey: string }, method: 'GET' | 'PUT', path: string, body?: unknown) {
  const raw = body === undefined ? '' : JSON.stringify(body);
  const headers = partyHeaders({ idHeader: 'x-merchant-id', id: m.merchantId, key: m.accessKey }, method, path, raw);
  const call = method === 'GET' ? request(h.app).get(path) : request(h.app).put(path);
  return raw ? call.set(headers).send(raw) : call.set(headers);
}

const mockCases = {
  create: { orderId: 'MOCKMONTYRENEW', orderLineId: 'MOCKMONTYRENEW-000001' },
  query: { instanceId: 'debug-instance-1' },
  release: { instanceId: null, orderId: 'MOCKMONTYUNSUBSCRIBE', orderLineId: 'MOCKMONTYUNSUBSCRIBE-000001' },
};

describe('operator routes', () => {
  it('when no cases are saved, then the default from the product is answered: the mock order of its charging mode, and the instance the create answers', async () => {
    const periodic = await merchantWithProduct('PERIOD');
    const payPerUse = await merchantWithProduct('ON_DEMAND');
    const a = await request(h.app).get(casesPath(periodic.merchantId, periodic.productId)).set(operator()).expect(200);
    const b = await request(h.app).get(casesPath(payPerUse.merchantId, payPerUse.productId)).set(operator()).expect(200);
    expect(a.body).toMatchObject({
      source: 'default',
      cases: { create: { orderId: 'MOCKPERIODYEARNEW', orderLineId: 'MOCKPERIODYEARNEW-000001' }, query: { instanceId: null }, release: { instanceId: null, orderId: null, orderLineId: null } },
    });
    expect(b.body.cases.create).toEqual({ orderId: 'MOCKONDEMAND', orderLineId: 'MOCKONDEMAND-000001' });
  });

  it('when an operator saves cases, then they are what a run uses, recorded with who saved them', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    const put = await request(h.app).put(casesPath(merchantId, productId)).set(operator()).send(mockCases).expect(200);
    expect(put.body).toMatchObject({ source: 'saved', savedBy: 'operator:alice', cases: mockCases });
    const get = await request(h.app).get(casesPath(merchantId, productId)).set(operator()).expect(200);
    expect(get.body.cases).toEqual(mockCases);
  });

  it.each([
    [{ create: { orderId: 'CS2211181819B4LVS', orderLineId: 'CS2211181819B4LVS-000001' } }, 'create.orderId'],
    [{ create: { orderId: 'MOCKPERIODYEARNEW', orderLineId: 'MOCKPERIODYEARNEW-000002' } }, 'create.orderLineId'],
    [{ create: { orderId: 'MOCKPERIODYEARNEW', orderLineId: 'MOCKPERIODYEARNEW-000001' }, query: { instanceId: 'a b' } }, 'query.instanceId'],
    [{ create: { orderId: 'MOCKPERIODYEARNEW', orderLineId: 'MOCKPERIODYEARNEW-000001' }, release: { orderId: 'MOCKMONTYUNSUBSCRIBE' } }, 'release.orderLineId'],
    // An unknown key is the body's fault: zod names it in the reason ("Unrecognized key: \"extra\"").
    [{ create: { orderId: 'MOCKPERIODYEARNEW', orderLineId: 'MOCKPERIODYEARNEW-000001' }, extra: 1 }, '(body)'],
    [{}, 'create'],
  ])('when the cases are wrong (%j), then 400 naming %s and nothing saved', async (body, field) => {
    const { merchantId, productId } = await merchantWithProduct();
    const response = await request(h.app).put(casesPath(merchantId, productId)).set(operator()).send(body).expect(400);
    expect(response.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(await saved(productId)).toEqual([]);
  });

  it('when the product is another merchant\'s or unknown, then 404 product_not_found and nothing saved', async () => {
    const mine = await merchantWithProduct();
    const theirs = await merchantWithProduct();
    await request(h.app).put(casesPath(mine.merchantId, theirs.productId)).set(operator()).send(mockCases).expect(404);
    const unknown = await request(h.app).get(casesPath(mine.merchantId, uniqueId('P'))).set(operator()).expect(404);
    expect(unknown.body.error.code).toBe('product_not_found');
    expect(await saved(theirs.productId)).toEqual([]);
  });

  it('when the report is asked with a bad window or without the token, then 400 naming days, or 401', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    const bad = await request(h.app).get(`/v1/merchants/${merchantId}/products/${productId}/dial-tests?days=0`).set(operator()).expect(400);
    expect(bad.body.error.details[0].field).toBe('days');
    await request(h.app).get(`/v1/merchants/${merchantId}/products/${productId}/dial-tests`).expect(401);
    const empty = await request(h.app).get(`/v1/merchants/${merchantId}/products/${productId}/dial-tests`).set(operator()).expect(200);
    expect(empty.body).toMatchObject({ merchantId, productId, failedDays: 0, days: [], results: [], sanction: null });
  });
});

describe('merchant routes', () => {
  const path = (productId: string, what = 'dial-test-cases') => `/v1/governance/merchant/products/${productId}/${what}`;

  it('when a merchant saves its own product\'s cases with a signed request, then they are saved as the merchant\'s', async () => {
    const m = await merchantWithProduct();
    const put = await signed(m, 'PUT', path(m.productId), mockCases).expect(200);
    expect(put.body).toMatchObject({ source: 'saved', savedBy: 'merchant', cases: mockCases });
    const report = await signed(m, 'GET', path(m.productId, 'dial-tests')).expect(200);
    expect(report.body).toMatchObject({ productId: m.productId, cases: 'saved' });
  });

  it('when a merchant reads or saves another merchant\'s product, then 404 as for one that does not exist, and nothing saved', async () => {
    const m = await merchantWithProduct();
    const other = await merchantWithProduct();
    const read = await signed(m, 'GET', path(other.productId)).expect(404);
    expect(read.body.error.code).toBe('product_not_found');
    await signed(m, 'PUT', path(other.productId), mockCases).expect(404);
    await signed(m, 'GET', path(other.productId, 'dial-tests')).expect(404);
    expect(await saved(other.productId)).toEqual([]);
  });

  it('when the request is unsigned or signed with another key, then 401 and nothing saved', async () => {
    const m = await merchantWithProduct();
    await request(h.app).put(path(m.productId)).send(mockCases).expect(401);
    await signed({ merchantId: m.merchantId, accessKey: 'not-the-key' }, 'PUT', path(m.productId), mockCases).expect(401);
    expect(await saved(m.productId)).toEqual([]);
  });

  it('when the body is not JSON or a case is wrong, then 400 and nothing saved', async () => {
    const m = await merchantWithProduct();
    const wrong = await signed(m, 'PUT', path(m.productId), { create: { orderId: 'REAL-ORDER', orderLineId: 'REAL-ORDER-000001' } }).expect(400);
    expect(wrong.body.error.details[0].field).toBe('create.orderId');
    const raw = 'not json';
    await request(h.app).put(path(m.productId)).set(partyHeaders({ idHeader: 'x-merchant-id', id: m.merchantId, key: m.accessKey }, 'PUT', path(m.productId), raw)).send(raw).expect(400);
    expect(await saved(m.productId)).toEqual([]);
  });
});

test('when the worker registers the dial-test schedule twice, then it is created, then updated, and fires at 09:00 and 15:00 Beijing time', async () => {
  const options = { scheduleId, taskQueue: h.config.temporal.taskQueue, hours: h.config.dialTests.hours, timeZone: h.config.dialTests.timeZone, failedDaysToFreeze: h.config.dialTests.failedDaysToFreeze };
  expect(options).toMatchObject({ hours: [9, 15], timeZone: 'Asia/Shanghai', failedDaysToFreeze: 5 });
  expect(await ensureDialTestSchedule(h.client, options)).toBe('created');
  const hoursInBeijing = async () => {
    const description = await h.client.schedule.getHandle(scheduleId).describe();
    return new Set(description.info.nextActionTimes.map((t) => new Date(t.getTime() + 8 * 3_600_000).toISOString().slice(11, 16)));
  };
  expect(await hoursInBeijing()).toEqual(new Set(['09:00', '15:00']));

  expect(await ensureDialTestSchedule(h.client, { ...options, hours: [8] })).toBe('updated');
  expect(await hoursInBeijing()).toEqual(new Set(['08:00']));
  const description = await h.client.schedule.getHandle(scheduleId).describe();
  expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'dialTestRunWorkflow', taskQueue: h.config.temporal.taskQueue });
});
