/**
 * Merchant activities against the real reference merchant over loopback HTTP (no HTTP
 * mocking): each call is really signed (spec §1.2), and every fault the merchant can inject
 * is classified into the outcome the workflow branches on (spec §2.1, §2.2, §3).
 * Merchants are registered straight into PostgreSQL with their access key encrypted.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Db } from '../../src/db/pool';
import { findInstance, upsertInstance } from '../../src/db/repositories/subscription/instances';
import { findMerchant } from '../../src/db/repositories/catalog/merchants';
import { startMerchantSim, type MerchantSim } from '../../src/merchant-sim';
import { ErrorType } from '../../src/shared/errors';
import type { MerchantOperationActivities, NewInstanceCall, QueryInstanceCall } from '../../src/activities/subscription/merchant-operations';
import { until } from '../helpers/until';
import { activityEnv, closedPortUrl, encryptor, measuredTiming as timing, merchantOperations, registerMerchant, rejection, testDb, uniqueId } from './fixtures';

const ACCESS_KEY = 'activity-test-access-key-0123456789';
/** The truncated body the sim's 'malformed' fault answers. */
const MALFORMED_BODY = '{"resultCode":"000000","instanceId":';

let db: Db;
let sim: MerchantSim;
let asyncSim: MerchantSim;
let activities: MerchantOperationActivities;
const merchant = { sync: '', async: '', wrongKey: '', unreachable: '' };

beforeAll(async () => {
  db = testDb();
  sim = await startMerchantSim({ accessKey: ACCESS_KEY });
  // Ready after one queryInstance answered 000004.
  asyncSim = await startMerchantSim({ accessKey: ACCESS_KEY, asyncProvisioning: { readyAfterQueries: 1 } });
  merchant.sync = uniqueId('M-sync');
  merchant.async = uniqueId('M-async');
  merchant.wrongKey = uniqueId('M-wrongkey');
  merchant.unreachable = uniqueId('M-down');
  await registerMerchant(db, { merchantId: merchant.sync, productionUrl: sim.url, accessKey: ACCESS_KEY });
  await registerMerchant(db, { merchantId: merchant.async, productionUrl: asyncSim.url, accessKey: ACCESS_KEY });
  await registerMerchant(db, { merchantId: merchant.wrongKey, productionUrl: sim.url, accessKey: 'not-the-key-bound-to-this-url' });
  await registerMerchant(db, { merchantId: merchant.unreachable, productionUrl: await closedPortUrl('/saasproduce'), accessKey: ACCESS_KEY });
  activities = merchantOperations(db);
});

afterEach(() => {
  sim.faults.clear();
  asyncSim.faults.clear();
});

afterAll(async () => {
  await sim?.close();
  await asyncSim?.close();
  await db?.close();
});

/** A newInstance call for a fresh order line, with a fresh businessId as the spec requires. */
function newInstanceCall(merchantId: string, line?: { orderId: string; orderLineId: string }): NewInstanceCall {
  const orderId = line?.orderId ?? uniqueId('CS');
  return {
    workflowId: `subscription:${orderId}:${orderId}-000001`,
    merchantId,
    orderId,
    orderLineId: line?.orderLineId ?? `${orderId}-000001`,
    businessId: randomUUID(),
  };
}

function queryCall(created: NewInstanceCall, instanceId: string): QueryInstanceCall {
  return {
    workflowId: created.workflowId,
    merchantId: created.merchantId,
    orderId: created.orderId,
    orderLineId: created.orderLineId,
    productId: 'P-activity-test',
    instanceId,
  };
}

const findMerchantUrl = async (merchantId: string): Promise<string | undefined> => (await findMerchant(db, merchantId))?.productionUrl;

/** The requests a sim received whose body carries `marker` (a businessId or instanceId). */
const requestsWith = (target: MerchantSim, marker: string) => target.requests().filter((r) => r.body.includes(marker));

function expectTimingSane(outcome: { startedAtMs: number; latencyMs: number }, before: number, after: number): void {
  expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
  expect(outcome.startedAtMs).toBeGreaterThanOrEqual(before);
  expect(outcome.startedAtMs + outcome.latencyMs).toBeLessThanOrEqual(after);
}

