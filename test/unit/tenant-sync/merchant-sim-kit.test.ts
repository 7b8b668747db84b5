/**
 * The reference merchant's Kit endpoints over loopback HTTP, called with the worker's own
 * Kit client: x-sign checked, clientSecret decrypted, adds and deletes idempotent, calls that
 * come before their tenant or application refused, faults injectable.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createHttpKitClient, kitUrl } from '../../../src/clients/kit';
import { startMerchantSim, type MerchantSim } from '../../../src/merchant-sim';
import { encryptClientSecret, signKitRequest, toUtc8Time, type AnyKitBody, type KitOperation } from '../../../src/protocol';

const SYNC_KEY = 'sim-sync-key-123';
const keys = generateKeyPairSync('rsa', { modulusLength: 3072, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const client = createHttpKitClient({ timeoutMs: 5000 });
let sim: MerchantSim;

beforeAll(async () => {
  sim = await startMerchantSim({ accessKey: 'production-key-1', kit: { syncKey: SYNC_KEY, privateKeyPem: keys.privateKey } });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.reset());

const common = () => ({ instanceId: 'inst-1', testFlag: 0 as const, timeStamp: toUtc8Time(Date.now()) });
const tenant = (flag: 0 | 1 | 2) => ({ ...common(), orderId: 'CS1', tenantId: 't-1', tenantCode: 'acme', name: 'Acme', domainName: 'https://acme.example.com', flag });
const app = (flag: 0 | 1 | 2, secret = 's3cret') => ({ ...common(), tenantId: 't-1', appId: 'app-1', clientId: 'client-1', clientSecret: encryptClientSecret(keys.publicKey, secret), flag });
const users = (flag: 0 | 1 | 2, names: string[]) => ({
  ...common(),
  tenantId: 't-1',
  appId: 'app-1',
  userList: JSON.stringify(names.map((userName) => ({ userName, name: userName, orgCode: 'o1', role: 'user', enable: 'true' }))),
  currentSyncTime: toUtc8Time(Date.now()),
  flag,
});

async function send(operation: KitOperation, body: AnyKitBody): Promise<string | undefined> {
  const result = await client.post({ productionUrl: sim.url, syncKey: SYNC_KEY }, operation, body);
  return (result.json as { resultCode?: string } | undefined)?.resultCode;
}

test('when tenant, application and users arrive in order, then the merchant holds them with the decrypted secret, and repeats change nothing', async () => {
  expect(await send('tenantSync', tenant(1))).toBe('000000');
  expect(await send('applicationSync', app(1))).toBe('000000');
  expect(await send('authSync', users(1, ['a', 'b']))).toBe('000000');
  expect(await send('authSync', users(1, ['a', 'b']))).toBe('000000');
  expect(await send('allOrgSync', { ...common(), tenantId: 't-1', orgInfoList: [{ orgCode: 'o1', orgName: 'HQ', parentCode: '' }] })).toBe('000000');
  const state = sim.kit.snapshot();
  expect(state.tenants).toEqual([{ instanceId: 'inst-1', orderId: 'CS1', tenantId: 't-1', tenantCode: 'acme', name: 'Acme', domainName: 'https://acme.example.com' }]);
  expect(state.apps).toEqual([{ instanceId: 'inst-1', tenantId: 't-1', appId: 'app-1', clientId: 'client-1', clientSecret: 's3cret' }]);
  expect(state.users['inst-1/t-1/app-1']?.map((u) => u.userName)).toEqual(['a', 'b']);
  expect(state.orgs['inst-1/t-1']).toEqual([{ orgCode: 'o1', orgName: 'HQ', parentCode: '' }]);
  // Deletes succeed, twice, and also for users never added (spec §4).
  expect(await send('authSync', users(0, ['a', 'zz']))).toBe('000000');
  expect(await send('authSync', users(0, ['a']))).toBe('000000');
  expect(sim.kit.userCount('inst-1', 't-1', 'app-1')).toBe(1);
  expect(sim.kit.snapshot().outOfOrder).toEqual([]);
  expect(sim.requests().map((r) => r.activity)).toEqual(['tenantSync', 'applicationSync', 'authSync', 'authSync', 'allOrgSync', 'authSync', 'authSync']);
});

test('when users come before their application, then they are refused and noted as out of order', async () => {
  expect(await send('tenantSync', tenant(1))).toBe('000000');
  expect(await send('authSync', users(1, ['a']))).toBe('000005');
  expect(sim.kit.snapshot().outOfOrder).toEqual(['authSync before application app-1 of instance inst-1']);
  expect(sim.kit.userCount('inst-1', 't-1', 'app-1')).toBe(0);
});

test('when the signature, key or secret is wrong, then the call is refused and nothing is stored', async () => {
  const body = JSON.stringify(tenant(1));
  const forged = await fetch(kitUrl(sim.url, 'tenantSync'), { method: 'POST', headers: { 'content-type': 'application/json', ...signKitRequest('wrong-key', body) }, body });
  expect(await forged.json()).toEqual({ resultCode: '000001', resultMsg: 'signature check failed' });
  expect(sim.requests()[0]?.verify).toBe('bad-signature');
  // The production-interface key does not sign Kit calls.
  expect((await client.post({ productionUrl: sim.url, syncKey: 'production-key-1' }, 'tenantSync', tenant(1))).json).toMatchObject({ resultCode: '000001' });
  expect(sim.kit.snapshot().tenants).toEqual([]);
  expect(await send('tenantSync', tenant(1))).toBe('000000');
  const other = generateKeyPairSync('rsa', { modulusLength: 3072, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  expect(await send('applicationSync', { ...app(1), clientSecret: encryptClientSecret(other.publicKey, 'x') })).toBe('000002');
  expect(sim.kit.snapshot().apps).toEqual([]);
});

test('when a fault is injected for a Kit operation, then that call fails and the next one succeeds', async () => {
  sim.faults.add({ activity: 'tenantSync', mode: 'fail', times: 1 });
  expect(await send('tenantSync', tenant(1))).toBe('000005');
  expect(sim.kit.snapshot().tenants).toEqual([]);
  expect(await send('tenantSync', tenant(1))).toBe('000000');
  expect(sim.kit.snapshot().tenants).toHaveLength(1);
});

test('when the control API is enabled, then its state shows the Kit store and its reset empties it', async () => {
  const controlled = await startMerchantSim({ accessKey: 'production-key-1', controlToken: 'control-token-1', kit: { syncKey: SYNC_KEY, privateKeyPem: keys.privateKey } });
  try {
    const control = (method: string, path: string) => fetch(new URL(`/_control${path}`, controlled.url), { method, headers: { authorization: 'Bearer control-token-1' } });
    expect((await client.post({ productionUrl: controlled.url, syncKey: SYNC_KEY }, 'tenantSync', tenant(1))).json).toMatchObject({ resultCode: '000000' });
    const state = (await (await control('GET', '/state')).json()) as { kit: { tenants: unknown[] } };
    expect(state.kit.tenants).toHaveLength(1);
    expect((await control('POST', '/reset')).status).toBe(204);
    expect(controlled.kit.snapshot().tenants).toEqual([]);
  } finally {
    await controlled.close();
  }
});
