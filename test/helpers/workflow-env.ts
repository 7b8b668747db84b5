/**
 * Shared pieces of the workflow suites: the time-skipping environment on the server the
 * global setup started, one workflow bundle per file, and fake activities at the activity
 * boundary (jest mocks cannot reach into the workflow sandbox).
 */
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import { connectTimeSkippingEnvironment } from '../../src/dev/temporal-servers';
import { PRODUCTION_POLICY } from '../../src/workflows/windows/policy';
import type { LifecycleSettings, OrderPaidEvent, PaidOrder, SubscriptionSnapshot } from '../../src/workflows/subscription/messages';
import type { MerchantCallOutcome } from '../../src/protocol/outcome';
import type { QueryInstanceOutcome } from '../../src/activities/subscription/merchant-operations';
import { ensureSearchAttributes } from '../../src/platform/temporal/search-attributes';
import { createSubscriptionGateway, type SubscriptionGateway } from '../../src/api/subscription/gateway';

export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const address = process.env.TEST_TIME_SKIPPING_ADDRESS;
  if (!address) throw new Error('TEST_TIME_SKIPPING_ADDRESS is not set: run through jest so the global setup starts the server');
  return connectTimeSkippingEnvironment(address);
}

export async function bundle(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'), logger: quietLogger });
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

export type FakeActivities = { [K in keyof Activities]: jest.Mock<ReturnType<Activities[K]>, Parameters<Activities[K]>> };

/** Activities that succeed by default; tests replace the merchant calls they script. */
export function fakeActivities(): FakeActivities {
  return {
    callNewInstance: jest.fn(async (call) => outcome('success', 'newInstance', { instanceId: `inst-${call.orderId}` })),
    callQueryInstance: jest.fn(async (call) => ({ ...outcome('success', 'queryInstance', { instanceId: call.instanceId }), ready: true })),
    recordCallAttempt: jest.fn(async (_attempt) => undefined),
    updateOrderLine: jest.fn(async (_update) => undefined),
    saveInstance: jest.fn(async (_instance) => undefined),
    notifyMerchant: jest.fn(async (_notification) => ({ notificationId: '1', email: 'not-applicable' })),
    notifyOrderSystem: jest.fn(async (_callback) => 'delivered' as const),
    notifyCustomer: jest.fn(async (_notification) => ({ notificationId: '2', email: 'not-applicable' })),
    saveSubscriptionOrder: jest.fn(async (_order) => undefined),
    callRefreshInstance: jest.fn(async (call) => outcome('success', 'refreshInstance', { instanceId: call.instanceId })),
    callUpdateInstanceStatus: jest.fn(async (call) => outcome('success', 'updateInstanceStatus', { instanceId: call.instanceId })),
    callReleaseInstance: jest.fn(async (call) => outcome('success', 'releaseInstance', { instanceId: call.instanceId })),
    callUpgradeInstance: jest.fn(async (call) => outcome('success', 'upgradeInstance', { instanceId: call.instanceId })),
    callChangeInstanceCheck: jest.fn(async (call) => outcome('success', 'changeInstanceCheck', { instanceId: call.instanceId, resultMsg: 'ok' })),
  };
}

export function outcome(kind: MerchantCallOutcome['kind'], activity: string, extra: Partial<MerchantCallOutcome> = {}): MerchantCallOutcome {
  const resultCode = kind === 'success' ? '000000' : kind === 'processing' ? '000004' : '000005';
  return { kind, activity, startedAtMs: Date.now(), latencyMs: 12, resultCode, ...extra };
}

export function queryOutcome(ready: boolean, kind: MerchantCallOutcome['kind'] = ready ? 'success' : 'processing'): QueryInstanceOutcome {
  return { ...outcome(kind, 'queryInstance'), ready };
}

let sequence = 0;

export function paidOrder(overrides: Partial<PaidOrder> = {}): PaidOrder {
  sequence += 1;
  const orderId = `CS${Date.now().toString(36).toUpperCase()}${sequence}`;
  return {
    orderId,
    orderLineId: `${orderId}-000001`,
    orderType: 'NEW',
    merchantId: 'merchant-1',
    productId: 'product-1',
    skuCode: 'sku-basic',
    chargingMode: 'PERIOD',
    periodType: 'month',
    periodNumber: 1,
    expireTime: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    trialFlag: false,
    customer: { customerId: 'customer-1', customerName: 'Example Ltd' },
    amount: '99.00',
    currency: 'CNY',
    retentionDays: 15,
    ...overrides,
  };
}

/** Production lifecycle settings (reminders 72 h and 24 h before a trial ends). */
export const TEST_LIFECYCLE: LifecycleSettings = { trialReminderLeadsMs: [72 * 3_600_000, 24 * 3_600_000], changeCheckDeadlineMs: 10_000, continueAsNewAfterEvents: 100 };

export function orderPaidEvent(env: TestWorkflowEnvironment, order: PaidOrder, eventId = `evt-${order.orderId}`, acceptedAtMs?: number): Promise<OrderPaidEvent> {
  return env.currentTimeMs().then((now) => ({ eventId, acceptedAtMs: acceptedAtMs ?? now, order }));
}

export async function createWorker(env: TestWorkflowEnvironment, workflowBundle: WorkflowBundleWithSourceMap, taskQueue: string, activities: FakeActivities): Promise<Worker> {
  return Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities });
}