describe('a call given its attempt records it on the timeline', () => {
  const attemptFor = (call: NewInstanceCall) => ({
    attemptId: randomUUID(),
    workflowId: call.workflowId,
    orderId: call.orderId,
    orderLineId: call.orderLineId,
    merchantId: call.merchantId,
    scenario: 'create',
    attempt: 1,
    businessId: call.businessId,
  });
  const timeline = async (orderId: string) =>
    (await db.query('select activity, attempt, outcome, result_code, business_id from call_attempts where order_id = $1', [orderId])).rows;

  test('when newInstance carries its attempt, then the row is written by the call itself and the outcome says so', async () => {
    const call = newInstanceCall(merchant.sync);
    const attempt = attemptFor(call);

    const outcome = await activityEnv().run(activities.callNewInstance, { ...call, attempt });

    expect(outcome).toMatchObject({ kind: 'success', attemptRecorded: true });
    expect(await timeline(call.orderId)).toEqual([{ activity: 'newInstance', attempt: 1, outcome: 'success', result_code: '000000', business_id: call.businessId }]);
  });

  test('when a call carries no attempt (a run recorded before), then it writes nothing and the workflow records it', async () => {
    const call = newInstanceCall(merchant.sync);

    const outcome = await activityEnv().run(activities.callNewInstance, call);

    expect(outcome).not.toHaveProperty('attemptRecorded');
    expect(await timeline(call.orderId)).toEqual([]);
  });

  test('when the timeline write fails, then the merchant\'s answer still comes back, marked unrecorded', async () => {
    const call = newInstanceCall(merchant.sync);
    // An attempt id that is not a uuid makes the insert fail after the merchant answered.
    const attempt = { ...attemptFor(call), attemptId: 'not-a-uuid' };
    const { run, logs } = activityEnv();

    const outcome = await run(activities.callNewInstance, { ...call, attempt });

    expect(outcome).toMatchObject({ kind: 'success', instanceId: call.businessId });
    expect(outcome).not.toHaveProperty('attemptRecorded');
    expect(logs).toContainEqual(expect.objectContaining({ level: 'WARN', message: 'could not record the attempt; the workflow will' }));
  });
});

