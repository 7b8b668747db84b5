/**
 * Shared pieces of the workflow suites: the suite itself (a time-skipping server, one
 * workflow bundle per file, a worker per test), fake activities at the activity boundary
 * (jest mocks cannot reach into the workflow sandbox), orders and events dated on the
 * server's clock, readers of workflow histories, and the steps that move the clock.
 */
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities } from '../../src/activities';
import { connectTimeSkippingEnvironment, startTimeSkippingServer, type RunningTemporal } from '../../src/dev/temporal-servers';
import { PRODUCTION_POLICY } from '../../src/workflows/windows/policy';
import type {
  LifecycleSettings,
  OrderPaidEvent,
  OrderRenewedEvent,
  OrderUnsubscribedEvent,
  OrderUpgradedEvent,
  PaidOrder,
  SubscriptionSnapshot,
  ViolationEvent,
} from '../../src/workflows/subscription/messages';
import type { MerchantCallOutcome } from '../../src/protocol/outcome';
import type { QueryInstanceOutcome } from '../../src/activities/subscription/merchant-operations';
import type { AttemptContext } from '../../src/activities/subscription/records';
import { FulfillmentStatusAttribute } from '../../src/shared/search-attributes';
import { ensureSearchAttributes } from '../../src/platform/temporal/search-attributes';
import { createSubscriptionGateway, type SubscriptionGateway } from '../../src/api/subscription/gateway';
import { until } from './until';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

// ---- the suite -------------------------------------------------------------------------------

