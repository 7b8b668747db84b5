/**
 * The merchant operations on an existing instance (refresh, status, release, upgrade, change
 * check), and the testFlag of every operation, against the real reference merchant over
 * loopback HTTP. Each test asserts the body the merchant received (and verified as signed),
 * what it did with it, and the outcome the workflow gets (spec §1.6, §2.3–§2.7, §3).
 */
import { randomUUID } from 'node:crypto';
import type { InstanceCall, MerchantOperationActivities } from '../../src/activities/subscription/merchant-operations';
import type { Db } from '../../src/db/pool';
import { startMerchantSim, type MerchantSim } from '../../src/merchant-sim';
import { activityEnv, measuredTiming as timing, merchantOperations, registerMerchant, testDb, uniqueId } from './fixtures';

const ACCESS_KEY = 'instance-operations-access-key-0123';
/** The reference merchant refuses changes to this SKU, with a reason (spec §2.7). */
const REFUSED_SKU = 'SKU-TOO-SMALL';

let db: Db;
let sim: MerchantSim;
let activities: MerchantOperationActivities;
let merchantId: string;

beforeAll(async () => {
  db = testDb();
  sim = await startMerchantSim({ accessKey: ACCESS_KEY, refuseChangesTo: [REFUSED_SKU] });
  merchantId = uniqueId('M-ops');
  await registerMerchant(db, { merchantId, productionUrl: sim.url, accessKey: ACCESS_KEY });
  activities = merchantOperations(db);
});

afterEach(() => {
  sim.faults.clear();
});

afterAll(async () => {
  await sim?.close();
  await db?.close();
});

/** An instance the merchant created for a fresh order line, and the call that names it. */
async function existingInstance(): Promise<InstanceCall & { orderId: string; orderLineId: string }> {
  const orderId = uniqueId('CS');
  const line = { workflowId: `subscription:${orderId}:${orderId}-000001`, merchantId, orderId, orderLineId: `${orderId}-000001` };
  const created = await activityEnv().run(activities.callNewInstance, { ...line, businessId: randomUUID() });
  expect(created).toMatchObject({ kind: 'success', resultCode: '000000' });
  return { ...line, instanceId: created.instanceId! };
}

/** The bodies of `operation` the merchant received about `instanceId`; each must have verified as signed. */
function received(operation: string, instanceId: string): unknown[] {
  const requests = sim.requests().filter((r) => r.activity === operation && r.body.includes(instanceId));
  for (const request of requests) expect(request).toMatchObject({ verify: 'ok', httpStatus: 200 });
  return requests.map((r) => JSON.parse(r.body) as unknown);
}

const succeeded = (activity: string, instanceId: string, resultMsg = 'success') => ({
  kind: 'success',
  activity,
  ...timing,
  httpStatus: 200,
  resultCode: '000000',
  resultMsg,
  instanceId,
});

describe('callRefreshInstance', () => {
  test('when a renewal is applied, then success; the merchant got the scene, the renewal order and expireTime as 14 digits in UTC, and no productId', async () => {
    const instance = await existingInstance();
    const renewal = uniqueId('CS-renew');
    const outcome = await activityEnv().run(activities.callRefreshInstance, {
      ...instance,
      scene: 'RENEWAL',
      orderId: renewal,
      orderLineId: `${renewal}-000001`,
      // 23:59:59.999 in UTC+8 is 15:59:59 UTC; milliseconds are not sent.
      expireTime: '2027-03-31T23:59:59.999+08:00',
    });

    expect(outcome).toEqual(succeeded('refreshInstance', instance.instanceId));
    expect(received('refreshInstance', instance.instanceId)).toEqual([
      {
        activity: 'refreshInstance',
        scene: 'RENEWAL',
        orderId: renewal,
        orderLineId: `${renewal}-000001`,
        instanceId: instance.instanceId,
        expireTime: '20270331155959',
      },
    ]);
    expect(sim.store.get(instance.instanceId)).toMatchObject({ expireTime: '20270331155959' });
  });

  test('when the period type changes at renewal, then the new productId is sent and the merchant switches to it', async () => {
    const instance = await existingInstance();
    const change = uniqueId('CS-change');
    const outcome = await activityEnv().run(activities.callRefreshInstance, {
      ...instance,
      scene: 'RENEWAL_CHANGE',
      orderId: change,
      orderLineId: `${change}-000001`,
      productId: 'P-yearly',
      expireTime: '2028-01-01T00:00:00.000Z',
    });

    expect(outcome).toEqual(succeeded('refreshInstance', instance.instanceId));
    expect(received('refreshInstance', instance.instanceId)).toEqual([
      expect.objectContaining({ scene: 'RENEWAL_CHANGE', productId: 'P-yearly', expireTime: '20280101000000' }),
    ]);
    expect(sim.store.get(instance.instanceId)).toMatchObject({ productId: 'P-yearly', expireTime: '20280101000000' });
  });

  test('when the merchant does not know the instance, then failure 000003 naming the instance', async () => {
    const unknown = randomUUID();
    const outcome = await activityEnv().run(activities.callRefreshInstance, {
      workflowId: 'subscription:CS-x:CS-x-000001',
      merchantId,
      instanceId: unknown,
      scene: 'RENEWAL',
      orderId: 'CS-x',
      orderLineId: 'CS-x-000001',
      expireTime: '2028-01-01T00:00:00.000Z',
    });

    expect(outcome).toEqual({
      kind: 'failure',
      activity: 'refreshInstance',
      ...timing,
      httpStatus: 200,
      resultCode: '000003',
      resultMsg: `instance ${unknown} does not exist`,
      error: 'instance ID does not exist',
      instanceId: unknown,
    });
  });
});

