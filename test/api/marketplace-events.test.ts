/**
 * POST /v1/marketplace/events over HTTP, on real PostgreSQL and a real dev server.
 * Bad input gets a clear error and changes nothing; a good event is stored once and reaches
 * its workflow through signal-with-start; repeats have one effect.
 */
import request from 'supertest';
import type { Express } from 'express';
import { WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { acceptOrderPaid, insertPaidOrderLine } from '../../src/db/repositories/subscription/orders';
import { subscriptionKey, subscriptionWorkflowId } from '../../src/shared/ids';
import { signWebhook } from '../../src/platform/security/standard-webhooks';
import { sampleOrderPaid } from '../../src/dev/marketplace-client';
import { apiHarness, uniqueId, unusedAddress, type ApiHarness } from '../helpers/api-harness';
import { until } from '../helpers/until';
import type { OrderPaidEvent, PaidOrder } from '../../src/workflows/subscription/messages';

let h: ApiHarness;
const merchantId = uniqueId('M');
const productId = uniqueId('P');
/** A second periodic product of the same merchant. */
const otherProductId = uniqueId('P');

beforeAll(async () => {
  h = await apiHarness();
  await request(h.app)
    .put(`/v1/merchants/${merchantId}`)
    .set('authorization', `Bearer ${h.config.operatorToken}`)
    .send({ name: 'Test merchant', productionUrl: 'http://127.0.0.1:9/saasproduce', protocolVersion: 'v2', accessKey: 'test-access-key' })
    .expect(201);
  for (const [id, name] of [
    [productId, 'Monthly'],
    [otherProductId, 'Monthly pro'],
  ]) {
    await request(h.app)
      .put(`/v1/merchants/${merchantId}/products/${id}`)
      .set('authorization', `Bearer ${h.config.operatorToken}`)
      .send({ name, chargingMode: 'PERIOD', retentionDays: 7 })
      .expect(201);
  }
});

afterAll(async () => {
  await h?.close();
});

function post(event: unknown, options: { id?: string; secret?: string; nowMs?: number; raw?: string; app?: Express } = {}) {
  const body = options.raw ?? JSON.stringify(event);
  const id = options.id ?? uniqueId('msg_');
  const headers = signWebhook(options.secret ?? h.config.webhook.secret, id, body, options.nowMs);
  return request(options.app ?? h.app).post('/v1/marketplace/events').set(headers).set('content-type', 'application/json').send(body);
}

/** Registers a product of the test merchant sold as `chargingMode`. */
async function productSoldAs(chargingMode: string): Promise<string> {
  const id = uniqueId(`P-${chargingMode}-`);
  await request(h.app)
    .put(`/v1/merchants/${merchantId}/products/${id}`)
    .set('authorization', `Bearer ${h.config.operatorToken}`)
    .send({ name: id, chargingMode, retentionDays: 1 })
    .expect(201);
  return id;
}

/** Sessions of the test database waiting for an advisory lock that another one holds. */
async function waitingForAdvisoryLock(): Promise<number> {
  const { rows } = await h.db.query<{ n: number }>(
    `select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database
      where l.locktype = 'advisory' and not l.granted and d.datname = current_database()`,
  );
  return rows[0]!.n;
}

async function storedEvents(eventId: string): Promise<number> {
  const { rows } = await h.db.query<{ n: string }>('select count(*)::text as n from inbound_events where event_id = $1', [eventId]);
  return Number(rows[0]!.n);
}

async function workflowExists(workflowId: string): Promise<boolean> {
  try {
    await h.client.workflow.getHandle(workflowId).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

async function signals(workflowId: string, name: string) {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === name);
}

/** The order the workflow received with its (first) orderPaid signal, as decoded from history. */
async function signalledOrder(workflowId: string): Promise<PaidOrder> {
  const [signal] = await signals(workflowId, 'orderPaid');
  const payload = signal?.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new Error(`no orderPaid signal in ${workflowId}`);
  return defaultPayloadConverter.fromPayload<OrderPaidEvent>(payload as Payload).order;
}

const order = (overrides: Record<string, unknown> = {}) => {
  const event = sampleOrderPaid({ merchantId, productId, orderId: uniqueId('CS') });
  return { ...event, data: { ...event.data, ...overrides } };
};

describe('signature checks', () => {
  test('when the signature is made with another secret, then 401 and nothing is stored', async () => {
    const event = order();
    const res = await post(event, { id: 'msg_forged', secret: 'whsec_b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA==' });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'invalid_signature', message: expect.stringContaining('bad-signature') });
    expect(await storedEvents('msg_forged')).toBe(0);
    expect(await workflowExists(`subscription:${event.data.orderId}:${event.data.orderLineId}`)).toBe(false);
  });

  test('when the timestamp is older than 5 minutes, then 401 stale-timestamp', async () => {
    const res = await post(order(), { nowMs: Date.now() - 6 * 60_000 });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toContain('stale-timestamp');
  });

  test('when the signature headers are missing, then 401', async () => {
    const res = await request(h.app).post('/v1/marketplace/events').set('content-type', 'application/json').send(JSON.stringify(order()));
    expect(res.status).toBe(401);
    expect(res.body.error.message).toContain('missing-headers');
  });

  test('when the body was altered after signing, then 401', async () => {
    const event = order();
    const body = JSON.stringify(event);
    const headers = signWebhook(h.config.webhook.secret, 'msg_altered', body);
    const res = await request(h.app).post('/v1/marketplace/events').set(headers).set('content-type', 'application/json').send(body.replace('99.00', '0.01'));
    expect(res.status).toBe(401);
    expect(await storedEvents('msg_altered')).toBe(0);
  });
});

