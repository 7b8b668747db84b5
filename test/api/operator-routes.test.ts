/**
 * Operator routes over HTTP: merchants and products, the order view, manual restart.
 */
import request from 'supertest';
import { WorkflowEngineUnavailable } from '../../src/api/errors';
import { findMerchant } from '../../src/db/repositories/catalog/merchants';
import { saveInstanceAppInfo, upsertInstance } from '../../src/db/repositories/subscription/instances';
import { sampleOrderPaid } from '../../src/dev/marketplace-client';
import { signWebhook } from '../../src/platform/security/standard-webhooks';
import { apiHarness, uniqueId, unusedAddress, type ApiHarness, type ApiHarnessOptions } from '../helpers/api-harness';

let h: ApiHarness;
let production: ApiHarness;

beforeAll(async () => {
  h = await apiHarness();
  production = await apiHarness({
    APP_MODE: 'production',
    WEBHOOK_SECRET: 'whsec_cHJvZHVjdGlvbi13ZWJob29rLXNlY3JldC0xMjM0NTY=',
    OPERATOR_TOKEN: 'production-operator-token',
    DATA_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    ORDER_SYSTEM_SECRET: 'production-order-system-secret',
    ORDER_SYSTEM_URL: 'https://orders.example.com/callbacks',
  });
});

afterAll(async () => {
  await h?.close();
  await production?.close();
});

const operator = (harness: ApiHarness) => ({ authorization: `Bearer ${harness.config.operatorToken}`, 'x-operator': 'alice@example.com' });
const merchantBody = (productionUrl: string) => ({ name: 'Acme SaaS', productionUrl, protocolVersion: 'v2', accessKey: 'acme-secret-access-key' });

