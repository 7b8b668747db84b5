/**
 * `npm run bench:sync`: 100,000 users of one tenant synced to the reference merchant through
 * the whole path (signed webhooks → API → sync_events → tenant sync workflow → signed authSync
 * calls of 500 users), against bare signed authSync calls of the same size to the same
 * merchant on the same machine. Prints the calls made (200), users/s of each and their ratio.
 *
 * Servers: TEMPORAL_ADDRESS and DATABASE_URL when set, else a dev server and an embedded
 * PostgreSQL (see bench/ingest/servers.ts). SYNC_USERS (default 100000) and
 * SYNC_USERS_PER_WEBHOOK (default 1000) change the sizes.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createHttpKitClient } from '../../src/clients/kit';
import { sampleOrderPaid, sendMarketplaceEvent } from '../../src/dev/marketplace-client';
import { DEMO_SYNC_KEY, startDevStack, type DevStack } from '../../src/dev/stack';
import { createLogger } from '../../src/platform/logger';
import { callsFor, encryptClientSecret, toUtc8Time, USERS_PER_CALL, type KitUser } from '../../src/protocol';
import { startBenchServers } from '../ingest/servers';

const TOTAL_USERS = Number(process.env.SYNC_USERS ?? 100_000);
const USERS_PER_WEBHOOK = Number(process.env.SYNC_USERS_PER_WEBHOOK ?? 1000);

function usersOf(tag: string, from: number, count: number): KitUser[] {
  return Array.from({ length: count }, (_, i) => ({
    userName: `${tag}-${String(from + i).padStart(6, '0')}@bench.example.com`,
    name: `User ${from + i}`,
    orgCode: `ORG-${(from + i) % 50}`,
    role: 'user',
    enable: 'true',
  }));
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms; last ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function operatorGet<T>(stack: DevStack, path: string): Promise<T> {
  const res = await fetch(new URL(path, stack.api.url), { headers: { authorization: `Bearer ${stack.config.operatorToken}` } });
  return (await res.json()) as T;
}

/** The whole path: webhooks in, calls out, until our view counts every user and nothing is pending. */
async function throughPipeline(stack: DevStack): Promise<{ seconds: number; calls: number; held: number; ingestSeconds: number }> {
  const send = async (event: unknown): Promise<void> => {
    const answer = await sendMarketplaceEvent(stack.api.url, stack.config.webhook.secret, event);
    if (answer.status !== 202) throw new Error(`webhook answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  };
  const order = sampleOrderPaid({ merchantId: stack.demo.merchantId, productId: stack.demo.productId });
  await send(order);
  const { instanceId } = await waitFor(
    () => operatorGet<{ status: string; instanceId: string }>(stack, `/v1/orders/${String(order.data.orderId)}`),
    (o) => o.status === 'active',
    60_000,
    'order not active',
  );
  const tenantId = `bench-${randomUUID().slice(0, 8)}`;
  const base = { instanceId, tenantId };
  await send({ type: 'tenant.added', data: { ...base, tenantCode: 'bench', name: 'Bench Ltd', domainName: 'https://bench.example.com' } });
  await send({ type: 'application.added', data: { ...base, appId: 'app-1', clientId: 'client-1', clientSecret: 'bench-secret' } });
  const path = `/v1/instances/${instanceId}/tenants/${tenantId}`;
  type View = { applications: unknown[]; userCount: number; sync: { pendingEvents: unknown[] } | null };
  await waitFor(() => operatorGet<View>(stack, path), (v) => v.applications.length === 1, 60_000, 'application not synced');

  const before = stack.merchant.requests().length;
  const started = performance.now();
  for (let from = 0; from < TOTAL_USERS; from += USERS_PER_WEBHOOK) {
    await send({ type: 'users.added', data: { ...base, appId: 'app-1', users: usersOf('p', from, Math.min(USERS_PER_WEBHOOK, TOTAL_USERS - from)) } });
  }
  const ingestSeconds = (performance.now() - started) / 1000;
  await waitFor(() => operatorGet<View>(stack, path), (v) => v.userCount === TOTAL_USERS && v.sync?.pendingEvents.length === 0, 30 * 60_000, 'users not synced');
  const seconds = (performance.now() - started) / 1000;
  const calls = stack.merchant.requests().slice(before).filter((r) => r.activity === 'authSync' && r.resultCode === '000000').length;
  return { seconds, calls, held: stack.merchant.kit.userCount(instanceId, tenantId, 'app-1'), ingestSeconds };
}

/** The limit: the same authSync calls, signed and sent one after another by the Kit client, nothing else. */
async function bareCalls(stack: DevStack): Promise<{ seconds: number; calls: number }> {
  const client = createHttpKitClient({ timeoutMs: 5000 });
  const endpoint = { productionUrl: stack.merchant.url, syncKey: DEMO_SYNC_KEY };
  const common = () => ({ instanceId: 'bare-instance', testFlag: 0 as const, timeStamp: toUtc8Time(Date.now()) });
  const ok = (result: { json?: unknown }): void => {
    if ((result.json as { resultCode?: string } | undefined)?.resultCode !== '000000') throw new Error(`bare call failed: ${JSON.stringify(result)}`);
  };
  ok(await client.post(endpoint, 'tenantSync', { ...common(), orderId: 'bare', tenantId: 'bare-tenant', tenantCode: 'bare', name: 'Bare', domainName: 'https://bare.example.com', flag: 1 }));
  ok(
    await client.post(endpoint, 'applicationSync', {
      ...common(),
      tenantId: 'bare-tenant',
      appId: 'app-1',
      clientId: 'c',
      clientSecret: encryptClientSecret(stack.appKeys.publicKey, 's'),
      flag: 1,
    }),
  );
  const calls = callsFor(TOTAL_USERS);
  const started = performance.now();
  for (let call = 0; call < calls; call += 1) {
    const users = usersOf('b', call * USERS_PER_CALL, Math.min(USERS_PER_CALL, TOTAL_USERS - call * USERS_PER_CALL));
    ok(await client.post(endpoint, 'authSync', { ...common(), tenantId: 'bare-tenant', appId: 'app-1', userList: JSON.stringify(users), currentSyncTime: toUtc8Time(Date.now()), flag: 1 }));
  }
  return { seconds: (performance.now() - started) / 1000, calls };
}

async function main(): Promise<void> {
  const servers = await startBenchServers();
  let stack: DevStack | undefined;
  try {
    stack = await startDevStack({
      databaseUrl: servers.databaseUrl,
      temporalAddress: servers.temporalAddress,
      logger: createLogger('warn'),
      taskQueue: `bench-sync-${randomUUID()}`,
      env: { MIGRATE_ON_START: 'false', LOG_LEVEL: 'warn' },
    });
    console.log(`# Tenant sync: ${TOTAL_USERS.toLocaleString('en')} users, ${USERS_PER_WEBHOOK} per webhook, ${USERS_PER_CALL} per authSync call`);
    console.log(`Temporal ${servers.temporalLabel}; PostgreSQL ${servers.postgresLabel}`);
    const bare = await bareCalls(stack);
    const pipeline = await throughPipeline(stack);
    const pipelineRate = TOTAL_USERS / pipeline.seconds;
    const bareRate = TOTAL_USERS / bare.seconds;
    console.log(`authSync calls made (pipeline)                ${pipeline.calls}`);
    console.log(`users held by the merchant                    ${pipeline.held.toLocaleString('en')}`);
    console.log(`webhooks sent in                              ${pipeline.ingestSeconds.toFixed(1)} s`);
    console.log(`pipeline: all users synced in                 ${pipeline.seconds.toFixed(1)} s  ${Math.round(pipelineRate).toLocaleString('en')} users/s`);
    console.log(`bare signed calls (${bare.calls}, sequential) in      ${bare.seconds.toFixed(1)} s  ${Math.round(bareRate).toLocaleString('en')} users/s`);
    console.log(`ratio pipeline / bare                         ${(pipelineRate / bareRate).toFixed(2)}`);
    if (pipeline.calls !== callsFor(TOTAL_USERS) || pipeline.held !== TOTAL_USERS) {
      throw new Error(`expected ${callsFor(TOTAL_USERS)} calls and ${TOTAL_USERS} users held, got ${pipeline.calls} and ${pipeline.held}`);
    }
  } finally {
    await stack?.stop();
    await servers.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