describe('validation', () => {
  test('when orderId is missing, then 400 names data.orderId and nothing is stored', async () => {
    const event = order();
    delete (event.data as Record<string, unknown>).orderId;
    const res = await post(event, { id: 'msg_no_order' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'data.orderId' })]));
    expect(await storedEvents('msg_no_order')).toBe(0);
  });

  test('when a periodic order has no expireTime, then 400 says it is required for PERIOD', async () => {
    const res = await post(order({ expireTime: undefined }));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ field: 'data.expireTime', reason: 'required when chargingMode is PERIOD' }]);
  });

  test('when the amount has five decimals, then 400 on data.amount', async () => {
    const res = await post(order({ amount: '1.00001' }));
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('data.amount');
  });

  test('when the event type is unknown, then 400 on type', async () => {
    const res = await post({ type: 'order.exploded', data: {} });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0]).toMatchObject({ field: 'type' });
  });

  test('when the body is not JSON, then 400 invalid_json', async () => {
    const res = await post(undefined, { raw: '{"type":' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_json');
  });

  test('when a string in the event holds a NUL character, then 400 names its path and nothing is stored', async () => {
    const id = uniqueId('msg_');
    const res = await post(order({ customer: { customerId: 'customer-1', customerName: 'Ann\u0000Lee' } }), { id });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'invalid_request',
      details: [{ field: 'data.customer.customerName', reason: 'must not contain NUL characters' }],
    });
    expect(await storedEvents(id)).toBe(0);
  });

  test('when a field the schema does not know holds a NUL character, then 400 names it too (the raw event is what is stored)', async () => {
    const res = await post(order({ note: { lines: ['ok', 'bad\u0000'] } }));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(res.body.error.details).toEqual([{ field: 'data.note.lines.1', reason: 'must not contain NUL characters' }]);
  });

  test('when a string holds an unpaired surrogate, then 400 names it and nothing is stored (PostgreSQL could not store it)', async () => {
    const id = uniqueId('msg_');
    const res = await post(order({ customer: { customerId: 'customer-1', customerName: 'Ann\ud800' } }), { id });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ field: 'data.customer.customerName', reason: 'must not contain unpaired UTF-16 surrogates' }]);
    expect(await storedEvents(id)).toBe(0);
  });

  test('when the event nests deeper than 64 levels, then 400 names where, and nothing is stored', async () => {
    const id = uniqueId('msg_');
    // Written as text: 5,000 nested arrays are deeper than JSON.stringify takes in a test.
    const raw = JSON.stringify(order({ note: 'deep' })).replace('"deep"', `${'['.repeat(5000)}"bottom"${']'.repeat(5000)}`);
    const res = await post(undefined, { id, raw });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].reason).toBe('must not nest deeper than 64 levels');
    expect(await storedEvents(id)).toBe(0);
  });

  test('when expireTime is a year PostgreSQL cannot store, then 400 names data.expireTime', async () => {
    for (const expireTime of ['0000-01-01T00:00:00Z', '9999-12-31T23:00:00-02:00']) {
      const res = await post(order({ expireTime }));
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'data.expireTime' })]);
    }
  });

  test('when an empty key holds a bad value, then the field name keeps the empty key', async () => {
    const res = await post(order({ '': { x: 'a\u0000' } }));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ field: 'data..x', reason: 'must not contain NUL characters' }]);
  });

  test('when the body is declared in a charset other than UTF-8, then 415 charset_unsupported and nothing is stored', async () => {
    const id = uniqueId('msg_');
    const body = JSON.stringify(order());
    const res = await request(h.app)
      .post('/v1/marketplace/events')
      .set(signWebhook(h.config.webhook.secret, id, body))
      .set('content-type', 'application/json; charset=iso-8859-1')
      .send(body);
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('charset_unsupported');
    expect(await storedEvents(id)).toBe(0);
  });

  test('when the body has a content-encoding the API cannot decode, then 415 encoding_unsupported', async () => {
    const body = JSON.stringify(order());
    const res = await request(h.app)
      .post('/v1/marketplace/events')
      .set(signWebhook(h.config.webhook.secret, uniqueId('msg_'), body))
      .set('content-type', 'application/json')
      .set('content-encoding', 'bogus')
      .send(body);
    expect(res.status).toBe(415);
    expect(res.body.error).toEqual({ code: 'encoding_unsupported', message: 'unsupported content encoding "bogus"' });
  });

  test('when the merchant is unknown, then 422 and nothing is stored', async () => {
    const res = await post(order({ merchantId: 'nobody' }), { id: 'msg_unknown_merchant' });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'unknown_merchant', details: [{ field: 'data.merchantId', reason: 'not registered' }] });
    expect(await storedEvents('msg_unknown_merchant')).toBe(0);
  });

  test('when the product is unknown, then 422 unknown_product', async () => {
    const res = await post(order({ productId: 'no-such-product' }));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('unknown_product');
  });

  test('when the charging mode differs from the product, then 422', async () => {
    const res = await post(order({ chargingMode: 'ONE_TIME' }));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('charging_mode_mismatch');
  });
});