describe('authentication', () => {
  test('when no bearer token is given, then 401 on every operator route', async () => {
    for (const [method, path] of [
      ['put', '/v1/merchants/x'],
      ['put', '/v1/merchants/x/products/y'],
      ['get', '/v1/orders/x'],
      ['post', '/v1/orders/x/restart'],
    ] as const) {
      const res = await request(h.app)[method](path).send({});
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
  });

  test('when the token is wrong, then 401', async () => {
    const res = await request(h.app).get('/v1/orders/x').set('authorization', 'Bearer not-the-token');
    expect(res.status).toBe(401);
  });
});

describe('merchants and products', () => {
  test('when a merchant is registered, then 201, then 200 on update, and the access key is stored encrypted', async () => {
    const id = uniqueId('M');
    const created = await request(h.app).put(`/v1/merchants/${id}`).set(operator(h)).send(merchantBody('http://127.0.0.1:4000/saasproduce'));
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ merchantId: id, name: 'Acme SaaS', productionUrl: 'http://127.0.0.1:4000/saasproduce', protocolVersion: 'v2', accessKeyConfigured: true });
    expect(JSON.stringify(created.body)).not.toContain('acme-secret-access-key');

    const updated = await request(h.app).put(`/v1/merchants/${id}`).set(operator(h)).send({ ...merchantBody('https://acme.example.com/produce'), accessKey: 'rotated-access-key' });
    expect(updated.status).toBe(200);

    const row = await findMerchant(h.db, id);
    expect(row?.accessKeyEnc).not.toContain('rotated-access-key');
    expect(h.encryptor.decrypt(row!.accessKeyEnc)).toBe('rotated-access-key');
    expect(row?.productionUrl).toBe('https://acme.example.com/produce');
  });

  test('when development mode gets an http URL that is not loopback, then 400 on productionUrl', async () => {
    const res = await request(h.app).put(`/v1/merchants/${uniqueId('M')}`).set(operator(h)).send(merchantBody('http://acme.example.com/produce'));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ field: 'productionUrl', reason: 'must be https, or http on a loopback host in development mode' }]);
  });

  test('when production mode gets http, an IP literal or loopback, then 400; an https domain is accepted', async () => {
    for (const url of ['http://127.0.0.1:4000/saasproduce', 'https://10.1.2.3/produce', 'https://[::1]/produce', 'https://localhost/produce']) {
      const res = await request(production.app).put(`/v1/merchants/${uniqueId('M')}`).set(operator(production)).send(merchantBody(url));
      expect(res.status).toBe(400);
      expect(res.body.error.details[0].field).toBe('productionUrl');
    }
    const ok = await request(production.app).put(`/v1/merchants/${uniqueId('M')}`).set(operator(production)).send(merchantBody('https://isv.example.com/saasproduce'));
    expect(ok.status).toBe(201);
  });

  test('when productionUrl is not a URL at all, then 400 names productionUrl', async () => {
    for (const harness of [h, production]) {
      const res = await request(harness.app).put(`/v1/merchants/${uniqueId('M')}`).set(operator(harness)).send(merchantBody('not a url'));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'productionUrl' })]);
    }
  });

  test('when a merchant field holds a NUL character, then 400 names it and nothing is stored', async () => {
    const id = uniqueId('M');
    const res = await request(h.app).put(`/v1/merchants/${id}`).set(operator(h)).send({ ...merchantBody('https://a.example.com/p'), name: 'Acme\u0000' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', details: [{ field: 'name', reason: 'must not contain NUL characters' }] });
    expect(await findMerchant(h.db, id)).toBeUndefined();
  });

  test('when the body declares a charset the API cannot read, then 415 charset_unsupported', async () => {
    const res = await request(h.app)
      .put(`/v1/merchants/${uniqueId('M')}`)
      .set(operator(h))
      .set('content-type', 'application/json; charset=klingon')
      .send(JSON.stringify(merchantBody('https://a.example.com/p')));
    expect(res.status).toBe(415);
    expect(res.body.error).toEqual({ code: 'charset_unsupported', message: 'unsupported charset "KLINGON"' });
  });

  test('when the body has an unknown field or the wrong protocol version, then 400 names it', async () => {
    const extra = await request(h.app).put(`/v1/merchants/${uniqueId('M')}`).set(operator(h)).send({ ...merchantBody('https://a.example.com/p'), colour: 'blue' });
    expect(extra.status).toBe(400);
    const v1 = await request(h.app).put(`/v1/merchants/${uniqueId('M')}`).set(operator(h)).send({ ...merchantBody('https://a.example.com/p'), protocolVersion: 'v1' });
    expect(v1.status).toBe(400);
    expect(v1.body.error.details).toEqual([{ field: 'protocolVersion', reason: 'only "v2" is supported' }]);
  });

  test('when a product names an unknown merchant, then 404; retention outside 1–15 days, then 400', async () => {
    const missing = await request(h.app).put(`/v1/merchants/${uniqueId('M')}/products/p1`).set(operator(h)).send({ name: 'P', chargingMode: 'PERIOD', retentionDays: 15 });
    expect(missing.status).toBe(404);
    const merchant = uniqueId('M');
    await request(h.app).put(`/v1/merchants/${merchant}`).set(operator(h)).send(merchantBody('https://a.example.com/p')).expect(201);
    const tooLong = await request(h.app).put(`/v1/merchants/${merchant}/products/${uniqueId('P')}`).set(operator(h)).send({ name: 'P', chargingMode: 'PERIOD', retentionDays: 16 });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.details[0].field).toBe('retentionDays');
  });

  test('when a product id belongs to another merchant, then 409 and the product keeps its owner', async () => {
    const [a, b, product] = [uniqueId('M'), uniqueId('M'), uniqueId('P')];
    for (const m of [a, b]) await request(h.app).put(`/v1/merchants/${m}`).set(operator(h)).send(merchantBody('https://a.example.com/p')).expect(201);
    await request(h.app).put(`/v1/merchants/${a}/products/${product}`).set(operator(h)).send({ name: 'P', chargingMode: 'PERIOD', retentionDays: 5 }).expect(201);
    const res = await request(h.app).put(`/v1/merchants/${b}/products/${product}`).set(operator(h)).send({ name: 'P', chargingMode: 'PERIOD', retentionDays: 5 });
    expect(res.status).toBe(409);
    const { rows } = await h.db.query('select merchant_id from products where product_id = $1', [product]);
    expect(rows).toEqual([{ merchant_id: a }]);
  });
});