describe('callNewInstance', () => {
  test('when the merchant provisions synchronously, then success with its instanceId, from one request it verified as signed', async () => {
    const call = newInstanceCall(merchant.sync);
    const before = Date.now();
    const outcome = await activityEnv().run(activities.callNewInstance, call);
    const after = Date.now();

    expect(outcome).toEqual({
      kind: 'success',
      activity: 'newInstance',
      ...timing,
      httpStatus: 200,
      resultCode: '000000',
      resultMsg: 'success',
      instanceId: call.businessId,
    });
    expectTimingSane(outcome, before, after);
    const received = requestsWith(sim, call.businessId);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ verify: 'ok', activity: 'newInstance', httpStatus: 200, resultCode: '000000' });
    expect(received[0]).not.toHaveProperty('fault');
    expect(JSON.parse(received[0]!.body)).toEqual({
      activity: 'newInstance',
      orderId: call.orderId,
      orderLineId: call.orderLineId,
      businessId: call.businessId,
    });
    expect(sim.store.findByOrder(call.orderId, call.orderLineId)?.instanceId).toBe(call.businessId);
  });

  test('when the same order line is created again with a new businessId, then the instanceId is the one the merchant already assigned', async () => {
    const first = newInstanceCall(merchant.sync);
    const retry = { ...first, businessId: randomUUID() };
    const { run } = activityEnv();
    await run(activities.callNewInstance, first);
    const outcome = await run(activities.callNewInstance, retry);

    expect(outcome).toMatchObject({ kind: 'success', resultCode: '000000', instanceId: first.businessId });
    expect(outcome.instanceId).not.toBe(retry.businessId);
    expect(requestsWith(sim, retry.businessId)).toHaveLength(1);
  });

  test('when the merchant fails with 000100 before doing anything, then failure with the documented meaning, and no instance exists', async () => {
    sim.faults.add({ activity: 'newInstance', mode: 'fail', resultCode: '000100', times: 1 });
    const call = newInstanceCall(merchant.sync);
    const outcome = await activityEnv().run(activities.callNewInstance, call);

    expect(outcome).toEqual({
      kind: 'failure',
      activity: 'newInstance',
      ...timing,
      httpStatus: 200,
      resultCode: '000100',
      resultMsg: 'injected failure',
      error: 'no instance resource can be allocated',
    });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
    expect(requestsWith(sim, call.businessId)).toEqual([expect.objectContaining({ verify: 'ok', fault: 'fail', resultCode: '000100' })]);
    expect(sim.store.findByOrder(call.orderId, call.orderLineId)).toBeUndefined();
  });

  test('when the merchant does the work but answers 000100, then failure with 000100 and no instanceId leaks out of the failure', async () => {
    sim.faults.add({ activity: 'newInstance', mode: 'code', resultCode: '000100', times: 1 });
    const call = newInstanceCall(merchant.sync);
    const outcome = await activityEnv().run(activities.callNewInstance, call);

    expect(outcome).toEqual({
      kind: 'failure',
      activity: 'newInstance',
      ...timing,
      httpStatus: 200,
      resultCode: '000100',
      resultMsg: 'injected result code',
      error: 'no instance resource can be allocated',
    });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
    // The merchant did create it: the workflow's next create for this line must get it back.
    expect(sim.store.findByOrder(call.orderId, call.orderLineId)?.instanceId).toBe(call.businessId);
  });

  test('when the merchant answers a code the spec does not define, then failure naming it undocumented', async () => {
    sim.faults.add({ activity: 'newInstance', mode: 'code', resultCode: '123456', times: 1 });
    const outcome = await activityEnv().run(activities.callNewInstance, newInstanceCall(merchant.sync));

    expect(outcome).toEqual({
      kind: 'failure',
      activity: 'newInstance',
      ...timing,
      httpStatus: 200,
      resultCode: '123456',
      resultMsg: 'injected result code',
      error: 'undocumented result code 123456',
    });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
  });

  test('when the answer is cut short and is not JSON, then failure saying so with its size, and no result code', async () => {
    sim.faults.add({ activity: 'newInstance', mode: 'malformed', times: 1 });
    const outcome = await activityEnv().run(activities.callNewInstance, newInstanceCall(merchant.sync));

    expect(outcome).toEqual({
      kind: 'failure',
      activity: 'newInstance',
      ...timing,
      httpStatus: 200,
      error: `response is not JSON (${MALFORMED_BODY.length} bytes)`,
    });
    expect(outcome.error?.startsWith('response is not JSON')).toBe(true);
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
  });

  test('when the merchant answers HTTP 503 with a text body, then failure "HTTP 503" carrying the status', async () => {
    sim.faults.add({ activity: 'newInstance', mode: 'http-error', httpStatus: 503, times: 1 });
    const call = newInstanceCall(merchant.sync);
    const outcome = await activityEnv().run(activities.callNewInstance, call);

    expect(outcome).toEqual({ kind: 'failure', activity: 'newInstance', ...timing, httpStatus: 503, error: 'HTTP 503' });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
    expect(requestsWith(sim, call.businessId)).toEqual([expect.objectContaining({ verify: 'ok', fault: 'http-error', httpStatus: 503 })]);
  });

  test('when the merchant answers later than the client timeout, then failure "no answer within 300 ms" well before the answer', async () => {
    const shortTimeout = merchantOperations(db, 300);
    sim.faults.add({ activity: 'newInstance', mode: 'slow', delayMs: 1500, times: 1 });
    const outcome = await activityEnv().run(shortTimeout.callNewInstance, newInstanceCall(merchant.sync));

    expect(outcome).toEqual({ kind: 'failure', activity: 'newInstance', ...timing, error: 'no answer within 300 ms' });
    // Timer granularity can shave a millisecond off the measured wait.
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(290);
    expect(outcome.latencyMs).toBeLessThan(1500);
  });

  test('when the activity is cancelled while the merchant holds the request, then the request is aborted at once and the activity ends cancelled', async () => {
    sim.faults.add({ activity: 'newInstance', mode: 'slow', delayMs: 5000, times: 1 });
    const { run, env } = activityEnv();
    const settled = run(activities.callNewInstance, newInstanceCall(merchant.sync)).catch((error: unknown) => error);
    // The merchant holds the request once it has taken the slow rule.
    await until(async () => sim.faults.list(), (rules) => rules.length === 0);

    const cancelledAt = Date.now();
    env.cancel();
    const error = await settled;

    expect(Date.now() - cancelledAt).toBeLessThan(1000);
    expect(error).toBeInstanceOf(CancelledFailure);
  });

  test('when the merchant provisions asynchronously, then processing (000004) with its instanceId', async () => {
    const call = newInstanceCall(merchant.async);
    const outcome = await activityEnv().run(activities.callNewInstance, call);

    expect(outcome).toEqual({
      kind: 'processing',
      activity: 'newInstance',
      ...timing,
      httpStatus: 200,
      resultCode: '000004',
      resultMsg: 'provisioning in progress',
      instanceId: call.businessId,
    });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
  });

  test('when the merchant is registered with an access key the URL is not bound to, then failure 000001 and the merchant saw a bad signature', async () => {
    const call = newInstanceCall(merchant.wrongKey);
    const outcome = await activityEnv().run(activities.callNewInstance, call);

    expect(outcome).toEqual({
      kind: 'failure',
      activity: 'newInstance',
      ...timing,
      httpStatus: 200,
      resultCode: '000001',
      resultMsg: 'signature check failed',
      error: 'authentication or signature check failed',
    });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
    expect(requestsWith(sim, call.businessId)).toEqual([expect.objectContaining({ verify: 'bad-signature', resultCode: '000001' })]);
    expect(sim.store.findByOrder(call.orderId, call.orderLineId)).toBeUndefined();
  });

  test('when the merchant is not registered, then failure naming it, with no request sent', async () => {
    const missing = uniqueId('M-missing');
    const call = newInstanceCall(missing);
    const outcome = await activityEnv().run(activities.callNewInstance, call);

    expect(outcome).toEqual({ kind: 'failure', activity: 'newInstance', ...timing, latencyMs: 0, error: `merchant ${missing} is not registered` });
    expect(requestsWith(sim, call.businessId)).toHaveLength(0);
    expect(requestsWith(asyncSim, call.businessId)).toHaveLength(0);
  });

  test('when nothing listens on the production URL, then failure with a network error and no HTTP status or result code', async () => {
    const url = (await findMerchantUrl(merchant.unreachable))!;
    // The port really refuses connections (not a timeout, not a blocked port).
    const raw: unknown = await fetch(url, { method: 'POST' }).catch((error: unknown) => error);
    expect((raw as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');

    const outcome = await activityEnv().run(activities.callNewInstance, newInstanceCall(merchant.unreachable));

    expect(outcome).toEqual({ kind: 'failure', activity: 'newInstance', ...timing, error: 'fetch failed: ECONNREFUSED' });
    expect(outcome).not.toHaveProperty('resultCode');
    expect(outcome.httpStatus).toBeUndefined();
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
  });
});