/** Workflow-suite logging: warnings and errors only. */
function quietRuntime(): void {
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

function bundle(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'), logger: quietLogger });
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

export interface WorkflowSuite {
  readonly env: TestWorkflowEnvironment;
  /** A plain client: awaiting a result through it does not unlock time skipping (see advanceTimers). */
  readonly client: Client;
  /** The workflows the running test started; the suite ends them after the test. */
  readonly started: string[];
  /** One test's subscription harness (see subscriptionHarness). */
  harness(lifecycle?: LifecycleSettings): SubscriptionHarness;
}

/**
 * Registers a workflow suite's hooks: before all, a time-skipping environment and the
 * workflow bundle; after each test, its workflows ended and the clock checked
 * (endTimeSkippingTest); after all, the environment closed. On the server the global setup
 * started, unless `ownServer` names a server of the suite's own (for its log file): a suite
 * that moves the clock weeks ahead needs one, since a test server's clock never goes back.
 */
export function workflowSuite(options: { ownServer?: string } = {}): WorkflowSuite {
  let env: TestWorkflowEnvironment | undefined;
  let client: Client | undefined;
  let workflowBundle: WorkflowBundleWithSourceMap | undefined;
  let server: RunningTemporal | undefined;
  const started: string[] = [];
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the workflow suite is used before its beforeAll ran');
    return value;
  };

  beforeAll(async () => {
    quietRuntime();
    if (options.ownServer) {
      server = await startTimeSkippingServer({ logFile: path.join(os.tmpdir(), `saas-fulfillment-${options.ownServer}-test-server.log`) });
      env = await lockedTimeSkippingEnv(server.address);
    } else {
      const address = process.env.TEST_TIME_SKIPPING_ADDRESS;
      if (!address) throw new Error('TEST_TIME_SKIPPING_ADDRESS is not set: run through jest so the global setup starts the server');
      env = await connectTimeSkippingEnvironment(address);
    }
    client = new Client({ connection: env.connection });
    workflowBundle = await bundle();
  });

  // A workflow left running would be the next thing the test server skips time to.
  afterEach(async () => {
    await endTimeSkippingTest(ready(env), ready(client), started.splice(0));
  });

  afterAll(async () => {
    await env?.teardown();
    await server?.stop();
  });

  return {
    get env() {
      return ready(env);
    },
    get client() {
      return ready(client);
    },
    started,
    harness: (lifecycle = TEST_LIFECYCLE) => subscriptionHarness({ env: ready(env), client: ready(client), workflowBundle: ready(workflowBundle), started }, lifecycle),
  };
}

// ---- fake activities -------------------------------------------------------------------------

export type FakeActivities = { [K in keyof Activities]: jest.Mock<ReturnType<Activities[K]>, Parameters<Activities[K]>> };

/** Activities that succeed by default; tests replace the merchant calls they script. */
export function fakeActivities(): FakeActivities {
  const fakes: FakeActivities = {
    // The real activity writes both rows in one transaction; the fake writes them through the two fakes tests read.
    activateInstance: jest.fn(async ({ instance, orderLine }) => {
      await fakes.saveInstance(instance);
      await fakes.updateOrderLine(orderLine);
    }),
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
    callKitSync: jest.fn(async (_call) => ({ ...outcome('success', 'tenantSync'), operation: 'tenantSync' as const })),
    recordKitCall: jest.fn(async (_record) => undefined),
    skipKitCall: jest.fn(async (_skip) => undefined),
    recordSupervisionStep: jest.fn(async (_step) => undefined),
    notifyAccountManager: jest.fn(async (_notification) => ({ notificationId: '3' })),
    computeSettlementScope: jest.fn(async (run) => ({ period: run.period, added: { order: 0, renewal: 0, upgrade: 0, refund: 0 }, statements: 0 })),
    statementPage: jest.fn(async (_page) => []),
    recordStatementStep: jest.fn(async (_record) => undefined),
    missingBusinessInfo: jest.fn(async (_merchantId) => []),
    issuePaymentRequest: jest.fn(async (statementNumber) => `SF-${statementNumber}`),
    invoiceDue: jest.fn(async (_statementNumber) => true),
    remindStatementStep: jest.fn(async (_reminder) => ({ notificationId: '4' })),
    // The exit (governance): a merchant with nothing blocking, no live subscription.
    beginExit: jest.fn(async (_start) => ({ merchantState: 'active' })),
    checkExitPreconditions: jest.fn(async (_merchantId) => ({ merchantState: 'exiting', productsToDelist: [], blocking: [] })),
    recordExitProgress: jest.fn(async (_progress) => undefined),
    delistProductsForExit: jest.fn(async (_actor) => []),
    setMerchantStateForExit: jest.fn(async (_change) => true),
    liveSubscriptions: jest.fn(async (_merchantId) => []),
    unreleasedSubscriptions: jest.fn(async (_workflowIds) => []),
    removeMerchant: jest.fn(async (_actor) => undefined),
    compileExitRecord: jest.fn(async (_record) => undefined),
    recordRefundRequested: jest.fn(async (_record) => ({ status: 'pending' as const })),
    recordRefundSteps: jest.fn(async (_record) => undefined),
    dialTestTargets: jest.fn(async (_page) => []),
    dialProduct: jest.fn(async (_run) => ({ passed: true, results: [] })),
    judgeDialTests: jest.fn(async (_run) => ({ passed: true, failedDays: 0, action: 'none' as const, productHidden: false, merchantFrozen: false })),
  };
  return fakes;
}

/**
 * What the worker runs: the fakes, with each merchant call given an attempt recording it the
 * way the real activity does (through the recordCallAttempt fake, so its calls are the
 * timeline whoever wrote it) and saying so. A test scripts the fakes as before.
 */
export function asRealActivities(fakes: FakeActivities): Activities {
  const recording = <C extends { attempt?: AttemptContext }, O extends MerchantCallOutcome>(fake: (call: C) => Promise<O>) =>
    async (call: C): Promise<O> => {
      const result = await fake(call);
      if (!call.attempt) return result;
      await fakes.recordCallAttempt({ ...call.attempt, outcome: result });
      return { ...result, attemptRecorded: true };
    };
  return {
    ...fakes,
    callNewInstance: recording(fakes.callNewInstance),
    callQueryInstance: recording(fakes.callQueryInstance),
    callRefreshInstance: recording(fakes.callRefreshInstance),
    callUpdateInstanceStatus: recording(fakes.callUpdateInstanceStatus),
    callReleaseInstance: recording(fakes.callReleaseInstance),
    callUpgradeInstance: recording(fakes.callUpgradeInstance),
    callChangeInstanceCheck: recording(fakes.callChangeInstanceCheck),
  };
}

export function outcome(kind: MerchantCallOutcome['kind'], activity: string, extra: Partial<MerchantCallOutcome> = {}): MerchantCallOutcome {
  const resultCode = kind === 'success' ? '000000' : kind === 'processing' ? '000004' : '000005';
  return { kind, activity, startedAtMs: Date.now(), latencyMs: 12, resultCode, ...extra };
}

export function queryOutcome(ready: boolean, kind: MerchantCallOutcome['kind'] = ready ? 'success' : 'processing'): QueryInstanceOutcome {
  return { ...outcome(kind, 'queryInstance'), ready };
}

/** The order-system callbacks sent, by type, in order. */
export const callbackTypes = (activities: FakeActivities): string[] => activities.notifyOrderSystem.mock.calls.map(([c]) => c.type);

// ---- orders and events -----------------------------------------------------------------------

let sequence = 0;
/** An order id unique in this process and across runs. */
const nextOrderId = (prefix: string): string => `${prefix}${Date.now().toString(36).toUpperCase()}${(sequence += 1)}`;

export function paidOrder(overrides: Partial<PaidOrder> = {}): PaidOrder {
  const orderId = nextOrderId('CS');
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
    expireTime: new Date(Date.now() + 30 * DAY_MS).toISOString(),
    trialFlag: false,
    customer: { customerId: 'customer-1', customerName: 'Example Ltd' },
    amount: '99.00',
    currency: 'CNY',
    retentionDays: 15,
    ...overrides,
  };
}

