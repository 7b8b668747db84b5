/**
 * The Kit call activities on real PostgreSQL against the reference merchant over HTTP: each
 * call sends its slice of the stored event, signed with the merchant's sync key, records its
 * own attempt and (on success) what the merchant now holds; failures are recorded, not retried.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createKitCallActivities, type KitCallActivities, type KitSyncCall } from '../../src/activities/tenant-sync/kit-calls';
import { createHttpKitClient } from '../../src/clients/kit';
import type { Db } from '../../src/db/pool';
import { upsertProduct } from '../../src/db/repositories/catalog/merchants';
import { upsertInstance } from '../../src/db/repositories/subscription/instances';
import { saveMerchantSyncSettings, saveProductAppPublicKey } from '../../src/db/repositories/tenant-sync/merchant-keys';
import { insertSyncEvent, type SyncEventRecord } from '../../src/db/repositories/tenant-sync/sync-events';
import { ensureTenantSync, findTenantSync } from '../../src/db/repositories/tenant-sync/tenant-syncs';
import { startMerchantSim, type MerchantSim } from '../../src/merchant-sim';
import { encryptor, registerMerchant, testDb, uniqueId } from './fixtures';

const SYNC_KEY = 'activity-sync-key';
const keys = generateKeyPairSync('rsa', { modulusLength: 3072, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
let db: Db;
let sim: MerchantSim;
let activities: KitCallActivities;
const env = new MockActivityEnvironment();

beforeAll(async () => {
  db = testDb();
  sim = await startMerchantSim({ accessKey: 'activity-access-key', kit: { syncKey: SYNC_KEY, privateKeyPem: keys.privateKey } });
  activities = createKitCallActivities({ db, encryptor, kitClient: createHttpKitClient({ timeoutMs: 5000 }) });
});
afterAll(async () => {
  await sim?.close();
  await db?.close();
});
beforeEach(() => sim.reset());

/** A merchant, product and instance, with or without a sync key; and the tenant's sync row. */
async function tenant(options: { syncKey?: boolean } = {}) {
  const merchantId = uniqueId('km');
  const productId = uniqueId('kp');
  const instanceId = uniqueId('ki');
  const workflowId = `tenant-sync:${instanceId}:t1`;
  await registerMerchant(db, { merchantId, productionUrl: sim.url, accessKey: 'activity-access-key' });
  if (options.syncKey !== false) await saveMerchantSyncSettings(db, { merchantId, syncKeyEnc: encryptor.encrypt(SYNC_KEY) });
  await upsertProduct(db, { productId, merchantId, name: 'p', chargingMode: 'PERIOD', retentionDays: 3 });
  await saveProductAppPublicKey(db, productId, keys.publicKey);
  await upsertInstance(db, { instanceId, workflowId: `subscription:${instanceId}`, merchantId, orderId: 'O1', orderLineId: 'O1-1', productId, skuCode: 'basic', status: 'active' });
  await ensureTenantSync(db, { workflowId, instanceId, tenantId: 't1', merchantId });
  let attempt = 0;
  const call = (eventId: string, n: number): KitSyncCall => ({
    workflowId,
    instanceId,
    tenantId: 't1',
    orderId: 'O1',
    eventId,
    call: n,
    testFlag: 0,
    attempt: { attemptId: randomUUID(), workflowId, orderId: 'O1', orderLineId: 'O1-1', merchantId, scenario: 'tenant-sync', attempt: (attempt += 1) },
  });
  const store = async (e: Omit<SyncEventRecord, 'workflowId' | 'acceptedAt' | 'eventId'>): Promise<string> => {
    const eventId = uniqueId('ev');
    await insertSyncEvent(db, { ...e, eventId, workflowId, acceptedAt: new Date() });
    return eventId;
  };
  const eventRow = async (eventId: string) => (await db.query(`select status, calls_done, last_error from sync_events where event_id = $1`, [eventId])).rows[0];
  const attempts = async () => (await db.query(`select activity, outcome, result_code from call_attempts where workflow_id = $1 order by attempt`, [workflowId])).rows;
  return { instanceId, workflowId, call, store, eventRow, attempts };
}

const users = (n: number) => Array.from({ length: n }, (_, i) => ({ userName: `user${i}`, name: `U${i}`, orgCode: 'o', role: 'user', enable: 'true' }));

