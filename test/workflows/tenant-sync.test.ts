/**
 * tenantSyncWorkflow on the time-skipping server, with fake activities at the activity
 * boundary: events applied in arrival order but never before their tenant and application,
 * a failed Kit call held until someone retries or skips it, continue-as-new carrying the
 * pending events, and the end once the tenant is deleted.
 */
import path from 'node:path';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { KitCallOutcome, KitSyncCall } from '../../src/activities/tenant-sync/kit-calls';
import type { OrderSystemCallback } from '../../src/activities/notices/callbacks';
import { createTenantSyncGateway, tenantSyncWorkflowId, type TenantSyncGateway } from '../../src/api/tenant-sync/gateway';
import { KIT_OPERATION_OF, type SyncEventKind } from '../../src/protocol/kit';
import type { SyncEventRef, TenantSyncSnapshot } from '../../src/workflows/tenant-sync/messages';
import { waitUntilQuiet, workflowSuite } from '../helpers/workflow-env';
import { until } from '../helpers/until';
import { recordHistory } from '../helpers/histories';

const suite = workflowSuite();
let workflowBundle: WorkflowBundleWithSourceMap;
const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

beforeAll(async () => {
  workflowBundle = await bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'), logger: quietLogger });
});

interface Harness {
  gateway: TenantSyncGateway;
  workflowId: string;
  /** Every Kit call made, as `<eventId>#<call>`. */
  calls: string[];
  /** Calls (`<eventId>#<call>`) that fail the next time they are made. */
  failNext: Set<string>;
  skips: jest.Mock;
  merchantNotices: jest.Mock;
  callbacks: OrderSystemCallback[];
  send(eventId: string, kind: SyncEventKind, extra?: Partial<SyncEventRef>): Promise<void>;
  status(): Promise<TenantSyncSnapshot>;
  eventually(reached: (s: TenantSyncSnapshot) => boolean): Promise<TenantSyncSnapshot>;
  /**
   * The same, querying only while the workflow has nothing in flight: on the Java test server
   * a query that races a continue-as-new can leave the server's clock locked for good.
   */
  settled(reached: (s: TenantSyncSnapshot) => boolean): Promise<TenantSyncSnapshot>;
  run<T>(work: () => Promise<T>): Promise<T>;
}

function harness(continueAsNewAfterEvents = 100): Harness {
  const taskQueue = `tenant-sync-${(expect.getState().currentTestName ?? 'test').replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-${Date.now()}`;
  const gateway = createTenantSyncGateway(suite.client, { taskQueue, settings: { continueAsNewAfterEvents } });
  const instanceId = `inst-${Date.now()}`;
  const workflowId = tenantSyncWorkflowId(instanceId, 'tenant-1');
  const calls: string[] = [];
  const failNext = new Set<string>();
  const callbacks: OrderSystemCallback[] = [];
  const kinds = new Map<string, SyncEventKind>();
  const activities = {
    callKitSync: jest.fn(async (call: KitSyncCall): Promise<KitCallOutcome> => {
      const id = `${call.eventId}#${call.call + 1}`;
      calls.push(id);
      const operation = KIT_OPERATION_OF[kinds.get(call.eventId) ?? 'tenant'];
      const failed = failNext.delete(id);
      const base = { activity: operation, operation, startedAtMs: Date.now(), latencyMs: 3, attemptRecorded: true };
      return failed ? { ...base, kind: 'failure', resultCode: '000005', error: 'other internal service error' } : { ...base, kind: 'success', resultCode: '000000' };
    }),
    recordKitCall: jest.fn(async () => undefined),
    skipKitCall: jest.fn(async () => undefined),
    notifyMerchant: jest.fn(async () => ({ notificationId: '1', email: 'not-applicable' })),
    notifyOrderSystem: jest.fn(async (callback: OrderSystemCallback) => {
      callbacks.push(callback);
      return 'delivered' as const;
    }),
  };
  const status = (): Promise<TenantSyncSnapshot> => gateway.status(workflowId);
  return {
    gateway,
    workflowId,
    calls,
    failNext,
    skips: activities.skipKitCall,
    merchantNotices: activities.notifyMerchant,
    callbacks,
    async send(eventId, kind, extra = {}) {
      kinds.set(eventId, kind);
      await gateway.deliver(
        { workflowId, instanceId, tenantId: 'tenant-1', merchantId: 'merchant-1', orderId: 'CS1', orderLineId: 'CS1-000001' },
        { eventId, acceptedAtMs: Date.now(), kind, operation: KIT_OPERATION_OF[kind], ...(kind === 'organizations' ? {} : { flag: 1 as const }), calls: 1, testFlag: 0, ...extra },
      );
      if (!suite.started.includes(workflowId)) suite.started.push(workflowId);
    },
    status,
    eventually: (reached) => until(status, reached, { intervalMs: 50, what: `status of ${workflowId} not reached` }),
    settled: (reached) =>
      until(
        async () => {
          await waitUntilQuiet(suite.env, workflowId);
          return status();
        },
        reached,
        { intervalMs: 100, what: `status of ${workflowId} not reached` },
      ),
    run: async (work) =>
      (await Worker.create({ connection: suite.env.nativeConnection, taskQueue, workflowBundle, activities })).runUntil(async () => {
        const result = await work();
        await waitUntilQuiet(suite.env, workflowId);
        return result;
      }),
  };
}