describe('accepted events', () => {
  test('when a valid order.paid arrives, then 202, the event and order line are stored and the workflow is started on our task queue', async () => {
    const event = order();
    const id = uniqueId('msg_');
    const res = await post(event, { id });
    const workflowId = `subscription:${event.data.orderId}:${event.data.orderLineId}`;

    expect(res.status).toBe(202);
    expect(res.body).toEqual({ eventId: id, workflowId, status: 'accepted', duplicate: false });
    expect(res.headers.location).toBe(`/v1/orders/${event.data.orderId}`);

    const { rows } = await h.db.query('select response_status, workflow_id from inbound_events where event_id = $1', [id]);
    expect(rows).toEqual([{ response_status: 202, workflow_id: workflowId }]);
    const lines = await h.db.query('select status, amount::text, workflow_id from order_lines where order_id = $1', [event.data.orderId]);
    expect(lines.rows).toEqual([{ status: 'provisioning', amount: '99.0000', workflow_id: workflowId }]);

    const description = await h.client.workflow.getHandle(workflowId).describe();
    expect(description.taskQueue).toBe(h.config.temporal.taskQueue);
    expect(description.type).toBe('subscriptionWorkflow');
    expect(description.searchAttributes.OrderId).toEqual([event.data.orderId]);
    expect(description.searchAttributes.MerchantId).toEqual([merchantId]);
    const paid = await signals(workflowId, 'orderPaid');
    expect(paid).toHaveLength(1);
  });

  test('when the same webhook-id arrives again, then the same answer and no second effect', async () => {
    const event = order();
    const id = uniqueId('msg_');
    const first = await post(event, { id });
    const second = await post(event, { id });
    expect(second.status).toBe(first.status);
    expect(second.body).toEqual(first.body);
    expect(await storedEvents(id)).toBe(1);
    expect(await signals(first.body.workflowId, 'orderPaid')).toHaveLength(1);
  });

  test('when a webhook-id is reused for a different payload, then 409 and nothing changes', async () => {
    const id = uniqueId('msg_');
    await post(order(), { id }).expect(202);
    const res = await post(order(), { id });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('event_id_reused');
  });

  test('when the same order arrives under a new webhook-id, then it reaches the same workflow', async () => {
    const event = order();
    const first = await post(event);
    const second = await post(event);
    expect(second.status).toBe(202);
    expect(second.body.workflowId).toBe(first.body.workflowId);
    // The workflow ignores the second by its order; it is delivered so nothing is lost.
    expect(await signals(first.body.workflowId, 'orderPaid')).toHaveLength(2);
  });

  test('when a transaction holds a new periodic order line, then another product for that line waits for it and is refused, naming the first product', async () => {
    const data = order().data as Record<string, unknown>;
    const paid = (product: string): PaidOrder => ({ ...(data as unknown as PaidOrder), productId: product, retentionDays: 7 });
    const first = paid(productId);
    let commitFirst!: () => void;
    const firstMayCommit = new Promise<void>((resolve) => (commitFirst = resolve));
    let lineInserted!: () => void;
    const firstHoldsLine = new Promise<void>((resolve) => (lineInserted = resolve));
    const stored = (line: PaidOrder) => ({
      eventId: uniqueId('msg_'),
      eventType: 'order.paid',
      payload: { data: line },
      payloadSha256: 'not read here',
      workflowId: subscriptionWorkflowId(subscriptionKey(line)),
    });
    const firstDone = h.db.withTransaction(async (tx) => {
      await acceptOrderPaid(tx, stored(first), first);
      lineInserted();
      await firstMayCommit;
    });
    await firstHoldsLine;

    let secondSettled = false;
    const secondDone = acceptOrderPaid(h.db, stored(paid(otherProductId)), paid(otherProductId)).finally(() => (secondSettled = true));
    try {
      // The second order is queued behind the first one's lock on the line; without the
      // lock it would have passed already, seeing no line yet.
      await until(waitingForAdvisoryLock, (waiting) => waiting > 0);
      expect(secondSettled).toBe(false);
    } finally {
      // Also when the wait failed: an open transaction would hold its client past the suite.
      commitFirst();
      await firstDone;
    }
    await expect(secondDone).resolves.toEqual({ clashingProduct: productId });
  });

  test('when a periodic order line that exists arrives with another productId, then 409 order_line_conflict names data.productId, stores nothing and signals nothing', async () => {
    const event = order();
    const first = await post(event);
    expect(first.status).toBe(202);
    const id = uniqueId('msg_');

    const res = await post({ ...event, data: { ...event.data, productId: otherProductId } }, { id });

    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'order_line_conflict', details: [{ field: 'data.productId', reason: expect.stringContaining(productId) }] });
    expect(await storedEvents(id)).toBe(0);
    const lines = await h.db.query('select product_id from order_lines where order_id = $1', [event.data.orderId]);
    expect(lines.rows).toEqual([{ product_id: productId }]);
    expect(await signals(first.body.workflowId, 'orderPaid')).toHaveLength(1);
  });

  test('when the subscription already ended, then a late order.paid is answered as a duplicate and starts nothing', async () => {
    const event = order();
    const first = await post(event);
    await h.client.workflow.getHandle(first.body.workflowId).terminate('test: subscription ended');
    const late = await post(event);
    expect(late.status).toBe(202);
    expect(late.body).toMatchObject({ workflowId: first.body.workflowId, duplicate: true });
  });
});

