/**
 * End to end: signed tenant sync webhooks through the API, the worker and the reference
 * merchant's Kit endpoints, on the real Temporal dev server and PostgreSQL, assembled as
 * `npm start` assembles them. The merchant must end up holding exactly what was sent, with
 * the clientSecret decrypted by its own private key, and nothing ever out of order.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { sampleOrderPaid, sendMarketplaceEvent, type SentWebhook } from '../../src/dev/marketplace-client';
import type { DevStack } from '../../src/dev/stack';
import type { Db } from '../../src/db/pool';
import { FulfillmentStatusAttribute, InstanceIdAttribute, MerchantIdAttribute, TenantIdAttribute } from '../../src/shared/search-attributes';
import { until } from '../helpers/until';
import { startE2eStack } from '../helpers/e2e-stack';

let stack: DevStack;
let db: Db;
let connection: Connection;
let temporal: Client;
const operatorHeaders = (): Record<string, string> => ({ authorization: `Bearer ${stack.config.operatorToken}`, 'content-type': 'application/json', 'x-operator': 'ops@marketplace' });

beforeAll(async () => {
  ({ stack, db } = await startE2eStack('tenant-sync'));
  connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS as string });
  temporal = new Client({ connection });
});

afterAll(async () => {
  await stack?.stop();
  await db?.close();
  await connection?.close();
});

const send = (event: unknown, webhookId?: string): Promise<SentWebhook> => sendMarketplaceEvent(stack.api.url, stack.config.webhook.secret, event, webhookId);

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(new URL(path, stack.api.url), { method, headers: operatorHeaders(), ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as T };
}

/** A paid order provisioned at the reference merchant: its instance id. */
async function provisionedInstance(): Promise<string> {
  const event = sampleOrderPaid({ merchantId: stack.demo.merchantId, productId: stack.demo.productId });
  expect((await send(event)).status).toBe(202);
  const order = await until(
    () => api<{ status: string; instanceId: string | null }>('GET', `/v1/orders/${String(event.data.orderId)}`),
    (r) => r.body.status === 'active',
  );
  return order.body.instanceId!;
}

interface SyncView {
  tenant: { tenantCode: string; name: string; domainName: string } | null;
  applications: Array<{ appId: string; clientId: string; userCount: number }>;
  userCount: number;
  orgCount: number;
  lastSync: { at: string; eventId: string } | null;
  sync: { pendingEvents: unknown[]; blockedCall: { eventId: string; operation: string; error: string } | null; step: { name: string } } | null;
  events: Array<{ eventId: string; kind: string; status: string; calls: number; callsDone: number }>;
}

const view = (instanceId: string, tenantId: string) => api<SyncView>('GET', `/v1/instances/${instanceId}/tenants/${tenantId}`);

const users = (count: number, tag = 'u') =>
  Array.from({ length: count }, (_, i) => ({
    userName: `${tag}${String(i).padStart(5, '0')}@acme.example.com`,
    name: `User ${i}`,
    orgCode: i % 2 ? 'ORG-SALES' : 'ORG-RD',
    role: i === 0 ? 'admin' : 'user',
    enable: 'true',
    ...(i % 3 === 0 ? { mobile: `1380000${String(i).padStart(4, '0')}`, extension: { employeeType: 1, entryDate: '2024-03-7' } } : {}),
  }));

const ORGS = [
  { orgCode: 'ORG-ROOT', orgName: 'Acme', parentCode: '' },
  { orgCode: 'ORG-RD', orgName: 'R&D', parentCode: 'ORG-ROOT' },
  { orgCode: 'ORG-SALES', orgName: 'Sales', parentCode: 'ORG-ROOT' },
  { orgCode: 'ORG-SALES-EU', orgName: 'Sales Europe', parentCode: 'ORG-SALES' },
];