describe('callUpdateInstanceStatus', () => {
  test('when the instance is frozen and then unfrozen, then both succeed, the merchant got FREEZE then UNFREEZE, and the instance is active again', async () => {
    const instance = await existingInstance();
    const { run } = activityEnv();

    const frozen = await run(activities.callUpdateInstanceStatus, { ...instance, status: 'FREEZE' });
    expect(sim.store.get(instance.instanceId)?.status).toBe('frozen');
    const unfrozen = await run(activities.callUpdateInstanceStatus, { ...instance, status: 'UNFREEZE' });

    expect(frozen).toEqual(succeeded('updateInstanceStatus', instance.instanceId));
    expect(unfrozen).toEqual(succeeded('updateInstanceStatus', instance.instanceId));
    expect(received('updateInstanceStatus', instance.instanceId)).toEqual([
      { activity: 'updateInstanceStatus', instanceId: instance.instanceId, status: 'FREEZE' },
      { activity: 'updateInstanceStatus', instanceId: instance.instanceId, status: 'UNFREEZE' },
    ]);
    expect(sim.store.get(instance.instanceId)?.status).toBe('active');
  });

  test('when the merchant answers 000004, then failure: "in progress" counts only for create and query', async () => {
    const instance = await existingInstance();
    sim.faults.add({ activity: 'updateInstanceStatus', mode: 'fail', resultCode: '000004', times: 1 });

    const outcome = await activityEnv().run(activities.callUpdateInstanceStatus, { ...instance, status: 'FREEZE' });

    expect(outcome).toEqual({
      kind: 'failure',
      activity: 'updateInstanceStatus',
      ...timing,
      httpStatus: 200,
      resultCode: '000004',
      resultMsg: 'injected failure',
      error: 'request being processed asynchronously',
      instanceId: instance.instanceId,
    });
  });
});

describe('callReleaseInstance', () => {
  test('when retention ends, then success; the merchant got no order and released the instance', async () => {
    const instance = await existingInstance();
    const outcome = await activityEnv().run(activities.callReleaseInstance, { workflowId: instance.workflowId, merchantId, instanceId: instance.instanceId });

    expect(outcome).toEqual(succeeded('releaseInstance', instance.instanceId));
    expect(received('releaseInstance', instance.instanceId)).toEqual([{ activity: 'releaseInstance', instanceId: instance.instanceId }]);
    expect(sim.store.get(instance.instanceId)?.status).toBe('released');
  });

  test('when an unsubscription causes the release, then the merchant got the unsubscribe order with it', async () => {
    const instance = await existingInstance();
    const unsubscribe = uniqueId('CS-unsub');
    const outcome = await activityEnv().run(activities.callReleaseInstance, {
      workflowId: instance.workflowId,
      merchantId,
      instanceId: instance.instanceId,
      orderId: unsubscribe,
      orderLineId: `${unsubscribe}-000001`,
    });

    expect(outcome).toEqual(succeeded('releaseInstance', instance.instanceId));
    expect(received('releaseInstance', instance.instanceId)).toEqual([
      { activity: 'releaseInstance', instanceId: instance.instanceId, orderId: unsubscribe, orderLineId: `${unsubscribe}-000001` },
    ]);
    expect(sim.store.get(instance.instanceId)?.status).toBe('released');
  });
});