describe('later events', () => {
  test('when a later event names no subscription, then 400 on data.instanceId', async () => {
    const res = await post({ type: 'order.renewed', data: { scene: 'RENEWAL', orderId: 'R1', orderLineId: 'R1-1', expireTime: new Date().toISOString() } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ field: 'data.instanceId', reason: 'instanceId or subscription { orderId, orderLineId } is required' }]);
  });

  test('when a renewal has an unknown scene, then 400 on data.scene', async () => {
    const res = await post({ type: 'order.renewed', data: { instanceId: 'i-1', scene: 'EXTEND', orderId: 'R1', orderLineId: 'R1-1', expireTime: new Date().toISOString() } });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('data.scene');
  });

  test('when a renewal names the order line of a running subscription, then it is signalled to that workflow', async () => {
    const event = order();
    const paid = await post(event);
    const id = uniqueId('msg_');
    const res = await post(
      {
        type: 'order.renewed',
        data: {
          subscription: { orderId: event.data.orderId, orderLineId: event.data.orderLineId },
          scene: 'RENEWAL',
          orderId: uniqueId('R'),
          orderLineId: 'R-1',
          expireTime: '2030-01-01T00:00:00Z',
        },
      },
      { id },
    );
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ eventId: id, workflowId: paid.body.workflowId, status: 'accepted' });
    const renewed = await signals(paid.body.workflowId, 'lifecycleEvent');
    expect(renewed).toHaveLength(1);
  });

  test('when an order line holds two rows of one subscription (stored before lines were checked), then an event naming the line reaches it', async () => {
    const event = order();
    const paid = await post(event);
    expect(paid.status).toBe(202);
    const { orderId, orderLineId } = event.data as { orderId: string; orderLineId: string };
    await insertPaidOrderLine(
      h.db,
      {
        orderId,
        orderLineId,
        orderType: 'NEW',
        merchantId,
        productId: otherProductId,
        skuCode: 'pro',
        chargingMode: 'PERIOD',
        trialFlag: false,
        customer: { customerId: 'demo-customer' },
        amount: '99.00',
        currency: 'CNY',
        retentionDays: 7,
      },
      paid.body.workflowId,
      new Date(),
    );

    const res = await post({ type: 'instance.violation', data: { subscription: { orderId, orderLineId } } });

    expect(res.status).toBe(202);
    expect(res.body.workflowId).toBe(paid.body.workflowId);
  });

  test('when pay-per-use items share an order line, then an event naming only the line is 422 and one naming the product reaches that item', async () => {
    const orderId = uniqueId('CS');
    const items = [uniqueId('P-sms'), uniqueId('P-mms')];
    const workflows: string[] = [];
    for (const item of items) {
      await request(h.app)
        .put(`/v1/merchants/${merchantId}/products/${item}`)
        .set('authorization', `Bearer ${h.config.operatorToken}`)
        .send({ name: item, chargingMode: 'ON_DEMAND', retentionDays: 1 })
        .expect(201);
      const paid = await post(order({ orderId, orderLineId: `${orderId}-000001`, productId: item, chargingMode: 'ON_DEMAND', expireTime: undefined, periodType: undefined, periodNumber: undefined }));
      expect(paid.status).toBe(202);
      workflows.push(paid.body.workflowId);
    }
    expect(new Set(workflows).size).toBe(2);

    const line = { orderId, orderLineId: `${orderId}-000001` };
    const unsubscribe = (subscription: Record<string, string>) => ({ type: 'order.unsubscribed', data: { subscription, orderId: uniqueId('U'), orderLineId: 'U-1' } });
    const ambiguousId = uniqueId('msg_');
    const ambiguous = await post(unsubscribe(line), { id: ambiguousId });
    expect(ambiguous.status).toBe(422);
    expect(ambiguous.body.error).toMatchObject({ code: 'ambiguous_subscription', details: [{ field: 'data.subscription.productId', reason: expect.any(String) }] });
    expect(await storedEvents(ambiguousId)).toBe(0);

    const named = await post(unsubscribe({ ...line, productId: items[1]! }));
    expect(named.status).toBe(202);
    expect(named.body.workflowId).toBe(workflows[1]);
    expect(await signals(workflows[0]!, 'lifecycleEvent')).toHaveLength(0);
    expect(await signals(workflows[1]!, 'lifecycleEvent')).toHaveLength(1);
  });

  test('when the subscription has ended, then a later event is answered 409 and the same answer is given again', async () => {
    const event = order();
    const paid = await post(event);
    await h.client.workflow.getHandle(paid.body.workflowId).terminate('test: ended');
    const late = { type: 'instance.violation', data: { subscription: { orderId: event.data.orderId, orderLineId: event.data.orderLineId } } };
    const id = uniqueId('msg_');
    const first = await post(late, { id });
    const again = await post(late, { id });
    expect(first.status).toBe(409);
    expect(first.body.error.code).toBe('subscription_ended');
    expect(again.status).toBe(409);
    expect(again.body).toEqual(first.body);
  });
});