test('when a tenant, an application and 1,200 users are sent, then each call carries its slice, records itself, and the merchant holds them with the decrypted secret', async () => {
  const t = await tenant();
  const tenantEvent = await t.store({ kind: 'tenant', flag: 1, payload: { tenantCode: 'acme', name: 'Acme', domainName: 'https://acme.example.com' }, calls: 1 });
  const appEvent = await t.store({ kind: 'application', flag: 1, payload: { appId: 'a1', clientId: 'c1' }, secretEnc: encryptor.encrypt('top-secret'), calls: 1 });
  const usersEvent = await t.store({ kind: 'users', flag: 1, payload: { appId: 'a1', users: users(1200) }, calls: 3 });
  for (const [eventId, n] of [[tenantEvent, 0], [appEvent, 0], [usersEvent, 0], [usersEvent, 1], [usersEvent, 2]] as const) {
    const outcome = await env.run(activities.callKitSync, t.call(eventId, n));
    expect(outcome).toMatchObject({ kind: 'success', resultCode: '000000', attemptRecorded: true });
    expect(JSON.stringify(outcome)).not.toContain('top-secret');
  }
  const authSync = sim.requests().filter((r) => r.activity === 'authSync').map((r) => JSON.parse(r.body) as { userList: string; testFlag: unknown; timeStamp: string; flag: number });
  expect(authSync.map((b) => (JSON.parse(b.userList) as Array<{ userName: string }>).map((u) => u.userName))).toEqual([
    users(1200).slice(0, 500).map((u) => u.userName),
    users(1200).slice(500, 1000).map((u) => u.userName),
    users(1200).slice(1000).map((u) => u.userName),
  ]);
  expect(authSync[0]).toMatchObject({ testFlag: 0, flag: 1, timeStamp: expect.stringMatching(/^\d{17}$/) });
  const appBody = sim.requests().find((r) => r.activity === 'applicationSync')!.body;
  expect(appBody).not.toContain('top-secret');
  expect(sim.kit.snapshot().apps).toEqual([{ instanceId: t.instanceId, tenantId: 't1', appId: 'a1', clientId: 'c1', clientSecret: 'top-secret' }]);
  expect(sim.kit.userCount(t.instanceId, 't1', 'a1')).toBe(1200);

  expect(await t.eventRow(usersEvent)).toEqual({ status: 'synced', calls_done: 3, last_error: null });
  expect(await t.attempts()).toEqual(
    ['tenantSync', 'applicationSync', 'authSync', 'authSync', 'authSync'].map((activity) => ({ activity, outcome: 'success', result_code: '000000' })),
  );
  expect(await findTenantSync(db, t.instanceId, 't1')).toMatchObject({
    tenant: { tenantCode: 'acme', name: 'Acme', domainName: 'https://acme.example.com' },
    applications: [{ appId: 'a1', clientId: 'c1', userCount: 1200 }],
    userCount: 1200,
    lastSync: { eventId: usersEvent },
  });
});

test('when the merchant fails a call, then the failure is recorded on the event and the timeline, once, and a skip records who and why', async () => {
  const t = await tenant();
  const tenantEvent = await t.store({ kind: 'tenant', flag: 1, payload: { tenantCode: 'x', name: 'X', domainName: 'https://x.example.com' }, calls: 1 });
  sim.faults.add({ activity: 'tenantSync', mode: 'http-error', httpStatus: 502 });
  const outcome = await env.run(activities.callKitSync, t.call(tenantEvent, 0));
  expect(outcome).toMatchObject({ kind: 'failure', operation: 'tenantSync', httpStatus: 502, error: 'HTTP 502', attemptRecorded: true });
  expect(sim.requests()).toHaveLength(1);
  expect(await t.eventRow(tenantEvent)).toEqual({ status: 'failed', calls_done: 0, last_error: 'HTTP 502' });
  expect(await t.attempts()).toEqual([{ activity: 'tenantSync', outcome: 'failure', result_code: null }]);

  await env.run(activities.skipKitCall, { eventId: tenantEvent, call: 0, requestedBy: 'ops@example.com', reason: 'merchant down for the day' });
  expect(await t.eventRow(tenantEvent)).toEqual({ status: 'skipped', calls_done: 1, last_error: 'call 1 skipped by ops@example.com: merchant down for the day' });
  expect((await findTenantSync(db, t.instanceId, 't1'))?.tenant).toBeNull();
});

test('when the merchant has no sync key, then no request is sent and the call is a recorded failure', async () => {
  const t = await tenant({ syncKey: false });
  const tenantEvent = await t.store({ kind: 'tenant', flag: 1, payload: { tenantCode: 'x', name: 'X', domainName: 'https://x.example.com' }, calls: 1 });
  const outcome = await env.run(activities.callKitSync, t.call(tenantEvent, 0));
  expect(outcome).toMatchObject({ kind: 'failure', error: 'the merchant has no sync key registered', attemptRecorded: true });
  expect(sim.requests()).toHaveLength(0);
  expect(await t.eventRow(tenantEvent)).toMatchObject({ status: 'failed', last_error: 'the merchant has no sync key registered' });
});