/** Production lifecycle settings (reminders 72 h and 24 h before a trial ends). */
export const TEST_LIFECYCLE: LifecycleSettings = { trialReminderLeadsMs: [72 * HOUR_MS, 24 * HOUR_MS], changeCheckDeadlineMs: 10_000, continueAsNewAfterEvents: 100 };

export function orderPaidEvent(env: TestWorkflowEnvironment, order: PaidOrder, eventId = `evt-${order.orderId}`, acceptedAtMs?: number): Promise<OrderPaidEvent> {
  return env.currentTimeMs().then((now) => ({ eventId, acceptedAtMs: acceptedAtMs ?? now, order }));
}

export const iso = (ms: number): string => new Date(ms).toISOString();

/** A monthly order expiring `expiresInMs` from now on the server's clock (30 days by default). */
export async function orderExpiringIn(env: TestWorkflowEnvironment, expiresInMs: number = 30 * DAY_MS, overrides: Partial<PaidOrder> = {}): Promise<PaidOrder> {
  return paidOrder({ expireTime: iso((await env.currentTimeMs()) + expiresInMs), ...overrides });
}

/** The same instant `months` calendar months later (UTC); day of month kept below 29 by the caller. */
export function plusMonths(isoTime: string, months: number): string {
  const d = new Date(isoTime);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.toISOString();
}

/** Later events, accepted now on the server's clock. */
export async function renewedEvent(env: TestWorkflowEnvironment, expireTime: string, extra: Partial<OrderRenewedEvent> = {}): Promise<OrderRenewedEvent> {
  const orderId = nextOrderId('RN');
  return {
    kind: 'order.renewed',
    eventId: `evt-${orderId}`,
    acceptedAtMs: await env.currentTimeMs(),
    scene: 'RENEWAL',
    orderId,
    orderLineId: `${orderId}-000001`,
    expireTime,
    ...extra,
  };
}

export async function upgradedEvent(env: TestWorkflowEnvironment, skuCode: string): Promise<OrderUpgradedEvent> {
  const orderId = nextOrderId('UP');
  return {
    kind: 'order.upgraded',
    eventId: `evt-${orderId}`,
    acceptedAtMs: await env.currentTimeMs(),
    orderId,
    orderLineId: `${orderId}-000001`,
    skuCode,
    amount: '50.00',
    currency: 'CNY',
  };
}