/** A task queue per test, so a stray worker from another test never picks up its tasks. */
export function taskQueueFor(testName: string): string {
  return `test-${testName.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-${Date.now()}`;
}

/** Workflow-suite logging: warnings and errors only. */
export function quietRuntime(): void {
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

/** When an event happened, in server-time epoch ms. */
export const eventTimeMs = (event: temporal.api.history.v1.IHistoryEvent): number =>
  Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);

/** The events of a workflow's current run, or of the run given. */
export async function historyEvents(client: Client, workflowId: string, runId?: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  return (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
}

const EventType = temporal.api.enums.v1.EventType;
const CLOSED = new Set([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

/** What a workflow's history says is in flight: open tasks and activities, pending timers. */
function inFlight(events: temporal.api.history.v1.IHistoryEvent[]): { busy: boolean; nextTimerMs?: number } {
  const activities = new Set<string>();
  const timers = new Map<string, number>();
  let workflowTaskOpen = false;
  for (const e of events) {
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        workflowTaskOpen = true;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
      case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
      case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        workflowTaskOpen = false;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        activities.add(String(e.eventId));
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
        const a = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes ?? e.activityTaskCanceledEventAttributes;
        activities.delete(String(a?.scheduledEventId));
        break;
      }
      case EventType.EVENT_TYPE_TIMER_STARTED: {
        const attrs = e.timerStartedEventAttributes;
        const timeout = attrs?.startToFireTimeout;
        timers.set(String(attrs?.timerId), eventTimeMs(e) + Number(timeout?.seconds ?? 0) * 1000 + Math.floor((timeout?.nanos ?? 0) / 1e6));
        break;
      }
      case EventType.EVENT_TYPE_TIMER_FIRED:
        timers.delete(String(e.timerFiredEventAttributes?.timerId));
        break;
      case EventType.EVENT_TYPE_TIMER_CANCELED:
        timers.delete(String(e.timerCanceledEventAttributes?.timerId));
        break;
    }
  }
  const busy = workflowTaskOpen || activities.size > 0;
  return { busy, nextTimerMs: timers.size ? Math.min(...timers.values()) : undefined };
}

/**
 * Moves server time forward one timer at a time, and only while nothing else is in flight,
 * until `done` holds or `limitMs` of server time has passed.
 *
 * Why not just await the result (auto-skipping)? The Java test server does not hold its
 * clock still while the TypeScript worker processes a workflow task: under auto-skipping
 * we saw it jump to a task's own 10-second timeout. Sleeping exactly to the next timer
 * while the workflow is parked is exact. (The test server also answers queries through
 * workflow tasks, so the last event is not always the timer.)
 */
export async function advanceTimers(
  env: TestWorkflowEnvironment,
  workflowId: string,
  done: () => Promise<boolean> | boolean,
  limitMs: number,
): Promise<void> {
  const startMs = await env.currentTimeMs();
  const handle = env.client.workflow.getHandle(workflowId);
  for (;;) {
    if (await done()) return;
    const events = (await handle.fetchHistory()).events ?? [];
    const last = events[events.length - 1];
    if (!last || CLOSED.has(last.eventType ?? 0)) return;
    const now = await env.currentTimeMs();
    if (now - startMs > limitMs) throw new Error(`not done after ${limitMs} ms of server time`);
    const state = inFlight(events);
    if (!state.busy && state.nextTimerMs !== undefined) {
      await env.sleep(Math.max(1, state.nextTimerMs - now));
    } else {
      // A task or activity is in flight, or the workflow waits for a message: real time.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Ends the workflows a test left running. */
export async function terminateAll(client: Client, workflowIds: string[]): Promise<void> {
  await Promise.all(
    workflowIds.map((id) => client.workflow.getHandle(id).terminate('test finished').catch(() => undefined)),
  );
}

/**
 * Ends a time-skipping test: terminates the workflows it left running, then proves the
 * server's clock still skips. The Java test server holds a time lock for every workflow task
 * and activity in flight; one that is never completed holds it for good, and every later test
 * on that server would then wait out its timers in real time and time out far from the cause.
 * Failing here names the test that left it.
 */
export async function endTimeSkippingTest(env: TestWorkflowEnvironment, client: Client, workflowIds: string[]): Promise<void> {
  await terminateAll(client, workflowIds);
  const probe = env.sleep(60_000).then(() => 'skipped' as const);
  const realLimit = new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 5_000).unref());
  if ((await Promise.race([probe, realLimit])) === 'stuck') {
    throw new Error(`the test server's clock no longer skips: a time lock was left held by ${workflowIds.join(', ') || 'an earlier test'}`);
  }
}

/**
 * Moves server time forward by exactly `ms`, firing the timers that fall due on the way one
 * at a time and only while the workflow is parked (as advanceTimers does), so a test can
 * stop in the middle of a long wait, e.g. on day 10 of a 15-day retention. Returns early
 * if the workflow closes.
 */
export async function advanceBy(env: TestWorkflowEnvironment, workflowId: string, ms: number): Promise<void> {
  const targetMs = (await env.currentTimeMs()) + ms;
  const handle = env.client.workflow.getHandle(workflowId);
  for (;;) {
    const events = (await handle.fetchHistory()).events ?? [];
    const last = events[events.length - 1];
    if (!last || CLOSED.has(last.eventType ?? 0)) return;
    const state = inFlight(events);
    if (state.busy) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      continue;
    }
    const now = await env.currentTimeMs();
    if (now >= targetMs) return;
    await env.sleep(Math.max(1, Math.min(state.nextTimerMs ?? targetMs, targetMs) - now));
  }
}

type RunState = { closed: true } | ({ closed: false } & ReturnType<typeof inFlight>);

/** Polls the history of the workflow's current run (real time) until `ready` holds. */
async function waitForRun(env: TestWorkflowEnvironment, workflowId: string, ready: (run: RunState) => boolean, what: string, timeoutMs: number): Promise<void> {
  const handle = env.client.workflow.getHandle(workflowId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = (await handle.fetchHistory()).events ?? [];
    const last = events[events.length - 1];
    const run: RunState = !last || CLOSED.has(last.eventType ?? 0) ? { closed: true } : { closed: false, ...inFlight(events) };
    if (ready(run)) return;
    if (Date.now() > deadline) throw new Error(`workflow ${workflowId} ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Waits (real time) until the workflow's current run is parked on a timer: no workflow task
 * and no activity in flight. Parked, it can be queried safely; on the Java test server a
 * query that races a continue-as-new can leave the old run's history without its close
 * event and the server's clock locked for good (every later env.sleep then takes real time).
 */
export function waitUntilParked(env: TestWorkflowEnvironment, workflowId: string, timeoutMs = 30_000): Promise<void> {
  return waitForRun(env, workflowId, (run) => !run.closed && !run.busy && run.nextTimerMs !== undefined, 'not parked on a timer', timeoutMs);
}

/**
 * Waits (real time) until no workflow task and no activity of the workflow's current run is
 * in flight, or the run has closed. A worker must not stop before: a task it took and never
 * completed keeps the Java test server's time lock, which a later terminate does not release.
 */
export function waitUntilQuiet(env: TestWorkflowEnvironment, workflowId: string, timeoutMs = 30_000): Promise<void> {
  return waitForRun(env, workflowId, (run) => run.closed || !run.busy, 'still has a task or activity in flight', timeoutMs);
}

/** Waits (real time) until the subscription's status query satisfies `until`. */
export async function eventually(gateway: SubscriptionGateway, workflowId: string, until: (s: SubscriptionSnapshot) => boolean): Promise<SubscriptionSnapshot> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const snapshot = await gateway.status(workflowId);
    if (until(snapshot)) return snapshot;
    if (Date.now() > deadline) throw new Error(`condition not reached; last status ${JSON.stringify(snapshot)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface SubscriptionHarness {
  activities: FakeActivities;
  gateway: SubscriptionGateway;
  /**
   * Runs `work` while a worker with the fake activities serves this test's task queue; the
   * worker stops once the test's workflows have nothing in flight.
   */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Delivers order.paid and waits until the workflow took it in. */
  pay(order: PaidOrder): Promise<string>;
  /** Pays and waits until the instance is active. */
  provision(order: PaidOrder): Promise<string>;
  eventually(workflowId: string, until: (s: SubscriptionSnapshot) => boolean): Promise<SubscriptionSnapshot>;
}

/**
 * One test's subscription harness: its own task queue and fake activities, the production
 * policy, and the given lifecycle settings. Started workflows are pushed on `started` so the
 * suite can end them after the test.
 */
export function subscriptionHarness(
  ctx: { env: TestWorkflowEnvironment; client: Client; workflowBundle: WorkflowBundleWithSourceMap; started: string[] },
  lifecycle: LifecycleSettings = TEST_LIFECYCLE,
): SubscriptionHarness {
  const taskQueue = taskQueueFor(expect.getState().currentTestName ?? 'test');
  const activities = fakeActivities();
  const gateway = createSubscriptionGateway(ctx.client, { taskQueue, policy: PRODUCTION_POLICY, lifecycle });
  const wait: SubscriptionHarness['eventually'] = (workflowId, until) => eventually(gateway, workflowId, until);
  // The Java test server may skip time while the first task of a workflow started with
  // signal-with-start is still running, timing that task out; skipping time only after the
  // workflow has taken in its first event avoids it.
  const pay: SubscriptionHarness['pay'] = async (order) => {
    const { workflowId } = await gateway.deliverOrderPaid(await orderPaidEvent(ctx.env, order));
    ctx.started.push(workflowId);
    await wait(workflowId, (s) => s.status !== 'awaiting-order');
    return workflowId;
  };
  return {
    activities,
    gateway,
    run: async (work) =>
      (await createWorker(ctx.env, ctx.workflowBundle, taskQueue, activities)).runUntil(async () => {
        const result = await work();
        // A status query can report the state the test waits for while the workflow task that
        // follows is still running; the worker must finish it before it stops (waitUntilQuiet).
        await Promise.all(ctx.started.map((id) => waitUntilQuiet(ctx.env, id)));
        return result;
      }),
    pay,
    provision: async (order) => {
      const workflowId = await pay(order);
      await wait(workflowId, (s) => s.status === 'active');
      return workflowId;
    },
    eventually: wait,
  };
}

/**
 * A time-skipping environment on a server, prepared as every suite expects it: our search
 * attributes registered, and the clock locked. The standalone server starts with its clock
 * unlocked and, with nothing else pending, would jump straight to the 10-year execution
 * timeout of any idle workflow; locked, time moves only when a suite asks for it.
 */
export async function lockedTimeSkippingEnv(address: string): Promise<TestWorkflowEnvironment> {
  const env = await connectTimeSkippingEnvironment(address);
  try {
    await ensureSearchAttributes(env.connection, 'default');
    await env.connection.testService?.lockTimeSkipping({});
    return env;
  } catch (error) {
    await env.teardown();
    throw error;
  }
}