test('when users arrive before their application and tenant, then they reach the merchant only after both, 1,200 users in 3 calls', async () => {
  const h = harness();
  await h.run(async () => {
    await h.send('e1-users', 'users', { appId: 'app-1', calls: 3 });
    await h.send('e2-org', 'organizations', {});
    const waiting = await h.eventually((s) => s.pendingEvents.length === 2);
    expect(waiting.pendingEvents).toEqual([
      { eventId: 'e1-users', kind: 'users', flag: 1, waitingFor: 'tenant' },
      { eventId: 'e2-org', kind: 'organizations', waitingFor: 'tenant' },
    ]);
    expect(waiting.step.name).toBe('waiting-for-dependency');
    await h.send('e3-app', 'application', { appId: 'app-1' });
    await h.send('e4-tenant', 'tenant', {});
    const done = await h.eventually((s) => s.pendingEvents.length === 0 && s.step.name === 'idle');
    expect(done.tenantExists).toBe(true);
    expect(done.applications).toEqual(['app-1']);
    expect(done.eventsApplied).toBe(4);
    expect(done.lastSync?.eventId).toBe('e1-users');
  });
  // The tenant first; then, in arrival order, each event as soon as what it needs exists: the
  // organisations (which need only the tenant), the application, and the users that needed it.
  expect(h.calls).toEqual(['e4-tenant#1', 'e2-org#1', 'e3-app#1', 'e1-users#1', 'e1-users#2', 'e1-users#3']);
  await recordHistory(suite.client, h.workflowId, 'dependency-order', 'tenant-sync');
});

test('when a call fails, then the later events wait behind it until a retry sends it again, and both sides are told once', async () => {
  const h = harness();
  await h.run(async () => {
    await h.send('t', 'tenant');
    h.failNext.add('a#1');
    await h.send('a', 'application', { appId: 'app-1' });
    await h.send('u', 'users', { appId: 'app-1' });
    await h.send('o', 'organizations');
    const blocked = await h.eventually((s) => s.blockedCall !== null);
    expect(blocked.blockedCall).toMatchObject({ eventId: 'a', operation: 'applicationSync', call: 1, calls: 1, resultCode: '000005', tries: 1 });
    expect(blocked.step.name).toBe('waiting-for-decision');
    // Nothing behind it moves, not even the organisations, which do not depend on the application.
    expect(blocked.pendingEvents.map((e) => e.eventId)).toEqual(['u', 'o']);
    expect(h.calls).toEqual(['t#1', 'a#1']);
    expect(h.merchantNotices).toHaveBeenCalledTimes(1);
    expect(h.callbacks).toEqual([
      expect.objectContaining({ type: 'tenant_sync.failed', data: expect.objectContaining({ instanceId: expect.any(String), tenantId: 'tenant-1', eventId: 'a', operation: 'applicationSync', call: 1 }) }),
    ]);
    // A decision naming another event's call is refused, and changes nothing.
    expect(await h.gateway.decide(h.workflowId, { action: 'retry', requestedBy: 'ops', reason: 'wrong one', eventId: 'u' })).toMatchObject({ kind: 'nothing-to-decide' });
    expect(await h.gateway.decide(h.workflowId, { action: 'retry', requestedBy: 'ops', reason: 'merchant fixed it' })).toEqual({ kind: 'decided', answer: { action: 'retry', eventId: 'a', call: 1 } });
    await h.eventually((s) => s.pendingEvents.length === 0 && s.step.name === 'idle');
    expect(await h.gateway.decide(h.workflowId, { action: 'retry', requestedBy: 'ops', reason: 'again' })).toEqual({ kind: 'nothing-to-decide', reason: 'no failed call is waiting for a decision' });
  });
  expect(h.calls).toEqual(['t#1', 'a#1', 'a#1', 'u#1', 'o#1']);
  await recordHistory(suite.client, h.workflowId, 'failure-held-until-retry', 'tenant-sync');
  expect(h.skips).not.toHaveBeenCalled();
});

