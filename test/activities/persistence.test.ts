/**
 * Business-state writes on real PostgreSQL. Temporal may run each of them more than once,
 * so a repeat must not add a row or undo what the first write (or another activity) stored.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { createSubscriptionRecordActivities } from '../../src/activities/subscription/records';
import type { Db } from '../../src/db/pool';
import { findInstance, saveInstanceAppInfo } from '../../src/db/repositories/subscription/instances';
import { upsertProduct } from '../../src/db/repositories/catalog/merchants';
import { findOrder, insertPaidOrderLine } from '../../src/db/repositories/subscription/orders';
import { listSubscriptionOrders } from '../../src/db/repositories/subscription/subscription-orders';
import { workflowIdByInstance, workflowIdsByOrderLine } from '../../src/db/repositories/subscription/subscriptions';
import { ErrorType } from '../../src/shared/errors';
import { subscriptionKey, subscriptionWorkflowId } from '../../src/shared/ids';
import type { CallAttemptRecord } from '../../src/db/repositories/subscription/call-attempts';
import type { PaidOrder } from '../../src/workflows/subscription/messages';
import { activityEnv, encryptor, registerMerchant, rejection, testDb, uniqueId } from './fixtures';

let db: Db;
let merchantId: string;
let activities: ReturnType<typeof createSubscriptionRecordActivities>;

beforeAll(async () => {
  db = testDb();
  merchantId = uniqueId('M-persist');
  await registerMerchant(db, { merchantId, productionUrl: 'http://127.0.0.1:1/saasproduce', accessKey: 'k' });
  activities = createSubscriptionRecordActivities({ db });
});

afterAll(async () => {
  await db?.close();
});

function attempt(orderId: string): CallAttemptRecord {
  return {
    attemptId: randomUUID(),
    workflowId: `subscription:${orderId}:${orderId}-000001`,
    orderId,
    orderLineId: `${orderId}-000001`,
    merchantId,
    scenario: 'create',
    attempt: 3,
    businessId: randomUUID(),
    outcome: {
      kind: 'failure',
      activity: 'newInstance',
      startedAtMs: Date.parse('2026-03-01T10:00:00.123Z'),
      latencyMs: 41.6,
      resultCode: '000100',
      resultMsg: 'injected failure',
      httpStatus: 200,
      error: 'no instance resource can be allocated',
    },
  };
}

describe('recordCallAttempt', () => {
  test('when the same attempt is recorded twice, then there is one row, holding the first write', async () => {
    const a = attempt(uniqueId('CS'));
    const { run } = activityEnv();
    await run(activities.recordCallAttempt, a);
    // A retried write with the same attemptId, even if its content differed, changes nothing.
    await run(activities.recordCallAttempt, { ...a, outcome: { ...a.outcome, kind: 'success', error: 'second write' } });

    const { rows } = await db.query(
      `select attempt_id::text as "attemptId", workflow_id as "workflowId", order_line_id as "orderLineId", merchant_id as "merchantId",
              scenario, activity, attempt, business_id as "businessId", outcome, result_code as "resultCode", result_msg as "resultMsg",
              http_status as "httpStatus", latency_ms as "latencyMs", error,
              to_char(started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "startedAt"
         from call_attempts where order_id = $1::text`,
      [a.orderId],
    );
    expect(rows).toEqual([
      {
        attemptId: a.attemptId,
        workflowId: a.workflowId,
        orderLineId: a.orderLineId,
        merchantId,
        scenario: 'create',
        activity: 'newInstance',
        attempt: 3,
        businessId: a.businessId,
        outcome: 'failure',
        resultCode: '000100',
        resultMsg: 'injected failure',
        httpStatus: 200,
        latencyMs: 42,
        error: 'no instance resource can be allocated',
        startedAt: '2026-03-01T10:00:00.123Z',
      },
    ]);
  });

  test('when two different attempts are recorded, then both rows exist', async () => {
    const orderId = uniqueId('CS');
    const { run } = activityEnv();
    await run(activities.recordCallAttempt, attempt(orderId));
    await run(activities.recordCallAttempt, attempt(orderId));

    const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from call_attempts where order_id = $1::text`, [orderId]);
    expect(rows[0]?.n).toBe(2);
  });
});

describe('saveInstance', () => {
  test('when an instance whose app info was stored by a poll becomes active, then the status moves and the app info is kept', async () => {
    const orderId = uniqueId('CS');
    const instanceId = randomUUID();
    const line = { instanceId, workflowId: `subscription:${orderId}:${orderId}-000001`, merchantId, orderId, orderLineId: `${orderId}-000001`, productId: 'P-persist' };
    const appInfoEnc = encryptor.encrypt(JSON.stringify({ frontEndUrl: 'https://app.example.com/x' }));
    await saveInstanceAppInfo(db, { ...line, appInfoEnc });

    const { run } = activityEnv();
    await run(activities.saveInstance, { ...line, status: 'active', expireTime: '2027-03-01T00:00:00.000Z' });
    await run(activities.saveInstance, { ...line, status: 'active' });

    expect(await findInstance(db, instanceId)).toEqual({
      ...line,
      status: 'active',
      expireTime: '2027-03-01T00:00:00.000Z',
      appInfoEnc,
      skuCode: null,
      usageInfo: null,
      queriedAt: expect.any(String),
    });
  });
});

describe('instance ids chosen by merchants that collide', () => {
  /** Subscription A's instance row, active, with app info; B's order then gets the same instance id. */
  async function ownedInstance() {
    const [orderA, orderB] = [uniqueId('CS'), uniqueId('CS')];
    const instanceId = uniqueId('inst');
    const owner = { instanceId, workflowId: `subscription:${orderA}:${orderA}-000001`, merchantId, orderId: orderA, orderLineId: `${orderA}-000001`, productId: 'P-owner' };
    const appInfoEnc = encryptor.encrypt(JSON.stringify({ frontEndUrl: 'https://app.example.com/a', password: 'owner-admin-password' }));
    await saveInstanceAppInfo(db, { ...owner, appInfoEnc });
    const { run } = activityEnv();
    await run(activities.saveInstance, { ...owner, status: 'active', skuCode: 'sku-a', expireTime: '2027-03-01T00:00:00.000Z' });
    const stored = await findInstance(db, instanceId);
    const intruder = { instanceId, workflowId: `subscription:${orderB}:${orderB}-000001`, merchantId, orderId: orderB, orderLineId: `${orderB}-000001`, productId: 'P-intruder' };
    return { owner, intruder, stored };
  }

  test('when another subscription saves an instance id that one subscription owns, then the row is unchanged and the activity fails with a non-retryable InstanceIdTaken', async () => {
    const { intruder, stored } = await ownedInstance();
    const { run, logs } = activityEnv();

    const error = await rejection(run(activities.saveInstance, { ...intruder, status: 'frozen', skuCode: 'sku-b' }));

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: ErrorType.InstanceIdTaken, nonRetryable: true });
    expect(await findInstance(db, intruder.instanceId)).toEqual(stored);
    expect(logs).toContainEqual({
      level: 'WARN',
      message: 'instance id belongs to another subscription; nothing saved',
      meta: expect.objectContaining({ instanceId: intruder.instanceId, workflowId: intruder.workflowId, merchantId }),
    });
  });

  test('when another subscription stores app info under an instance id that one subscription owns, then nothing is saved and false says so', async () => {
    const { owner, intruder, stored } = await ownedInstance();
    const appInfoEnc = encryptor.encrypt(JSON.stringify({ frontEndUrl: 'https://app.example.com/b', password: 'intruder-password' }));

    expect(await saveInstanceAppInfo(db, { ...intruder, appInfoEnc, usageInfo: { sms: 1 } })).toBe(false);
    expect(await findInstance(db, intruder.instanceId)).toEqual(stored);
    // The owner itself still writes.
    expect(await saveInstanceAppInfo(db, { ...owner, usageInfo: { sms: 2 } })).toBe(true);
    expect(await findInstance(db, owner.instanceId)).toMatchObject({ workflowId: owner.workflowId, appInfoEnc: stored!.appInfoEnc, usageInfo: { sms: 2 } });
  });
});