describe('orders', () => {
  const merchantId = uniqueId('M');
  const productId = uniqueId('P');

  beforeAll(async () => {
    await request(h.app).put(`/v1/merchants/${merchantId}`).set(operator(h)).send(merchantBody('http://127.0.0.1:9/saasproduce')).expect(201);
    await request(h.app).put(`/v1/merchants/${merchantId}/products/${productId}`).set(operator(h)).send({ name: 'P', chargingMode: 'PERIOD', retentionDays: 15 }).expect(201);
  });

  /** A paid order line; another line of the same order when `line` names one. */
  async function paidOrder(line?: { orderId: string; orderLineId: string }): Promise<{ orderId: string; workflowId: string }> {
    const sample = sampleOrderPaid({ merchantId, productId, orderId: line?.orderId ?? uniqueId('CS') });
    const event = { ...sample, data: { ...sample.data, ...line } };
    const body = JSON.stringify(event);
    const res = await request(h.app).post('/v1/marketplace/events').set(signWebhook(h.config.webhook.secret, uniqueId('msg_'), body)).set('content-type', 'application/json').send(body);
    expect(res.status).toBe(202);
    return { orderId: String(event.data.orderId), workflowId: res.body.workflowId };
  }

  test('when an order is unknown, then 404 order_not_found', async () => {
    const res = await request(h.app).get('/v1/orders/NOPE').set(operator(h));
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('order_not_found');
  });

  test('when an order was just accepted, then it reads as provisioning with an empty timeline', async () => {
    const { orderId, workflowId } = await paidOrder();
    const res = await request(h.app).get(`/v1/orders/${orderId}`).set(operator(h));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ orderId, merchantId, status: 'provisioning', instanceId: null, attempts: [] });
    expect(res.body.lines).toEqual([expect.objectContaining({ orderLineId: `${orderId}-000001`, workflowId, status: 'provisioning' })]);
  });

  test('when an operator restarts an order, then the workflow gets the restart signal and the action is recorded', async () => {
    const { orderId, workflowId } = await paidOrder();
    const res = await request(h.app).post(`/v1/orders/${orderId}/restart`).set(operator(h)).send({ reason: 'merchant fixed their endpoint' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ orderId, restarted: [workflowId] });

    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    const restart = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'restart');
    expect(restart).toHaveLength(1);
    const { rows } = await h.db.query('select actor, action, target_id, reason from operator_actions where action_id = $1', [res.body.actionId]);
    expect(rows).toEqual([{ actor: 'alice@example.com', action: 'restart', target_id: orderId, reason: 'merchant fixed their endpoint' }]);
  });

  test('when a restart names an order line, then only that line\'s subscription is signalled; an unknown line is 404', async () => {
    const first = await paidOrder();
    const second = await paidOrder({ orderId: first.orderId, orderLineId: `${first.orderId}-000002` });
    const restarts = async (workflowId: string): Promise<number> =>
      ((await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'restart').length;

    const res = await request(h.app).post(`/v1/orders/${first.orderId}/restart`).set(operator(h)).send({ reason: 'line 2 only', orderLineId: `${first.orderId}-000002` });
    const unknown = await request(h.app).post(`/v1/orders/${first.orderId}/restart`).set(operator(h)).send({ reason: 'no such line', orderLineId: `${first.orderId}-000009` });

    expect(res.status).toBe(202);
    expect(res.body.restarted).toEqual([second.workflowId]);
    expect(await restarts(second.workflowId)).toBe(1);
    expect(await restarts(first.workflowId)).toBe(0);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('order_line_not_found');
  });

  test('when a restart has no reason, then 400 and no signal is sent', async () => {
    const { orderId, workflowId } = await paidOrder();
    const res = await request(h.app).post(`/v1/orders/${orderId}/restart`).set(operator(h)).send({});
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('reason');
    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    expect((history.events ?? []).some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'restart')).toBe(false);
  });

  test('when a restart reason holds a NUL character, then 400 names reason', async () => {
    const { orderId } = await paidOrder();
    const res = await request(h.app).post(`/v1/orders/${orderId}/restart`).set(operator(h)).send({ reason: 'fixed\u0000' });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request', details: [{ field: 'reason', reason: 'must not contain NUL characters' }] });
  });

  /** POSTs a restart through an API built with `options` (a gateway that fails, or Temporal where nothing listens). */
  async function restartThrough(orderId: string, options: ApiHarnessOptions) {
    const harness = await apiHarness({}, options);
    try {
      return await request(harness.app).post(`/v1/orders/${orderId}/restart`).set(operator(harness)).send({ reason: 'merchant is back' });
    } finally {
      await harness.close();
    }
  }

  test('when the workflow engine cannot be reached for one line, then 503 temporarily_unavailable and the restarts that went through are recorded', async () => {
    const { orderId, workflowId } = await paidOrder();
    const secondLine = await paidOrder({ orderId, orderLineId: `${orderId}-000002` });

    const res = await restartThrough(orderId, {
      gateway: (real) => ({
        ...real,
        restart: (id, restartRequest) =>
          id === secondLine.workflowId ? Promise.reject(new WorkflowEngineUnavailable(new Error('14 UNAVAILABLE: No connection established'))) : real.restart(id, restartRequest),
      }),
    });

    expect(res.status).toBe(503);
    expect(res.body.error).toEqual({ code: 'temporarily_unavailable', message: 'could not reach the workflow engine; restarted 1 of 2 order lines; retry the restart' });
    const { rows } = await h.db.query('select actor, action, reason, details from operator_actions where target_id = $1', [orderId]);
    expect(rows).toEqual([{ actor: 'alice@example.com', action: 'restart', reason: 'merchant is back', details: { workflowIds: [workflowId] } }]);
  });

  test('when the workflow engine cannot be reached at all, then 503 temporarily_unavailable and nothing is recorded', async () => {
    const { orderId } = await paidOrder();

    const res = await restartThrough(orderId, { temporalAddress: await unusedAddress() });

    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('temporarily_unavailable');
    const { rows } = await h.db.query('select count(*)::int as n from operator_actions where target_id = $1', [orderId]);
    expect(rows[0]).toEqual({ n: 0 });
  });

  test('when the subscription is no longer running, then restart answers 409 and records nothing', async () => {
    const { orderId, workflowId } = await paidOrder();
    await h.client.workflow.getHandle(workflowId).terminate('test');
    const res = await request(h.app).post(`/v1/orders/${orderId}/restart`).set(operator(h)).send({ reason: 'too late' });
    expect(res.status).toBe(409);
    const { rows } = await h.db.query("select count(*)::int as n from operator_actions where target_id = $1", [orderId]);
    expect(rows[0]).toEqual({ n: 0 });
  });

  describe('instances', () => {
    test('when an instance has app info, then GET shows it with the password masked', async () => {
      const { orderId, workflowId } = await paidOrder();
      const instanceId = uniqueId('inst-');
      const row = { instanceId, workflowId, merchantId, orderId, orderLineId: `${orderId}-000001`, productId };
      await upsertInstance(h.db, { ...row, skuCode: 'basic', status: 'active', expireTime: '2030-01-01T00:00:00.000Z' });
      const appInfo = { frontEndUrl: 'https://app.example.com', adminUrl: 'https://app.example.com/admin', userName: 'admin', password: 'initial-Passw0rd' };
      await saveInstanceAppInfo(h.db, { ...row, appInfoEnc: h.encryptor.encrypt(JSON.stringify(appInfo)) });

      const res = await request(h.app).get(`/v1/instances/${instanceId}`).set(operator(h));

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ instanceId, status: 'active', skuCode: 'basic', expireTime: '2030-01-01T00:00:00.000Z', workflowId: row.workflowId });
      expect(res.body.appInfo).toEqual({ ...appInfo, password: '********' });
      expect(JSON.stringify(res.body)).not.toContain('initial-Passw0rd');
      expect(res.body).not.toHaveProperty('appInfoEnc');
      // No worker answers the status query here: the stored row is the whole answer.
      expect(res.body.subscription).toBeNull();
    });

    test('when the instance is unknown, then 404 instance_not_found', async () => {
      const res = await request(h.app).get(`/v1/instances/${uniqueId('nobody-')}`).set(operator(h));
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('instance_not_found');
    });
  });
});