export async function unsubscribedEvent(env: TestWorkflowEnvironment): Promise<OrderUnsubscribedEvent> {
  const orderId = nextOrderId('UN');
  return { kind: 'order.unsubscribed', eventId: `evt-${orderId}`, acceptedAtMs: await env.currentTimeMs(), orderId, orderLineId: `${orderId}-000001` };
}

export async function violationEvent(env: TestWorkflowEnvironment, kind: ViolationEvent['kind']): Promise<ViolationEvent> {
  return { kind, eventId: `evt-${nextOrderId('VI')}`, acceptedAtMs: await env.currentTimeMs(), reason: 'content violation' };
}

export const operatorRestart = { requestedBy: 'operator@example.com', reason: 'merchant fixed the endpoint' };

// ---- histories -------------------------------------------------------------------------------

/** When an event happened, in server-time epoch ms. */
export const eventTimeMs = (event: HistoryEvent): number =>
  Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);

/** The events of a workflow's current run, or of the run given. */
export async function historyEvents(client: Client, workflowId: string, runId?: string): Promise<HistoryEvent[]> {
  return (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
}

/** Server times at which an activity of this type was scheduled. */
export function scheduledAt(events: HistoryEvent[], activityType: string): number[] {
  return events.filter((e) => activityTypeOf(e) === activityType).map(eventTimeMs);
}

/** The activity an event starts: a scheduled activity, or a local activity's marker (recorded when its task completed). */
function activityTypeOf(e: HistoryEvent): string | undefined {
  if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) return e.activityTaskScheduledEventAttributes?.activityType?.name ?? undefined;
  const marker = e.markerRecordedEventAttributes;
  const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0] : undefined;
  if (!data) return undefined;
  const decoded = decode(data) as { activity_type?: string; activityType?: string };
  return decoded.activity_type ?? decoded.activityType;
}

/** Local activities of a type, by their markers. */
export function localActivities(events: HistoryEvent[], activityType: string): HistoryEvent[] {
  return events.filter((e) => e.markerRecordedEventAttributes && activityTypeOf(e) === activityType);
}

/** Server time of the first signal of this name. */
export function signalledAt(events: HistoryEvent[], signalName: string): number | undefined {
  const signal = events.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === signalName);
  return signal ? eventTimeMs(signal) : undefined;
}

const decode = (payload: temporal.api.common.v1.IPayload): unknown => defaultPayloadConverter.fromPayload(payload as Parameters<typeof defaultPayloadConverter.fromPayload>[0]);

/**
 * The values the FulfillmentStatus search attribute took in this run, in order: the one the
 * workflow was started with, then each UpsertWorkflowSearchAttributes that set it (a value
 * written again while already in force is not a new entry).
 */
export function fulfillmentStatuses(events: HistoryEvent[]): string[] {
  const values: string[] = [];
  for (const e of events) {
    const fields = (e.workflowExecutionStartedEventAttributes ?? e.upsertWorkflowSearchAttributesEventAttributes)?.searchAttributes?.indexedFields;
    const payload = fields?.[FulfillmentStatusAttribute.name];
    if (!payload) continue;
    const decoded = decode(payload);
    const value = String(Array.isArray(decoded) ? decoded[0] : decoded);
    if (values[values.length - 1] !== value) values.push(value);
  }
  return values;
}

/** The change ids of the patch markers (`patched()`) in a history. */
export function patchIds(events: HistoryEvent[]): string[] {
  return events.flatMap((e) => {
    const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0];
    return data ? [(decode(data) as { id: string }).id] : [];
  });
}

