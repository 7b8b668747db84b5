/**
 * Failed orders delist the product (spec §4), end to end under time skipping: real
 * subscription workflows with the production create window (3 hours) on a test server of this
 * suite's own, the real activities on real PostgreSQL, the reference merchant over HTTP failing
 * every newInstance (a fault rule), and the order system a real HTTP sink of the signed
 * callbacks. Orders come in through the API's signed order.paid webhook. The fifth failed order
 * of the month leaves the product on sale; the sixth delists it (actor interface-sanctions) and
 * tells the merchant once, with the six orders; the seventh changes nothing more. Each failed
 * order is refunded through the order system. In the api project because it needs PostgreSQL.
 */
import request from 'supertest';
import { createActivities } from '../../src/activities';
import { createSubscriptionGateway, type SubscriptionGateway } from '../../src/api/subscription/gateway';
import { createHttpKitClient } from '../../src/clients/kit';
import { createHttpMerchantClient } from '../../src/clients/merchant';
import { createMerchantDirectory } from '../../src/clients/merchant-directory';
import { createHttpOrderSystemClient } from '../../src/clients/order-system';
import { sampleOrderPaid } from '../../src/dev/marketplace-client';
import { startOrderSystemSink, type OrderSystemSink } from '../../src/dev/order-system-sink';
import { signWebhook } from '../../src/platform/security/standard-webhooks';
import { PRODUCTION_POLICY } from '../../src/workflows/windows/policy';
import { uniqueId } from '../helpers/api-harness';
import { realActivitiesSuite } from '../helpers/real-activities-suite';
import { advanceBy, advanceTimers, eventually, HOUR_MS, TEST_LIFECYCLE } from '../helpers/workflow-env';

/** The task queue the API's subscription gateway starts workflows on, and the worker serves. */
const TASK_QUEUE = `failed-orders-${Date.now()}`;
let gateway: SubscriptionGateway;

const stack = realActivitiesSuite({
  ownServer: 'failed-orders',
  accessKey: 'failed-orders-merchant-key',
  // order.paid starts the subscription on this suite's server. The API dates acceptance by the
  // database's wall clock, while the server's clock runs ahead by every window it skipped; the
  // create window is measured from acceptance, so acceptance is dated on the server's clock.
  harness: (suite) => ({
    gateway: () => {
      const onServer = createSubscriptionGateway(suite.client, { taskQueue: TASK_QUEUE, policy: PRODUCTION_POLICY, lifecycle: TEST_LIFECYCLE });
      gateway = { ...onServer, deliverOrderPaid: async (event) => onServer.deliverOrderPaid({ ...event, acceptedAtMs: await suite.env.currentTimeMs() }) };
      return gateway;
    },
  }),
});
const { suite, listing } = stack;
let sink: OrderSystemSink;

beforeAll(async () => {
  sink = await startOrderSystemSink({ secret: stack.h.config.orderSystem.secret });
});

afterAll(async () => {
  await sink?.close();
});

/** Every activity, real: PostgreSQL, the merchant over HTTP, the order system's sink. */
function realActivities() {
  const { db, encryptor } = stack.h;
  return createActivities({
    db,
    encryptor,
    merchants: createMerchantDirectory(db, encryptor),
    merchantClient: createHttpMerchantClient({ timeoutMs: 5_000 }),
    kitClient: createHttpKitClient({ timeoutMs: 5_000 }),
    orderSystem: createHttpOrderSystemClient({ url: sink.url, secret: stack.h.config.orderSystem.secret, timeoutMs: 5_000 }),
    mailer: undefined,
  });
}

/** order.paid through the signed webhook; answers the order and its subscription once the workflow took it in. */
async function pay(merchantId: string, productId: string): Promise<{ orderId: string; workflowId: string }> {
  const event = sampleOrderPaid({ merchantId, productId, orderId: uniqueId('CS') });
  const body = JSON.stringify(event);
  const answer = await request(stack.h.app).post('/v1/marketplace/events').set(signWebhook(stack.h.config.webhook.secret, uniqueId('msg_'), body)).set('content-type', 'application/json').send(body).expect(202);
  const workflowId = String(answer.body.workflowId);
  suite.started.push(workflowId);
  // Time must not skip while the workflow's first task runs (see the subscription harness's pay).
  await eventually(gateway, workflowId, (s) => s.status !== 'awaiting-order');
  return { orderId: String(event.data.orderId), workflowId };
}