describe('Temporal unreachable', () => {
  test('when Temporal cannot be reached, then 503 with nothing answered, and a redelivery of the same webhook-id completes the event', async () => {
    const down = await apiHarness({}, { temporalAddress: await unusedAddress() });
    const event = order();
    const id = uniqueId('msg_');
    const workflowId = `subscription:${event.data.orderId}:${event.data.orderLineId}`;
    try {
      const first = await post(event, { id, app: down.app });
      expect(first.status).toBe(503);
      expect(first.body.error).toEqual({ code: 'temporarily_unavailable', message: 'could not reach the workflow engine; retry the delivery' });
    } finally {
      await down.close();
    }
    const { rows } = await h.db.query('select response_status from inbound_events where event_id = $1', [id]);
    expect(rows).toEqual([{ response_status: null }]);
    expect(await workflowExists(workflowId)).toBe(false);

    const redelivered = await post(event, { id });

    expect(redelivered.status).toBe(202);
    expect(redelivered.body).toEqual({ eventId: id, workflowId, status: 'accepted', duplicate: false });
    expect(await signals(workflowId, 'orderPaid')).toHaveLength(1);
    const stored = await h.db.query('select response_status from inbound_events where event_id = $1', [id]);
    expect(stored.rows).toEqual([{ response_status: 202 }]);
    const lines = await h.db.query('select count(*)::int as n from order_lines where order_id = $1', [event.data.orderId]);
    expect(lines.rows).toEqual([{ n: 1 }]);
  });

  test('when Temporal cannot be reached for a later event, then 503, and the redelivery signals it once', async () => {
    const event = order();
    const paid = await post(event);
    const violation = { type: 'instance.violation', data: { subscription: { orderId: event.data.orderId, orderLineId: event.data.orderLineId }, reason: 'spam' } };
    const id = uniqueId('msg_');
    const down = await apiHarness({}, { temporalAddress: await unusedAddress() });
    try {
      expect((await post(violation, { id, app: down.app })).status).toBe(503);
    } finally {
      await down.close();
    }
    expect(await signals(paid.body.workflowId, 'lifecycleEvent')).toHaveLength(0);

    const redelivered = await post(violation, { id });

    expect(redelivered.status).toBe(202);
    expect(redelivered.body).toEqual({ eventId: id, workflowId: paid.body.workflowId, status: 'accepted' });
    expect(await signals(paid.body.workflowId, 'lifecycleEvent')).toHaveLength(1);
  });
});