const CLOSED = new Set([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

/** Where the current run stands by its history: closed, or what is in flight and the next timer due. */
type RunState = { closed: true } | { closed: false; busy: boolean; nextTimerMs?: number };

async function runState(client: Client, workflowId: string): Promise<RunState> {
  const events = await historyEvents(client, workflowId);
  const last = events[events.length - 1];
  if (!last || CLOSED.has(last.eventType ?? 0)) return { closed: true };
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
  return { closed: false, busy: workflowTaskOpen || activities.size > 0, nextTimerMs: timers.size ? Math.min(...timers.values()) : undefined };
}

/** Polls the history of the workflow's current run (real time) until `ready` holds. */
async function waitForRun(env: TestWorkflowEnvironment, workflowId: string, ready: (run: RunState) => boolean, what: string, timeoutMs: number): Promise<void> {
  await until(() => runState(env.client, workflowId), ready, { timeoutMs, intervalMs: 20, what: `workflow ${workflowId} ${what}` });
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

/** Waits (real time) until the subscription's status query satisfies `reached`. */
export function eventually(gateway: SubscriptionGateway, workflowId: string, reached: (s: SubscriptionSnapshot) => boolean): Promise<SubscriptionSnapshot> {
  return until(() => gateway.status(workflowId), reached, { intervalMs: 50, what: `status of ${workflowId} not reached` });
}

// ---- the clock -------------------------------------------------------------------------------

/** Real time a clock step may take at most, within jest's 120-second test timeout. */
const STEP_REAL_TIMEOUT_MS = 100_000;

/**
 * Fires the workflow's timers one at a time, and only while nothing else is in flight: when
 * its run is parked, the server's clock sleeps to the next timer (never past `endMs`); while
 * a task or an activity runs, it waits in real time. Stops when `done` holds, the run closes,
 * or (`atEnd: 'stop'`) the clock reaches `endMs`; with `atEnd: 'fail'`, reaching `endMs`, or
 * the run waiting for a message with no timer left to fire, is an error.
 */
async function stepTimers(
  env: TestWorkflowEnvironment,
  workflowId: string,
  options: { done: () => Promise<boolean> | boolean; endMs: number; atEnd: 'stop' | 'fail'; what: string },
): Promise<void> {
  const { done, endMs, atEnd, what } = options;
  await until(
    async () => {
      if (await done()) return true;
      const run = await runState(env.client, workflowId);
      if (run.closed) return true;
      if (run.busy) return false;
      const now = await env.currentTimeMs();
      if (now >= endMs) {
        if (atEnd === 'stop') return true;
        throw new Error(`${what} (server time ${iso(now)})`);
      }
      if (run.nextTimerMs === undefined && atEnd === 'fail') {
        // Parked on a message only: no timer will ever change anything.
        if (await done()) return true;
        throw new Error(`${what}: workflow ${workflowId} waits for a message and has no timer left to fire`);
      }
      await env.sleep(Math.max(1, Math.min(run.nextTimerMs ?? endMs, endMs) - now));
      return false;
    },
    (finished) => finished,
    { timeoutMs: STEP_REAL_TIMEOUT_MS, intervalMs: 20, what: `${what} (real time)` },
  );
}

/**
 * Moves server time forward one timer at a time, and only while nothing else is in flight,
 * until `done` holds or the workflow closes; fails when `limitMs` of server time has passed.
 *
 * Why not just await the result (auto-skipping)? The Java test server does not hold its
 * clock still while the TypeScript worker processes a workflow task: under auto-skipping
 * we saw it jump to a task's own 10-second timeout. Sleeping exactly to the next timer
 * while the workflow is parked is exact. (The test server also answers queries through
 * workflow tasks, so the last event is not always the timer.)
 */
export async function advanceTimers(env: TestWorkflowEnvironment, workflowId: string, done: () => Promise<boolean> | boolean, limitMs: number): Promise<void> {
  const endMs = (await env.currentTimeMs()) + limitMs;
  await stepTimers(env, workflowId, { done, endMs, atEnd: 'fail', what: `not done after ${limitMs} ms of server time` });
}

/**
 * Moves server time forward by exactly `ms`, firing the timers that fall due on the way one
 * at a time and only while the workflow is parked (as advanceTimers does), so a test can
 * stop in the middle of a long wait, e.g. on day 10 of a 15-day retention. Returns early
 * if the workflow closes.
 */
export async function advanceBy(env: TestWorkflowEnvironment, workflowId: string, ms: number): Promise<void> {
  const endMs = (await env.currentTimeMs()) + ms;
  await stepTimers(env, workflowId, { done: () => false, endMs, atEnd: 'stop', what: `clock not moved by ${ms} ms` });
}

/**
 * Ends a time-skipping test: terminates the workflows it left running, then proves the
 * server's clock still skips. The Java test server holds a time lock for every workflow task
 * and activity in flight; one that is never completed holds it for good, and every later test
 * on that server would then wait out its timers in real time and time out far from the cause.
 * Failing here names the test that left it.
 */
export async function endTimeSkippingTest(env: TestWorkflowEnvironment, client: Client, workflowIds: string[]): Promise<void> {
  await Promise.all(workflowIds.map((id) => client.workflow.getHandle(id).terminate('test finished').catch(() => undefined)));
  const probe = env.sleep(60_000).then(() => 'skipped' as const);
  const realLimit = new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 5_000).unref());
  if ((await Promise.race([probe, realLimit])) === 'stuck') {
    throw new Error(`the test server's clock no longer skips: a time lock was left held by ${workflowIds.join(', ') || 'an earlier test'}`);
  }
}

// ---- one test's subscriptions ----------------------------------------------------------------

export interface SubscriptionHarness {
  activities: FakeActivities;
  /** The test's own task queue, for starting other workflows (a supervision) beside its subscriptions. */
  taskQueue: string;
  gateway: SubscriptionGateway;
  /**
   * Runs `work` while a worker with the fake activities serves this test's task queue; the
   * worker stops once the test's workflows have nothing in flight.
   */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Delivers order.paid (accepted now on the server's clock, or at `acceptedAtMs`) and waits until the workflow took it in. */
  pay(order: PaidOrder, acceptedAtMs?: number): Promise<string>;
  /** Pays and waits until the instance is active. */
  provision(order: PaidOrder): Promise<string>;
  eventually(workflowId: string, reached: (s: SubscriptionSnapshot) => boolean): Promise<SubscriptionSnapshot>;
}

/**
 * One test's subscription harness: its own task queue (so a stray worker from another test
 * never picks up its tasks) and fake activities, the production policy, and the given
 * lifecycle settings. Started workflows are pushed on `started` so the suite can end them
 * after the test.
 */
function subscriptionHarness(
  ctx: { env: TestWorkflowEnvironment; client: Client; workflowBundle: WorkflowBundleWithSourceMap; started: string[] },
  lifecycle: LifecycleSettings,
): SubscriptionHarness {
  const taskQueue = `test-${(expect.getState().currentTestName ?? 'test').replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-${Date.now()}`;
  const activities = fakeActivities();
  const gateway = createSubscriptionGateway(ctx.client, { taskQueue, policy: PRODUCTION_POLICY, lifecycle });
  const wait: SubscriptionHarness['eventually'] = (workflowId, reached) => eventually(gateway, workflowId, reached);
  // The Java test server may skip time while the first task of a workflow started with
  // signal-with-start is still running, timing that task out; skipping time only after the
  // workflow has taken in its first event avoids it.
  const pay: SubscriptionHarness['pay'] = async (order, acceptedAtMs) => {
    const { workflowId } = await gateway.deliverOrderPaid(await orderPaidEvent(ctx.env, order, undefined, acceptedAtMs));
    ctx.started.push(workflowId);
    await wait(workflowId, (s) => s.status !== 'awaiting-order');
    return workflowId;
  };
  return {
    activities,
    taskQueue,
    gateway,
    run: async (work) =>
      (await Worker.create({ connection: ctx.env.nativeConnection, taskQueue, workflowBundle: ctx.workflowBundle, activities: asRealActivities(activities) })).runUntil(async () => {
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