test('when tenant, application, 1,200 users and an org tree arrive (users first), then the merchant holds exactly that, with the secret it can decrypt', async () => {
  const instanceId = await provisionedInstance();
  const tenantId = `tenant-${randomUUID().slice(0, 8)}`;
  const secret = `secret-${randomUUID()}`;
  const sent = users(1200);
  const base = { instanceId, tenantId };
  // Dependencies arrive last: the workflow must hold the users and the org tree until the tenant and the application exist.
  for (const event of [
    { type: 'users.added', data: { ...base, appId: 'app-1', users: sent } },
    { type: 'organizations.synced', data: { ...base, orgs: ORGS } },
    { type: 'application.added', data: { ...base, appId: 'app-1', clientId: 'client-1', clientSecret: secret } },
    { type: 'tenant.added', data: { ...base, tenantCode: 'acme', name: 'Acme Ltd', domainName: 'https://acme.idaas.example.com' } },
  ]) {
    const answer = await send(event);
    expect(answer.status).toBe(202);
  }

  const synced = await until(() => view(instanceId, tenantId), (r) => r.body.userCount === 1200 && r.body.orgCount === 4 && r.body.sync?.pendingEvents.length === 0 && r.body.sync.step.name === 'idle');
  expect(synced.body).toMatchObject({
    tenant: { tenantCode: 'acme', name: 'Acme Ltd', domainName: 'https://acme.idaas.example.com' },
    applications: [{ appId: 'app-1', clientId: 'client-1', userCount: 1200 }],
    sync: { blockedCall: null, step: { name: 'idle' } },
  });
  expect(JSON.stringify(synced.body)).not.toContain(secret);

  const held = stack.merchant.kit.snapshot();
  expect(held.outOfOrder).toEqual([]);
  expect(held.tenants.filter((t) => t.tenantId === tenantId)).toEqual([
    { instanceId, orderId: expect.any(String), tenantId, tenantCode: 'acme', name: 'Acme Ltd', domainName: 'https://acme.idaas.example.com' },
  ]);
  expect(held.apps.filter((a) => a.tenantId === tenantId)).toEqual([{ instanceId, tenantId, appId: 'app-1', clientId: 'client-1', clientSecret: secret }]);
  expect(held.users[`${instanceId}/${tenantId}/app-1`]).toEqual(sent);
  expect(held.orgs[`${instanceId}/${tenantId}`]).toEqual([...ORGS].sort((a, b) => a.orgCode.localeCompare(b.orgCode)));

  // 1,200 users made three authSync calls of 500, 500 and 200, after the tenant and the application.
  const calls = stack.merchant.requests().filter((r) => r.body.includes(tenantId));
  expect(calls.map((r) => r.activity)).toEqual(['tenantSync', 'allOrgSync', 'applicationSync', 'authSync', 'authSync', 'authSync']);
  const sizes = calls.filter((r) => r.activity === 'authSync').map((r) => (JSON.parse((JSON.parse(r.body) as { userList: string }).userList) as unknown[]).length);
  expect(sizes).toEqual([500, 500, 200]);
  const tenantBody = JSON.parse(calls[0]!.body) as Record<string, unknown>;
  expect(tenantBody).toMatchObject({ instanceId, tenantId, flag: 1, testFlag: 0 });
  expect(tenantBody.timeStamp).toMatch(/^\d{17}$/);

  // The secret is nowhere in clear: not in the stored webhook, not in sync_events, not in the workflow history.
  const stored = await db.query<{ payload: unknown }>(`select payload from inbound_events where event_type = 'application.added' and payload::text like $1`, [`%${tenantId}%`]);
  expect(stored.rows).toHaveLength(1);
  expect(JSON.stringify(stored.rows[0]!.payload)).not.toContain(secret);
  const events = await db.query<{ payload: unknown; secret_enc: string | null }>(`select payload, secret_enc from sync_events where workflow_id = $1`, [`tenant-sync:${instanceId}:${tenantId}`]);
  expect(events.rows).toHaveLength(4);
  expect(JSON.stringify(events.rows)).not.toContain(secret);
  const history = await temporal.workflow.getHandle(`tenant-sync:${instanceId}:${tenantId}`).fetchHistory();
  expect(JSON.stringify(history)).not.toContain(secret);
  expect(JSON.stringify(history)).not.toContain(sent[1]!.userName);

  // Operators find the workflow in the Web UI by instance, tenant and merchant.
  const described = await temporal.workflow.getHandle(`tenant-sync:${instanceId}:${tenantId}`).describe();
  expect(described.typedSearchAttributes.get(InstanceIdAttribute)).toBe(instanceId);
  expect(described.typedSearchAttributes.get(TenantIdAttribute)).toBe(tenantId);
  expect(described.typedSearchAttributes.get(MerchantIdAttribute)).toBe(stack.demo.merchantId);
  expect(described.typedSearchAttributes.get(FulfillmentStatusAttribute)).toBe('synced');

  // Every call is on the order's timeline.
  const timeline = await db.query<{ activity: string; outcome: string }>(`select activity, outcome from call_attempts where workflow_id = $1 order by started_at`, [`tenant-sync:${instanceId}:${tenantId}`]);
  expect(timeline.rows.map((r) => r.activity)).toEqual(['tenantSync', 'allOrgSync', 'applicationSync', 'authSync', 'authSync', 'authSync']);
  expect(timeline.rows.every((r) => r.outcome === 'success')).toBe(true);
});