describe('callQueryInstance', () => {
  test('when the instance is ready, then success and ready, and its app info is stored encrypted on the instance row', async () => {
    const created = newInstanceCall(merchant.sync);
    const { run } = activityEnv();
    const create = await run(activities.callNewInstance, created);
    expect(create.kind).toBe('success');
    const instanceId = create.instanceId!;

    const before = Date.now();
    const outcome = await run(activities.callQueryInstance, queryCall(created, instanceId));
    const after = Date.now();

    expect(outcome).toEqual({
      kind: 'success',
      activity: 'queryInstance',
      ...timing,
      httpStatus: 200,
      resultCode: '000000',
      resultMsg: 'success',
      instanceId,
      ready: true,
    });
    expectTimingSane(outcome, before, after);
    expect(requestsWith(sim, instanceId).filter((r) => r.activity === 'queryInstance')).toEqual([
      expect.objectContaining({ verify: 'ok', resultCode: '000000' }),
    ]);

    const appInfo = sim.store.get(instanceId)!.appInfo;
    const row = await findInstance(db, instanceId);
    expect(row).toMatchObject({
      instanceId,
      merchantId: merchant.sync,
      orderId: created.orderId,
      orderLineId: created.orderLineId,
      productId: 'P-activity-test',
      status: 'provisioning',
    });
    const stored = row!.appInfoEnc!;
    expect(stored).toMatch(/^v1\./);
    expect(stored).not.toContain(appInfo.password!);
    expect(stored).not.toContain(appInfo.userName!);
    expect(stored).not.toContain('frontEndUrl');
    expect(JSON.parse(encryptor.decrypt(stored))).toEqual(appInfo);
  });

  test('when the instance id already belongs to another subscription, then its row keeps its app info and the poll fails with a non-retryable InstanceIdTaken, logged without secrets', async () => {
    const created = newInstanceCall(merchant.sync);
    const { run, logs } = activityEnv();
    await run(activities.callNewInstance, created);
    const instanceId = created.businessId;
    const otherOrder = uniqueId('CS');
    await upsertInstance(db, {
      instanceId,
      workflowId: `subscription:${otherOrder}:${otherOrder}-000001`,
      merchantId: merchant.sync,
      orderId: otherOrder,
      orderLineId: `${otherOrder}-000001`,
      productId: 'P-owner',
      status: 'active',
    });
    const owned = await findInstance(db, instanceId);

    const error = await rejection(run(activities.callQueryInstance, queryCall(created, instanceId)));

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: ErrorType.InstanceIdTaken, nonRetryable: true });
    expect(await findInstance(db, instanceId)).toEqual(owned);
    expect(logs).toContainEqual({
      level: 'WARN',
      message: 'instance id belongs to another subscription; nothing saved',
      meta: expect.objectContaining({ instanceId, workflowId: created.workflowId, merchantId: merchant.sync }),
    });
    expect(JSON.stringify(logs)).not.toContain(sim.store.get(instanceId)!.appInfo.password!);
  });

  test('when the merchant is still provisioning, then processing and not ready, with nothing stored; the next poll is ready', async () => {
    const created = newInstanceCall(merchant.async);
    const { run } = activityEnv();
    const create = await run(activities.callNewInstance, created);
    expect(create).toMatchObject({ kind: 'processing', instanceId: created.businessId });

    const first = await run(activities.callQueryInstance, queryCall(created, created.businessId));
    expect(first).toEqual({
      kind: 'processing',
      activity: 'queryInstance',
      ...timing,
      httpStatus: 200,
      resultCode: '000004',
      resultMsg: '1 instance(s) still provisioning',
      instanceId: created.businessId,
      ready: false,
    });
    expect(first.latencyMs).toBeGreaterThanOrEqual(0);
    expect(await findInstance(db, created.businessId)).toBeUndefined();

    const second = await run(activities.callQueryInstance, queryCall(created, created.businessId));
    expect(second).toMatchObject({ kind: 'success', resultCode: '000000', instanceId: created.businessId, ready: true });
    const row = await findInstance(db, created.businessId);
    expect(JSON.parse(encryptor.decrypt(row!.appInfoEnc!))).toEqual(asyncSim.store.get(created.businessId)!.appInfo);
  });

  test('when the merchant answers 000000 without listing the instance, then processing "answer does not list the instance yet"', async () => {
    // The sim computes its real answer (000004, info: [] while provisioning), then the
    // 'code' fault replaces only the result code: a success that lists nothing.
    const created = newInstanceCall(merchant.async);
    const { run } = activityEnv();
    await run(activities.callNewInstance, created);
    asyncSim.faults.add({ activity: 'queryInstance', mode: 'code', resultCode: '000000', times: 1 });

    const outcome = await run(activities.callQueryInstance, queryCall(created, created.businessId));

    expect(outcome).toEqual({
      kind: 'processing',
      activity: 'queryInstance',
      ...timing,
      httpStatus: 200,
      resultCode: '000000',
      resultMsg: 'injected result code',
      error: 'answer does not list the instance yet',
      instanceId: created.businessId,
      ready: false,
    });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
    expect(await findInstance(db, created.businessId)).toBeUndefined();
  });

  test('when the merchant does not know the instance, then failure 000003 and not ready', async () => {
    const created = newInstanceCall(merchant.sync);
    const unknown = randomUUID();
    const outcome = await activityEnv().run(activities.callQueryInstance, queryCall(created, unknown));

    expect(outcome).toEqual({
      kind: 'failure',
      activity: 'queryInstance',
      ...timing,
      httpStatus: 200,
      resultCode: '000003',
      resultMsg: `instance ${unknown} does not exist`,
      error: 'instance ID does not exist',
      instanceId: unknown,
      ready: false,
    });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(0);
  });

  test('when the merchant is not registered, then failure naming it and not ready', async () => {
    const missing = uniqueId('M-missing');
    const outcome = await activityEnv().run(activities.callQueryInstance, queryCall(newInstanceCall(missing), randomUUID()));

    expect(outcome).toEqual({
      kind: 'failure',
      activity: 'queryInstance',
      ...timing,
      latencyMs: 0,
      error: `merchant ${missing} is not registered`,
      ready: false,
    });
  });
});