test('when a failed call is skipped, then who and why are recorded, the next call goes on, and users of a skipped application keep waiting', async () => {
  const h = harness();
  await h.run(async () => {
    await h.send('t', 'tenant');
    h.failNext.add('a#1');
    await h.send('a', 'application', { appId: 'app-1' });
    await h.send('u', 'users', { appId: 'app-1', calls: 2 });
    await h.send('o', 'organization');
    await h.eventually((s) => s.blockedCall?.eventId === 'a');
    expect(await h.gateway.decide(h.workflowId, { action: 'skip', requestedBy: 'admin@buyer', reason: 'app withdrawn' })).toMatchObject({ kind: 'decided' });
    const after = await h.eventually((s) => s.step.name === 'waiting-for-dependency');
    expect(after.applications).toEqual([]);
    expect(after.pendingEvents).toEqual([{ eventId: 'u', kind: 'users', flag: 1, waitingFor: 'application app-1' }]);
    // A skipped call of a users event skips that call only.
    h.failNext.add('u#1');
    await h.send('a2', 'application', { appId: 'app-1' });
    await h.eventually((s) => s.blockedCall?.eventId === 'u');
    await h.gateway.decide(h.workflowId, { action: 'skip', requestedBy: 'ops', reason: 'bad users' });
    await h.eventually((s) => s.pendingEvents.length === 0 && s.step.name === 'idle');
  });
  expect(h.calls).toEqual(['t#1', 'a#1', 'o#1', 'a2#1', 'u#1', 'u#2']);
  await recordHistory(suite.client, h.workflowId, 'skip', 'tenant-sync');
  expect(h.skips.mock.calls).toEqual([
    [{ eventId: 'a', call: 0, requestedBy: 'admin@buyer', reason: 'app withdrawn' }],
    [{ eventId: 'u', call: 0, requestedBy: 'ops', reason: 'bad users' }],
  ]);
});

test('when the workflow continues as new while events are pending, then they are carried over and applied in order', async () => {
  const h = harness(1);
  await h.run(async () => {
    h.failNext.add('t1#1');
    await h.send('t1', 'tenant');
    await h.eventually((s) => s.blockedCall?.eventId === 't1');
    await h.send('a1', 'application', { appId: 'app-1' });
    await h.send('u1', 'users', { appId: 'app-1', calls: 2 });
    await h.send('u2', 'users', { appId: 'app-1' });
    await h.send('t1', 'tenant');
    await h.eventually((s) => s.pendingEvents.length === 3);
    await h.gateway.decide(h.workflowId, { action: 'retry', requestedBy: 'ops', reason: 'try again' });
    const done = await h.settled((s) => s.eventsApplied === 4 && s.pendingEvents.length === 0 && s.step.name === 'idle');
    // One run per applied event (threshold 1), the first included.
    expect(done.runs).toBe(5);
    expect(done.tenantExists).toBe(true);
    expect(done.applications).toEqual(['app-1']);
  });
  // The repeated t1 delivery was dropped (seen ids are carried too).
  expect(h.calls).toEqual(['t1#1', 't1#1', 'a1#1', 'u1#1', 'u1#2', 'u2#1']);
  await recordHistory(suite.client, h.workflowId, 'continue-as-new-with-pending', 'tenant-sync');
});

test('when the tenant is deleted and nothing is pending, then the workflow ends with its last state', async () => {
  const h = harness();
  await h.run(async () => {
    await h.send('t', 'tenant');
    await h.send('d', 'tenant', { flag: 0 });
    const result = await suite.client.workflow.getHandle(h.workflowId).result();
    expect(result).toMatchObject({ tenantExists: false, eventsApplied: 2, pendingEvents: [], step: { name: 'ended' } });
    expect(await h.gateway.decide(h.workflowId, { action: 'retry', requestedBy: 'ops', reason: 'too late' })).toEqual({ kind: 'ended' });
  });
  expect(h.calls).toEqual(['t#1', 'd#1']);
  await recordHistory(suite.client, h.workflowId, 'ends-after-tenant-delete', 'tenant-sync');
});