describe('health check', () => {
  /** GET /healthz on an API built with `options`. */
  async function healthThrough(options: ApiHarnessOptions) {
    const harness = await apiHarness({}, options);
    try {
      return await request(harness.app).get('/healthz');
    } finally {
      await harness.close();
    }
  }

  test('when PostgreSQL and Temporal answer, then 200 ok', async () => {
    const res = await request(h.app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: true, temporal: true });
  });

  test('when nothing listens at the Temporal address, then 503 and temporal false', async () => {
    const res = await healthThrough({ temporalAddress: await unusedAddress() });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'degraded', database: true, temporal: false });
  });

  test('when PostgreSQL does not answer, then 503 and database false', async () => {
    const res = await healthThrough({ databaseUrl: `postgres://nobody:nothing@${await unusedAddress()}/none` });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'degraded', database: false, temporal: true });
  });
});

describe('when PostgreSQL is down', () => {
  test('then every route that needs it answers 503 temporarily_unavailable, and a webhook can be redelivered', async () => {
    const harness = await apiHarness({}, { databaseUrl: `postgres://nobody:nothing@${await unusedAddress()}/none` });
    try {
      const event = JSON.stringify(sampleOrderPaid({ merchantId: 'M-any', productId: 'P-any' }));
      const webhook = await request(harness.app)
        .post('/v1/marketplace/events')
        .set({ 'content-type': 'application/json', ...signWebhook(harness.config.webhook.secret, `msg_${uniqueId('db-down')}`, event) })
        .send(event);
      const order = await request(harness.app).get(`/v1/orders/${uniqueId('CS')}`).set(operator(harness));

      for (const res of [webhook, order]) {
        expect(res.status).toBe(503);
        expect(res.body.error).toEqual({ code: 'temporarily_unavailable', message: 'the database is unavailable; retry the request' });
      }
    } finally {
      await harness.close();
    }
  });
});