/** Moves the clock until the subscription's create window ran out and it ended (failed and refunded). */
async function windowRunsOut(workflowId: string): Promise<void> {
  await advanceTimers(suite.env, workflowId, () => false, 4 * HOUR_MS);
  expect((await gateway.status(workflowId)).status).toBe('failed');
}

async function lineStatus(orderId: string): Promise<string | undefined> {
  const { rows } = await stack.h.db.query<{ status: string }>(`select status from order_lines where order_id = $1`, [orderId]);
  return rows[0]?.status;
}

/** The merchant's in-site notices of a delisting for failed orders. */
async function delistingNotices(merchantId: string, productId: string) {
  const { rows } = await stack.h.db.query<{ subject: string; body: string }>(
    `select subject, body from notifications where recipient_type = 'merchant' and recipient_id = $1 and subject like $2 order by notification_id`,
    [merchantId, `Product ${productId} delisted%`],
  );
  return rows;
}

const refunded = (): string[] => sink.received().filter((c) => c.type === 'order.unsubscribe_requested' && c.data.refund === true).map((c) => String(c.data.orderId));

describe('failed orders over a month', () => {
  it('when the sixth order of the month runs out of its create window, then the product is delisted and the merchant told once with the six orders; the seventh changes nothing', async () => {
    const { merchantId, productId } = await stack.merchantWithProduct('Failing merchant');
    stack.sim.faults.add({ activity: 'newInstance', mode: 'fail', resultCode: '000005' });

    await stack.withWorker(
      realActivities(),
      async () => {
        const orders: string[] = [];
        for (let n = 1; n <= 5; n += 1) {
          const { orderId, workflowId } = await pay(merchantId, productId);
          orders.push(orderId);
          await windowRunsOut(workflowId);
          expect(await lineStatus(orderId)).toBe('failed');
        }
        expect(await listing(merchantId, productId)).toMatchObject({ merchant: 'active', product: 'on_sale', changes: [] });
        expect(await delistingNotices(merchantId, productId)).toEqual([]);

        // The seventh is paid while the product is still on sale (a delisted one refuses order.paid), an hour after the sixth.
        const sixth = await pay(merchantId, productId);
        orders.push(sixth.orderId);
        await advanceBy(suite.env, sixth.workflowId, HOUR_MS);
        const seventh = await pay(merchantId, productId);

        await windowRunsOut(sixth.workflowId);
        expect(await lineStatus(seventh.orderId)).toBe('provisioning');
        const delisted = await listing(merchantId, productId);
        expect(delisted).toMatchObject({ merchant: 'active', product: 'delisted' });
        expect(delisted.changes).toEqual([
          { target: 'product', from_state: 'on_sale', to_state: 'delisted', actor: 'interface-sanctions', reason: expect.stringMatching(/^6 orders failed in \d{4}-\d{2} \(Beijing time\)/) },
        ]);
        const notices = await delistingNotices(merchantId, productId);
        expect(notices).toHaveLength(1);
        expect(notices[0]?.subject).toContain('6 orders failed');
        for (const orderId of orders) expect(notices[0]?.body).toContain(orderId);
        expect(refunded().filter((id) => orders.includes(id)).sort()).toEqual([...orders].sort());

        // A delisted product takes no new order.
        const refused = JSON.stringify(sampleOrderPaid({ merchantId, productId, orderId: uniqueId('CS') }));
        await request(stack.h.app).post('/v1/marketplace/events').set(signWebhook(stack.h.config.webhook.secret, uniqueId('msg_'), refused)).set('content-type', 'application/json').send(refused).expect(422);

        await windowRunsOut(seventh.workflowId);
        expect(await lineStatus(seventh.orderId)).toBe('failed');
        expect(refunded()).toContain(seventh.orderId);
        expect((await listing(merchantId, productId)).changes).toEqual(delisted.changes);
        expect(await delistingNotices(merchantId, productId)).toEqual(notices);
      },
      TASK_QUEUE,
    );
    const sanctions = await stack.h.db.query(`select failed_count, jsonb_array_length(orders) as orders from failed_order_sanctions where product_id = $1`, [productId]);
    expect(sanctions.rows).toEqual([{ failed_count: 6, orders: 6 }]);
  });
});