test('when a Kit call fails, then the tenant waits for an operator: retry sends it again, skip is recorded with who and why', async () => {
  const instanceId = await provisionedInstance();
  const tenantId = `tenant-${randomUUID().slice(0, 8)}`;
  const base = { instanceId, tenantId };
  stack.merchant.faults.add({ activity: 'tenantSync', mode: 'fail', resultCode: '000005', times: 1 });
  expect((await send({ type: 'tenant.added', data: { ...base, tenantCode: 'beta', name: 'Beta', domainName: 'https://beta.example.com' } })).status).toBe(202);
  expect((await send({ type: 'organization.added', data: { ...base, orgCode: 'O1', orgName: 'HQ' } })).status).toBe(202);

  const blocked = await until(() => view(instanceId, tenantId), (r) => r.body.sync?.blockedCall !== null && r.body.sync !== null);
  expect(blocked.body.sync?.blockedCall).toMatchObject({ operation: 'tenantSync', error: '000005 other internal service error' });
  expect(blocked.body.sync?.pendingEvents).toHaveLength(1);
  expect(stack.merchant.kit.snapshot().tenants.some((t) => t.tenantId === tenantId)).toBe(false);
  // The merchant and the buyer's admin were told.
  await until(async () => stack.orderSystem.received().filter((c) => c.type === 'tenant_sync.failed' && c.data.tenantId === tenantId), (c) => c.length === 1);
  const notices = await db.query(`select subject from notifications where idempotency_key like $1`, [`tenant-sync:${instanceId}:${tenantId}:%`]);
  expect(notices.rows).toEqual([{ subject: `Tenant sync failed: tenantSync for tenant ${tenantId} of instance ${instanceId}` }]);

  const retried = await api<{ decision: { action: string; call: number } }>('POST', `/v1/instances/${instanceId}/tenants/${tenantId}/retry`, { reason: 'merchant fixed its endpoint' });
  expect(retried.status).toBe(202);
  await until(() => view(instanceId, tenantId), (r) => r.body.orgCount === 1 && r.body.sync?.pendingEvents.length === 0 && r.body.sync.step.name === 'idle');
  expect(stack.merchant.kit.snapshot().tenants.filter((t) => t.tenantId === tenantId)).toHaveLength(1);
  // Nothing waits now: a second decision is refused.
  const nothing = await api<{ error: { code: string } }>('POST', `/v1/instances/${instanceId}/tenants/${tenantId}/skip`, { reason: 'nothing to skip' });
  expect(nothing).toEqual({ status: 409, body: { error: { code: 'nothing_to_decide', message: 'no failed call is waiting for a decision' } } });

  stack.merchant.faults.add({ activity: 'orgSync', mode: 'http-error', httpStatus: 500, times: 1 });
  expect((await send({ type: 'organization.deleted', data: { ...base, orgCode: 'O1' } })).status).toBe(202);
  await until(() => view(instanceId, tenantId), (r) => r.body.sync?.blockedCall?.operation === 'orgSync');
  const skipped = await api('POST', `/v1/instances/${instanceId}/tenants/${tenantId}/skip`, { reason: 'org already removed by hand' });
  expect(skipped.status).toBe(202);
  await until(() => view(instanceId, tenantId), (r) => r.body.events.some((e) => e.kind === 'organization' && e.status === 'skipped'));
  const actions = await db.query(`select actor, action, reason from operator_actions where target_id = $1 order by action_id`, [`tenant-sync:${instanceId}:${tenantId}`]);
  expect(actions.rows).toEqual([
    { actor: 'ops@marketplace', action: 'tenant-sync-retry', reason: 'merchant fixed its endpoint' },
    { actor: 'ops@marketplace', action: 'tenant-sync-skip', reason: 'org already removed by hand' },
  ]);
});

test('when a webhook is refused (bad signature, bad field, unknown instance), then nothing is written; a redelivered webhook-id gets the same answer once', async () => {
  const instanceId = await provisionedInstance();
  const tenantId = `tenant-${randomUUID().slice(0, 8)}`;
  const count = async (): Promise<number> => {
    const { rows } = await db.query<{ n: number }>(
      `select (select count(*) from inbound_events where payload::text like $1)::int + (select count(*) from sync_events where workflow_id like $2)::int as n`,
      [`%${tenantId}%`, `%${tenantId}%`],
    );
    return rows[0]!.n;
  };
  const tenant = { type: 'tenant.added', data: { instanceId, tenantId, tenantCode: 'c', name: 'C', domainName: 'https://c.example.com' } };

  const forged = await sendMarketplaceEvent(stack.api.url, 'whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC0xMjM0', tenant);
  expect(forged.status).toBe(401);

  const badUser = await send({ type: 'users.added', data: { instanceId, tenantId, appId: 'a', users: [{ userName: 'x', name: 'X', orgCode: 'o', enable: 'true' }] } });
  expect(badUser.status).toBe(400);
  expect(badUser.body).toMatchObject({ error: { code: 'invalid_request', details: [{ field: 'data.users.0.role' }] } });

  const unknown = await send({ ...tenant, data: { ...tenant.data, instanceId: 'no-such-instance' } });
  expect(unknown).toMatchObject({ status: 422, body: { error: { code: 'unknown_instance', details: [{ field: 'data.instanceId', reason: 'unknown instance' }] } } });
  expect(await count()).toBe(0);

  const webhookId = `msg_${randomUUID()}`;
  const first = await send(tenant, webhookId);
  const again = await send(tenant, webhookId);
  expect(first.status).toBe(202);
  expect(again).toEqual(first);
  await until(() => view(instanceId, tenantId), (r) => r.body.tenant !== null);
  expect(stack.merchant.requests().filter((r) => r.body.includes(tenantId))).toHaveLength(1);
  expect((await db.query(`select 1 from sync_events where event_id = $1`, [webhookId])).rows).toHaveLength(1);
});