describe('what reaches the workflow', () => {
  test('when testFlag is "0" or 0, then the workflow gets no testFlag; "1" and 1 reach it as "1"', async () => {
    for (const [sent, expected] of [
      ['0', undefined],
      [0, undefined],
      ['1', '1'],
      [1, '1'],
    ] as const) {
      const res = await post(order({ testFlag: sent }));
      expect(res.status).toBe(202);
      const received = await signalledOrder(res.body.workflowId);
      expect(received.testFlag).toBe(expected);
      if (expected === undefined) expect(received).not.toHaveProperty('testFlag');
    }
  });

  test('when testFlag is something other than 0 or 1, then 400 on data.testFlag', async () => {
    const res = await post(order({ testFlag: '2' }));
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].field).toBe('data.testFlag');
  });

  test.each(['ONE_TIME', 'ON_DEMAND', 'ON_DEMAND_PKG'])('when a %s order.paid carries an expireTime, then it is accepted and nothing of it is kept: no expiry reaches the workflow or the order line', async (chargingMode) => {
    const product = await productSoldAs(chargingMode);
    const event = order({ productId: product, chargingMode, periodType: undefined, periodNumber: undefined, expireTime: '2030-01-01T00:00:00Z' });

    const res = await post(event);

    expect(res.status).toBe(202);
    const received = await signalledOrder(res.body.workflowId);
    expect(received).toMatchObject({ chargingMode, productId: product });
    expect(received).not.toHaveProperty('expireTime');
    const lines = await h.db.query('select expire_time from order_lines where order_id = $1', [event.data.orderId]);
    expect(lines.rows).toEqual([{ expire_time: null }]);
  });

  test('when two stop-when-used-up packages share an order line, then each gets its own workflow, keyed by its product, and its own order line row', async () => {
    const orderId = uniqueId('CS');
    const orderLineId = `${orderId}-000001`;
    const packages = [await productSoldAs('ON_DEMAND_PKG'), await productSoldAs('ON_DEMAND_PKG')];

    const answers = [];
    for (const product of packages) {
      answers.push(await post(order({ orderId, orderLineId, productId: product, chargingMode: 'ON_DEMAND_PKG', periodType: undefined, periodNumber: undefined, expireTime: undefined })));
    }

    expect(answers.map((a) => a.status)).toEqual([202, 202]);
    expect(answers.map((a) => a.body.workflowId)).toEqual(packages.map((product) => `subscription:${orderId}:${product}`));
    for (const [i, product] of packages.entries()) expect(await signalledOrder(answers[i]!.body.workflowId)).toMatchObject({ productId: product });
    const lines = await h.db.query('select product_id, workflow_id from order_lines where order_id = $1 and order_line_id = $2 order by product_id', [orderId, orderLineId]);
    expect(lines.rows).toEqual(
      [...packages].sort().map((product) => ({ product_id: product, workflow_id: `subscription:${orderId}:${product}` })),
    );
  });
});