describe('callUpgradeInstance', () => {
  test('when an upgrade order is paid, then success; the merchant got the new order for the same instance and recorded it', async () => {
    const instance = await existingInstance();
    const upgrade = uniqueId('CS-upgrade');
    const outcome = await activityEnv().run(activities.callUpgradeInstance, { ...instance, orderId: upgrade, orderLineId: `${upgrade}-000001` });

    expect(outcome).toEqual(succeeded('upgradeInstance', instance.instanceId));
    expect(received('upgradeInstance', instance.instanceId)).toEqual([
      { activity: 'upgradeInstance', instanceId: instance.instanceId, orderId: upgrade, orderLineId: `${upgrade}-000001` },
    ]);
    expect(sim.store.get(instance.instanceId)?.skuHistory).toContainEqual(
      expect.objectContaining({ kind: 'upgrade', orderId: upgrade, orderLineId: `${upgrade}-000001` }),
    );
  });
});

describe('callChangeInstanceCheck', () => {
  const productInfo = { productId: 'P-yearly', skuCode: 'SKU-LARGE', productName: 'Demo SaaS, yearly', linearValue: 50 };

  test('when the merchant allows the change, then success with its message; it got the target productInfo', async () => {
    const instance = await existingInstance();
    const outcome = await activityEnv().run(activities.callChangeInstanceCheck, { ...instance, productInfo });

    expect(outcome).toEqual(succeeded('changeInstanceCheck', instance.instanceId, 'change allowed'));
    expect(received('changeInstanceCheck', instance.instanceId)).toEqual([{ activity: 'changeInstanceCheck', instanceId: instance.instanceId, productInfo }]);
  });

  test('when the merchant refuses with a code other than 000000, then failure carrying the merchant resultMsg as the reason', async () => {
    const instance = await existingInstance();
    const outcome = await activityEnv().run(activities.callChangeInstanceCheck, { ...instance, productInfo: { ...productInfo, skuCode: REFUSED_SKU } });

    expect(outcome).toEqual({
      kind: 'failure',
      activity: 'changeInstanceCheck',
      ...timing,
      httpStatus: 200,
      resultCode: '000002',
      resultMsg: `change to sku ${REFUSED_SKU} refused: current usage of ${instance.instanceId} exceeds the target specification`,
      error: 'illegal request parameter',
      instanceId: instance.instanceId,
    });
  });
});

describe('testFlag (spec §1.6)', () => {
  type Instance = Awaited<ReturnType<typeof existingInstance>>;
  /** Each operation, run with the order's testFlag; answers what marks its request (the businessId of a create, else the instanceId). */
  const operations: Record<string, (instance: Instance, testFlag?: string) => Promise<string>> = {
    async newInstance(i, testFlag) {
      const businessId = randomUUID();
      await activityEnv().run(activities.callNewInstance, { ...i, businessId, testFlag });
      return businessId;
    },
    async queryInstance(i, testFlag) {
      await activityEnv().run(activities.callQueryInstance, { ...i, productId: 'P-ops', testFlag });
      return i.instanceId;
    },
    async refreshInstance(i, testFlag) {
      await activityEnv().run(activities.callRefreshInstance, { ...i, scene: 'RENEWAL', expireTime: '2028-01-01T00:00:00Z', testFlag });
      return i.instanceId;
    },
    async updateInstanceStatus(i, testFlag) {
      await activityEnv().run(activities.callUpdateInstanceStatus, { ...i, status: 'FREEZE', testFlag });
      return i.instanceId;
    },
    async releaseInstance(i, testFlag) {
      await activityEnv().run(activities.callReleaseInstance, { ...i, testFlag });
      return i.instanceId;
    },
    async upgradeInstance(i, testFlag) {
      await activityEnv().run(activities.callUpgradeInstance, { ...i, testFlag });
      return i.instanceId;
    },
    async changeInstanceCheck(i, testFlag) {
      await activityEnv().run(activities.callChangeInstanceCheck, { ...i, productInfo: { productId: 'P', skuCode: 'S', productName: 'N' }, testFlag });
      return i.instanceId;
    },
  };
  const cases = Object.keys(operations).flatMap((operation) => [
    { operation, testFlag: '1', sent: '1' },
    { operation, testFlag: '0', sent: undefined },
    { operation, testFlag: undefined, sent: undefined },
  ]);

  test.each(cases)('$operation with testFlag $testFlag sends testFlag $sent', async ({ operation, testFlag, sent }) => {
    const marker = await operations[operation]!(await existingInstance(), testFlag);

    const bodies = received(operation, marker);
    expect(bodies).toEqual([expect.objectContaining({ activity: operation })]);
    if (sent === undefined) expect(bodies[0]).not.toHaveProperty('testFlag');
    else expect(bodies[0]).toHaveProperty('testFlag', sent);
  });
});
