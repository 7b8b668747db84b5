/**
 * The change check over HTTP (order.change_requested → the subscription's update → the
 * verdict), on the dev server. With no worker polling the task queue the answer still comes
 * within the deadline; with a worker (a stand-in for the subscription workflow that gives
 * every check a new verdict), a redelivered check gets the first verdict.
 */
import path from 'node:path';
import request from 'supertest';
import { WorkflowEngineUnavailable } from '../../src/api/errors';
import { CHANGE_CHECK_ANSWER_MARGIN_MS } from '../../src/api/subscription/gateway';
import { sampleOrderPaid } from '../../src/dev/marketplace-client';
import { signWebhook } from '../../src/platform/security/standard-webhooks';
import { apiHarness, uniqueId, type ApiHarness } from '../helpers/api-harness';
import { startApiWorker, type ApiWorker } from '../helpers/api-worker';

const DEADLINE_MS = 1_000;

/** A registered merchant and product in the harness's database. */
async function catalogue(h: ApiHarness): Promise<{ merchantId: string; productId: string }> {
  const [merchantId, productId] = [uniqueId('M'), uniqueId('P')];
  const operator = { authorization: `Bearer ${h.config.operatorToken}` };
  await request(h.app)
    .put(`/v1/merchants/${merchantId}`)
    .set(operator)
    .send({ name: 'Test merchant', productionUrl: 'http://127.0.0.1:9/saasproduce', protocolVersion: 'v2', accessKey: 'test-access-key' })
    .expect(201);
  await request(h.app).put(`/v1/merchants/${merchantId}/products/${productId}`).set(operator).send({ name: 'Monthly', chargingMode: 'PERIOD', retentionDays: 7 }).expect(201);
  return { merchantId, productId };
}

function post(h: ApiHarness, event: unknown, id = uniqueId('msg_')) {
  const body = JSON.stringify(event);
  return request(h.app).post('/v1/marketplace/events').set(signWebhook(h.config.webhook.secret, id, body)).set('content-type', 'application/json').send(body);
}

/** Pays for a new order and answers its subscription's order line and workflow. */
async function paidSubscription(h: ApiHarness, product: { merchantId: string; productId: string }) {
  const paid = sampleOrderPaid({ ...product, orderId: uniqueId('CS') });
  const res = await post(h, paid);
  expect(res.status).toBe(202);
  return { line: { orderId: String(paid.data.orderId), orderLineId: String(paid.data.orderLineId) }, workflowId: String(res.body.workflowId) };
}

const changeRequested = (line: { orderId: string; orderLineId: string }) => ({
  type: 'order.change_requested',
  data: { subscription: line, productInfo: { productId: 'product-yearly', skuCode: 'sku-small', productName: 'Example SaaS (small)' } },
});

describe('with no worker polling the task queue', () => {
  let h: ApiHarness;
  let product: { merchantId: string; productId: string };

  beforeAll(async () => {
    h = await apiHarness({ CHANGE_CHECK_DEADLINE_MS: String(DEADLINE_MS) });
    product = await catalogue(h);
  });

  afterAll(async () => {
    await h?.close();
  });

  test(
    'when no worker takes the check, then it is refused (200) within the deadline plus the margin, and a redelivery gets the same answer',
    async () => {
      const { line, workflowId } = await paidSubscription(h, product);
      const id = uniqueId('msg_');

      const started = Date.now();
      const res = await post(h, changeRequested(line), id);
      const elapsedMs = Date.now() - started;

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ eventId: id, workflowId, allowed: false, reason: `refused: no answer within ${DEADLINE_MS} ms (the subscription's worker did not take the check)` });
      expect(elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS);
      expect(elapsedMs).toBeLessThan(DEADLINE_MS + CHANGE_CHECK_ANSWER_MARGIN_MS + 1_000);
      const again = await post(h, changeRequested(line), id);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(res.body);
    },
    // Without a client-side deadline the request waits for a worker for ever.
    15_000,
  );

  test('when the subscription has ended, then a change check is 409 subscription_ended', async () => {
    const { line, workflowId } = await paidSubscription(h, product);
    await h.client.workflow.getHandle(workflowId).terminate('test: ended');

    const res = await post(h, changeRequested(line));

    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({ code: 'subscription_ended', message: `subscription ${workflowId} is no longer running` });
  });
});

describe('with a worker answering the check', () => {
  let h: ApiHarness;
  let product: { merchantId: string; productId: string };
  let worker: ApiWorker | undefined;

  beforeAll(async () => {
    h = await apiHarness();
    product = await catalogue(h);
    worker = await startApiWorker({ taskQueue: h.config.temporal.taskQueue, workflowsPath: path.resolve(__dirname, 'fixtures/change-check-workflow.ts') });
  });

  afterAll(async () => {
    await worker?.stop();
    await h?.close();
  });

  /** How many checks the subscription took: accepted updates in its history. */
  async function checksTaken(workflowId: string): Promise<number> {
    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
  }

  test('when a check is redelivered under its webhook-id, then the first verdict again and no second check', async () => {
    const { line, workflowId } = await paidSubscription(h, product);
    const id = uniqueId('msg_');

    const first = await post(h, changeRequested(line), id);
    const again = await post(h, changeRequested(line), id);

    expect(first.status).toBe(200);
    expect(first.body).toEqual({ eventId: id, workflowId, allowed: true, reason: `check 1 (${id})`, resultCode: '000000' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await checksTaken(workflowId)).toBe(1);
  });

  test('when the verdict was lost on its way back (503), then the redelivery gets that first verdict from the workflow, not a second check', async () => {
    const { line, workflowId } = await paidSubscription(h, product);
    const id = uniqueId('msg_');
    const lossy = await apiHarness(
      { TEMPORAL_TASK_QUEUE: h.config.temporal.taskQueue },
      {
        gateway: (real) => ({
          ...real,
          async checkChange(target, changeRequest) {
            await real.checkChange(target, changeRequest);
            throw new WorkflowEngineUnavailable(new Error('connection reset before the answer arrived'));
          },
        }),
      },
    );
    try {
      expect((await post(lossy, changeRequested(line), id)).status).toBe(503);
    } finally {
      await lossy.close();
    }
    const { rows } = await h.db.query('select response_status from inbound_events where event_id = $1', [id]);
    expect(rows).toEqual([{ response_status: null }]);

    const redelivered = await post(h, changeRequested(line), id);

    expect(redelivered.status).toBe(200);
    expect(redelivered.body).toEqual({ eventId: id, workflowId, allowed: true, reason: `check 1 (${id})`, resultCode: '000000' });
    expect(await checksTaken(workflowId)).toBe(1);
  });

  test('when the same check arrives under a new webhook-id, then it is a new question and gets a check of its own', async () => {
    const { line, workflowId } = await paidSubscription(h, product);
    const [firstId, secondId] = [uniqueId('msg_'), uniqueId('msg_')];

    const first = await post(h, changeRequested(line), firstId);
    const second = await post(h, changeRequested(line), secondId);

    expect(first.body).toMatchObject({ eventId: firstId, allowed: true, reason: `check 1 (${firstId})` });
    expect(second.body).toMatchObject({ eventId: secondId, allowed: false, reason: `check 2 (${secondId})` });
    expect(await checksTaken(workflowId)).toBe(2);
  });
});