describe('saveSubscriptionOrder', () => {
  test('when two subscriptions of one order save an unsubscribe with the same orderId and orderLineId, then both rows are kept', async () => {
    const orderId = uniqueId('CS');
    const unsubscribe = { orderId: uniqueId('U'), orderLineId: 'U-1', kind: 'unsubscribe' as const, status: 'completed' as const };
    const [first, second] = [`subscription:${orderId}:P-sms`, `subscription:${orderId}:P-mms`];
    const { run } = activityEnv();

    await run(activities.saveSubscriptionOrder, { ...unsubscribe, workflowId: first });
    await run(activities.saveSubscriptionOrder, { ...unsubscribe, workflowId: second });

    const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from subscription_orders where order_id = $1::text`, [unsubscribe.orderId]);
    expect(rows[0]?.n).toBe(2);
    for (const workflowId of [first, second]) {
      expect(await listSubscriptionOrders(db, workflowId)).toEqual([
        { orderId: unsubscribe.orderId, orderLineId: 'U-1', kind: 'unsubscribe', scene: null, status: 'completed', updatedAt: expect.any(String) },
      ]);
    }
  });
});

describe('pay-per-use billing items that share an order line', () => {
  async function payPerUseItems(): Promise<PaidOrder[]> {
    const orderId = uniqueId('CS');
    const items: PaidOrder[] = [];
    for (const item of ['sms', 'mms']) {
      const productId = uniqueId(`P-${item}`);
      await upsertProduct(db, { productId, merchantId, name: item, chargingMode: 'ON_DEMAND', retentionDays: 15 });
      items.push({
        orderId,
        orderLineId: `${orderId}-000001`,
        orderType: 'NEW',
        merchantId,
        productId,
        skuCode: `sku-${item}`,
        chargingMode: 'ON_DEMAND',
        trialFlag: false,
        customer: { customerId: 'customer-1' },
        amount: '0.00',
        currency: 'CNY',
        retentionDays: 15,
      });
    }
    for (const item of items) await insertPaidOrderLine(db, item, subscriptionWorkflowId(subscriptionKey(item)), new Date());
    return items;
  }

  test('when both items are paid on one line, then each has its own row, status and workflow', async () => {
    const [sms, mms] = await payPerUseItems();
    const { run } = activityEnv();
    await run(activities.updateOrderLine, { orderId: sms!.orderId, orderLineId: sms!.orderLineId, productId: sms!.productId, status: 'active', instanceId: 'inst-sms' });

    const order = await findOrder(db, sms!.orderId);
    const byProduct = Object.fromEntries((order?.lines ?? []).map((l) => [l.productId, l]));
    expect(Object.keys(byProduct)).toHaveLength(2);
    expect(byProduct[sms!.productId]).toMatchObject({ status: 'active', instanceId: 'inst-sms' });
    expect(byProduct[mms!.productId]).toMatchObject({ status: 'provisioning', instanceId: null });
    expect(byProduct[sms!.productId]!.workflowId).not.toBe(byProduct[mms!.productId]!.workflowId);
  });

  test('when an event names the shared line, then the product picks the subscription and the instance leads to its own', async () => {
    const [sms, mms] = await payPerUseItems();
    const line = { orderId: sms!.orderId, orderLineId: sms!.orderLineId };
    const smsWorkflow = subscriptionWorkflowId(subscriptionKey(sms!));
    const mmsWorkflow = subscriptionWorkflowId(subscriptionKey(mms!));

    expect(await workflowIdsByOrderLine(db, line)).toEqual(expect.arrayContaining([smsWorkflow, mmsWorkflow]));
    expect(await workflowIdsByOrderLine(db, { ...line, productId: mms!.productId })).toEqual([mmsWorkflow]);

    const { run } = activityEnv();
    await run(activities.saveInstance, { instanceId: `inst-${mms!.productId}`, workflowId: mmsWorkflow, merchantId, ...line, productId: mms!.productId, status: 'active' });
    expect(await workflowIdByInstance(db, `inst-${mms!.productId}`)).toBe(mmsWorkflow);
  });
});

describe('activateInstance', () => {
  /** A paid periodic order line, still provisioning. */
  async function paidLine(): Promise<PaidOrder> {
    const orderId = uniqueId('CS');
    const productId = uniqueId('P-period');
    await upsertProduct(db, { productId, merchantId, name: 'monthly', chargingMode: 'PERIOD', retentionDays: 15 });
    const order: PaidOrder = {
      orderId,
      orderLineId: `${orderId}-000001`,
      orderType: 'NEW',
      merchantId,
      productId,
      skuCode: 'sku-basic',
      chargingMode: 'PERIOD',
      trialFlag: false,
      customer: { customerId: 'customer-1' },
      amount: '99.00',
      currency: 'CNY',
      retentionDays: 15,
    };
    await insertPaidOrderLine(db, order, subscriptionWorkflowId(subscriptionKey(order)), new Date());
    return order;
  }

  const activation = (order: PaidOrder, instanceId: string, workflowId = subscriptionWorkflowId(subscriptionKey(order))) => ({
    instance: { instanceId, workflowId, merchantId, orderId: order.orderId, orderLineId: order.orderLineId, productId: order.productId, status: 'active' as const },
    orderLine: { orderId: order.orderId, orderLineId: order.orderLineId, productId: order.productId, status: 'active' as const, instanceId },
  });

  test('when an instance comes up, then its row and its order line are both active, and a repeat changes nothing', async () => {
    const order = await paidLine();
    const instanceId = uniqueId('inst');
    const { run } = activityEnv();

    await run(activities.activateInstance, activation(order, instanceId));
    await run(activities.activateInstance, activation(order, instanceId));

    expect(await findInstance(db, instanceId)).toMatchObject({ status: 'active', orderId: order.orderId });
    expect((await findOrder(db, order.orderId))?.lines).toEqual([expect.objectContaining({ status: 'active', instanceId })]);
  });

  test('when the instance id is another subscription\'s, then InstanceIdTaken and neither row is written', async () => {
    const owner = await paidLine();
    const intruder = await paidLine();
    const instanceId = uniqueId('inst');
    const { run } = activityEnv();
    await run(activities.activateInstance, activation(owner, instanceId));

    const error = await rejection(run(activities.activateInstance, activation(intruder, instanceId)));

    expect(error).toMatchObject({ type: ErrorType.InstanceIdTaken, nonRetryable: true });
    expect(await findInstance(db, instanceId)).toMatchObject({ orderId: owner.orderId });
    expect((await findOrder(db, intruder.orderId))?.lines).toEqual([expect.objectContaining({ status: 'provisioning', instanceId: null })]);
  });
});
