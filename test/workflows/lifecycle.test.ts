/**
 * The subscription's life after create, on the time-skipping server with the production
 * policy: renewals (1-hour window, then a manual restart) and their scenes, upgrades (3-hour
 * window, then refund), expiry → freeze → retention (up to 15 days) → release, orders that
 * never expire, violations, trial reminders and conversion, unsubscription, the change
 * check, and continue-as-new over a year of renewals. Expiry dates are real dates on the
 * server's clock.
 *
 * This suite moves the server's clock forward by more than a year, and a test server's
 * clock never goes back. On the server the global setup shares, every suite that runs later
 * would start in that future, while dates built from the real Date.now() (paidOrder's
 * default expiry, 30 days ahead) would already have passed: their subscriptions expire and
 * are released mid-test. So this suite gets a server of its own, prepared like the shared one.
 */
import { temporal } from '@temporalio/proto';
import { recordHistory } from '../helpers/histories';
import { OWN_ORDER_RENEWALS_NOT_REFUNDED } from '../../src/workflows/subscription/steps/refund-unapplied-orders';
import { until } from '../helpers/until';
import type { ChargingMode, LifecycleSettings, RenewalScene } from '../../src/workflows/subscription/messages';
import {
  advanceBy,
  advanceTimers,
  callbackTypes,
  DAY_MS,
  historyEvents,
  HOUR_MS,
  MINUTE_MS,
  orderExpiringIn,
  outcome,
  paidOrder,
  patchIds,
  plusMonths,
  renewedEvent,
  scheduledAt,
  TEST_LIFECYCLE,
  unsubscribedEvent,
  upgradedEvent,
  violationEvent,
  waitUntilParked,
  workflowSuite,
  type FakeActivities,
  type SubscriptionHarness,
} from '../helpers/workflow-env';

const EventType = temporal.api.enums.v1.EventType;

const suite = workflowSuite({ ownServer: 'lifecycle' });
const harness = (lifecycle: LifecycleSettings = TEST_LIFECYCLE): SubscriptionHarness => suite.harness(lifecycle);

const statuses = (activities: FakeActivities): string[] => activities.callUpdateInstanceStatus.mock.calls.map(([c]) => c.status);

// ---- renewals and continue-as-new ------------------------------------------------------------

test('when a year of monthly renewals arrives one by one, then each is applied and the history is cut by continue-as-new', async () => {
  const { activities, gateway, run, provision } = harness({ ...TEST_LIFECYCLE, continueAsNewAfterEvents: 3 });
  const base = new Date((await suite.env.currentTimeMs()) + 30 * DAY_MS);
  base.setUTCDate(Math.min(base.getUTCDate(), 28));
  const order = paidOrder({ expireTime: base.toISOString() });
  const expiries = Array.from({ length: 12 }, (_, i) => plusMonths(order.expireTime!, i + 1));

  const { workflowId, firstRunId, snapshot } = await run(async () => {
    const workflowId = await provision(order);
    const firstRunId = (await suite.client.workflow.getHandle(workflowId).describe()).runId;
    const applied: string[] = [];
    for (const [i, expireTime] of expiries.entries()) {
      await gateway.deliverLifecycleEvent(workflowId, await renewedEvent(suite.env, expireTime));
      // Wait on the fakes and the history, not the status query: on the Java test server a
      // query that races a continue-as-new can lose the old run's close event and leave the
      // server's clock locked for every later test. Parked, the workflow is safe to query.
      await until(async () => callbackTypes(activities).filter((t) => t === 'instance.renewed').length, (renewed) => renewed === i + 1);
      await waitUntilParked(suite.env, workflowId);
      applied.push((await gateway.status(workflowId)).expireTime ?? 'none');
    }
    expect(applied).toEqual(expiries);
    return { workflowId, firstRunId, snapshot: await gateway.status(workflowId) };
  });

  expect(activities.callRefreshInstance).toHaveBeenCalledTimes(12);
  expect(activities.callRefreshInstance.mock.calls.map(([c]) => [c.scene, c.expireTime])).toEqual(expiries.map((e) => ['RENEWAL', e]));
  expect(activities.callRefreshInstance).toHaveBeenCalledWith(expect.objectContaining({ instanceId: `inst-${order.orderId}`, merchantId: order.merchantId }));
  expect(snapshot).toMatchObject({ status: 'active', expireTime: expiries[11], instanceId: `inst-${order.orderId}`, pendingEvents: 0 });
  expect(snapshot.runs).toBeGreaterThanOrEqual(4);
  expect(activities.callNewInstance).toHaveBeenCalledTimes(1);

  // Follow the chain of runs from the first: each ended by continue-as-new, each short.
  const runLengths: number[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const events = await historyEvents(suite.client, workflowId, runId);
    runLengths.push(events.length);
    const last = events[events.length - 1];
    runId = last?.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
      ? last.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined
      : undefined;
  }
  const firstRun = await historyEvents(suite.client, workflowId, firstRunId);
  expect(firstRun[firstRun.length - 1]?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
  expect(runLengths.length).toBe(snapshot.runs);
  for (const length of runLengths) expect(length).toBeLessThan(300);
  await recordHistory(suite.client, workflowId, 'year-of-renewals');
});

test('when the same renewal is delivered twice, then the merchant is asked to refresh once', async () => {
  const { activities, gateway, run, provision, eventually } = harness();
  const order = await orderExpiringIn(suite.env);
  const first = plusMonths(order.expireTime!, 1);
  const second = plusMonths(order.expireTime!, 2);

  await run(async () => {
    const workflowId = await provision(order);
    const renewal = await renewedEvent(suite.env, first);
    await gateway.deliverLifecycleEvent(workflowId, renewal);
    await gateway.deliverLifecycleEvent(workflowId, { ...renewal, acceptedAtMs: await suite.env.currentTimeMs() });
    // A later, different renewal: once it is applied, the duplicate before it has been seen.
    await gateway.deliverLifecycleEvent(workflowId, await renewedEvent(suite.env, second));
    await eventually(workflowId, (s) => s.expireTime === second && s.step.name === 'active');
  });

  expect(activities.callRefreshInstance.mock.calls.map(([c]) => c.expireTime)).toEqual([first, second]);
  expect(callbackTypes(activities).filter((t) => t === 'instance.renewed')).toHaveLength(2);
});

test.each<{ scene: RenewalScene; months: number; productId?: string }>([
  // Two periods were bought; the second is cancelled, so the instance expires a month earlier.
  { scene: 'UNSUBSCRIBE_RENEWAL_PERIOD', months: -1 },
  // Monthly becomes yearly at renewal, under the yearly product.
  { scene: 'RENEWAL_CHANGE', months: 12, productId: 'product-1-yearly' },
])('when an order.renewed with scene $scene arrives, then refreshInstance carries the scene and the new expiry, and the instance expires then', async ({ scene, months, productId }) => {
  const { activities, gateway, run, provision, eventually } = harness();
  const order = await orderExpiringIn(suite.env, 60 * DAY_MS);
  const renewedTo = plusMonths(order.expireTime!, months);

  const { renewal, renewed, workflowId } = await run(async () => {
    const workflowId = await provision(order);
    const renewal = await renewedEvent(suite.env, renewedTo, { scene, productId });
    await gateway.deliverLifecycleEvent(workflowId, renewal);
    const renewed = await eventually(workflowId, (s) => s.step.name === 'active' && callbackTypes(activities).includes('instance.renewed'));
    const untilExpiry = Date.parse(renewedTo) - (await suite.env.currentTimeMs());
    await advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).step.name === 'retention', untilExpiry + DAY_MS);
    return { renewal, renewed, workflowId };
  });

  expect(activities.callRefreshInstance).toHaveBeenCalledTimes(1);
  const [refresh] = activities.callRefreshInstance.mock.calls[0]!;
  expect(refresh).toMatchObject({ instanceId: `inst-${order.orderId}`, scene, orderId: renewal.orderId, orderLineId: renewal.orderLineId, expireTime: renewedTo });
  expect(refresh.productId).toBe(productId);
  expect(renewed).toMatchObject({ status: 'active', expireTime: renewedTo });
  expect(activities.saveInstance).toHaveBeenCalledWith(expect.objectContaining({ status: 'active', expireTime: renewedTo, productId: productId ?? order.productId }));
  expect(activities.notifyOrderSystem).toHaveBeenCalledWith(
    expect.objectContaining({ type: 'instance.renewed', data: expect.objectContaining({ orderId: renewal.orderId, scene, expireTime: renewedTo }) }),
  );
  expect(activities.saveSubscriptionOrder.mock.calls.map(([o]) => [o.orderId, o.kind, o.scene, o.status])).toEqual([
    [renewal.orderId, 'renewal', scene, 'pending'],
    [renewal.orderId, 'renewal', scene, 'completed'],
  ]);
  // The clock follows the new expiry: frozen then, not at the order's first expiry.
  const [freezeAt] = scheduledAt(await historyEvents(suite.client, workflowId), 'callUpdateInstanceStatus');
  expect(freezeAt).toBeGreaterThanOrEqual(Date.parse(renewedTo));
  expect(freezeAt! - Date.parse(renewedTo)).toBeLessThan(MINUTE_MS);
  expect(statuses(activities)).toEqual(['FREEZE']);
});

test('when the merchant fails refreshInstance for the whole 1-hour window, then it waits for a restart, and a restart applies the renewal', async () => {
  const { activities, gateway, run, provision, eventually } = harness();
  activities.callRefreshInstance.mockResolvedValue(outcome('failure', 'refreshInstance', { httpStatus: 502, resultCode: undefined, error: 'HTTP 502' }));
  const order = await orderExpiringIn(suite.env);
  const renewedTo = plusMonths(order.expireTime!, 1);

  const { waiting, snapshot, renewal, workflowId } = await run(async () => {
    const workflowId = await provision(order);
    const renewal = await renewedEvent(suite.env, renewedTo);
    await gateway.deliverLifecycleEvent(workflowId, renewal);
    await advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).step.name === 'waiting-for-restart', HOUR_MS + 10 * MINUTE_MS);
    const waiting = await gateway.status(workflowId);
    activities.callRefreshInstance.mockImplementation(async (call) => outcome('success', 'refreshInstance', { instanceId: call.instanceId }));
    await gateway.restart(workflowId, { requestedBy: 'operator@example.com', reason: 'merchant fixed refreshInstance' });
    const snapshot = await eventually(workflowId, (s) => s.expireTime === renewedTo);
    return { waiting, snapshot, renewal, workflowId };
  });

  expect(waiting).toMatchObject({ status: 'active', expireTime: order.expireTime, step: { name: 'waiting-for-restart' } });
  expect(waiting.step.reason).toContain('refreshInstance failed for 60 minutes');
  const keys = activities.notifyMerchant.mock.calls.map(([n]) => n.idempotencyKey);
  expect(keys).toEqual([`${workflowId}:renewal:${renewal.eventId}:first-failure`, `${workflowId}:renewal:${renewal.eventId}:window-exhausted:1`]);
  expect(snapshot).toMatchObject({ status: 'active', expireTime: renewedTo });
  const failures = activities.callRefreshInstance.mock.calls.length - 1;
  expect(failures).toBeGreaterThanOrEqual(10);
  expect(activities.callRefreshInstance).toHaveBeenLastCalledWith(expect.objectContaining({ scene: 'RENEWAL', orderId: renewal.orderId, expireTime: renewedTo }));
  // No refund for a renewal: the order system hears only of the renewal itself.
  expect(callbackTypes(activities)).toEqual(['instance.provisioned', 'instance.renewed']);

  // The attempt after the restart opened a new window: it came after the first one ended.
  const events = await historyEvents(suite.client, workflowId);
  const refreshTimes = scheduledAt(events, 'callRefreshInstance');
  expect(refreshTimes).toHaveLength(activities.callRefreshInstance.mock.calls.length);
  expect(refreshTimes[refreshTimes.length - 1]! - renewal.acceptedAtMs).toBeGreaterThanOrEqual(HOUR_MS);
  // Inside the first window every attempt started before its end; the next one only after the restart.
  const beforeRestart = refreshTimes.slice(0, -1);
  expect(beforeRestart.filter((at) => at >= renewal.acceptedAtMs + HOUR_MS)).toEqual([]);
  await recordHistory(suite.client, workflowId, 'renewal-window-restart');
});

test('when a renewal arrives while the create is still backing off, then it is applied once, after the create', async () => {
  const { activities, gateway, run, pay, eventually } = harness();
  activities.callNewInstance
    .mockResolvedValueOnce(outcome('failure', 'newInstance', { error: 'HTTP 503', httpStatus: 503, resultCode: undefined }))
    .mockResolvedValueOnce(outcome('failure', 'newInstance', { resultCode: '000005', error: 'other internal service error' }))
    .mockResolvedValueOnce(outcome('failure', 'newInstance', { resultCode: '000005', error: 'other internal service error' }));
  const order = await orderExpiringIn(suite.env);
  const renewedTo = plusMonths(order.expireTime!, 1);

  const { renewal, snapshot, workflowId } = await run(async () => {
    const workflowId = await pay(order);
    await eventually(workflowId, (s) => s.step.name === 'backing-off');
    const renewal = await renewedEvent(suite.env, renewedTo);
    await gateway.deliverLifecycleEvent(workflowId, renewal);
    await eventually(workflowId, (s) => s.pendingEvents === 1 && s.status === 'provisioning');
    await advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).expireTime === renewedTo, 10 * MINUTE_MS);
    return { workflowId, renewal, snapshot: await eventually(workflowId, (s) => s.step.name === 'active') };
  });

  expect(snapshot).toMatchObject({ status: 'active', expireTime: renewedTo, pendingEvents: 0 });
  expect(activities.callNewInstance).toHaveBeenCalledTimes(4);
  expect(activities.callRefreshInstance).toHaveBeenCalledTimes(1);
  expect(activities.callRefreshInstance).toHaveBeenCalledWith(
    expect.objectContaining({ instanceId: `inst-${order.orderId}`, scene: 'RENEWAL', orderId: renewal.orderId, expireTime: renewedTo }),
  );
  const lastCreate = Math.max(...activities.callNewInstance.mock.invocationCallOrder);
  expect(activities.callRefreshInstance.mock.invocationCallOrder[0]).toBeGreaterThan(lastCreate);
  expect(callbackTypes(activities)).toEqual(['instance.provisioned', 'instance.renewed']);
  await recordHistory(suite.client, workflowId, 'renewal-during-create');
});

test('when the create fails for its whole window while a renewal waits, then the renewal order is refunded as well', async () => {
  const { activities, gateway, run, pay, eventually } = harness();
  activities.callNewInstance.mockResolvedValue(outcome('failure', 'newInstance', { resultCode: '000100', error: 'no instance resource' }));
  const order = await orderExpiringIn(suite.env);

  const { renewal, result, workflowId } = await run(async () => {
    const workflowId = await pay(order);
    await eventually(workflowId, (s) => s.step.name === 'backing-off');
    const renewal = await renewedEvent(suite.env, plusMonths(order.expireTime!, 1));
    await gateway.deliverLifecycleEvent(workflowId, renewal);
    await eventually(workflowId, (s) => s.pendingEvents === 1);
    await advanceTimers(suite.env, workflowId, () => false, 3 * HOUR_MS + 10 * MINUTE_MS);
    return { renewal, workflowId, result: await suite.client.workflow.getHandle(workflowId).result() };
  });

  expect(result).toMatchObject({ status: 'failed', pendingEvents: 0 });
  expect(activities.callRefreshInstance).not.toHaveBeenCalled();
  const refunds = activities.notifyOrderSystem.mock.calls.map(([c]) => c).filter((c) => c.type === 'order.unsubscribe_requested');
  expect(refunds.map((c) => c.data.orderId)).toEqual([order.orderId, renewal.orderId]);
  expect(refunds[1]!.data).toMatchObject({ orderLineId: renewal.orderLineId, refund: true, reason: expect.stringContaining('has no instance') });
  expect(activities.saveSubscriptionOrder).toHaveBeenLastCalledWith(expect.objectContaining({ orderId: renewal.orderId, kind: 'renewal', status: 'refunded' }));
  await recordHistory(suite.client, workflowId, 'refund-renewal-after-failed-create');
});

test("when the create fails for its whole window while its supervision's validity waits, then the order is refunded once: the validity names the order itself", async () => {
  const { activities, gateway, run, pay, eventually } = harness();
  activities.callNewInstance.mockResolvedValue(outcome('failure', 'newInstance', { resultCode: '000100', error: 'no instance resource' }));
  const order = await orderExpiringIn(suite.env);

  const { result, workflowId } = await run(async () => {
    const workflowId = await pay(order);
    await eventually(workflowId, (s) => s.step.name === 'backing-off');
    // Accepted while the create retries: the supervision hands the validity over as a renewal of the order itself.
    const validity = await renewedEvent(suite.env, plusMonths(order.expireTime!, 1), { orderId: order.orderId, orderLineId: order.orderLineId, eventId: `evt-validity-${order.orderId}` });
    await gateway.deliverLifecycleEvent(workflowId, validity);
    await eventually(workflowId, (s) => s.pendingEvents === 1);
    await advanceTimers(suite.env, workflowId, () => false, 3 * HOUR_MS + 10 * MINUTE_MS);
    return { workflowId, result: await suite.client.workflow.getHandle(workflowId).result() };
  });

  expect(result).toMatchObject({ status: 'failed', pendingEvents: 0 });
  const refunds = activities.notifyOrderSystem.mock.calls.map(([c]) => c).filter((c) => c.type === 'order.unsubscribe_requested');
  expect(refunds.map((c) => c.data.orderId)).toEqual([order.orderId]);
  expect(activities.saveSubscriptionOrder).not.toHaveBeenCalled();
  expect(patchIds(await historyEvents(suite.client, workflowId))).toContain(OWN_ORDER_RENEWALS_NOT_REFUNDED);
  await recordHistory(suite.client, workflowId, 'validity-not-refunded-after-failed-create');
});

test('when a renewal arrives while a release waits for a restart, then the release completes and the renewal order is refunded, not applied', async () => {
  const { activities, gateway, run, provision, eventually } = harness();
  activities.callReleaseInstance.mockResolvedValue(outcome('failure', 'releaseInstance', { httpStatus: 502, resultCode: undefined, error: 'HTTP 502' }));
  const order = await orderExpiringIn(suite.env);

  const { renewal, unsubscribe, result, workflowId } = await run(async () => {
    const workflowId = await provision(order);
    const unsubscribe = await unsubscribedEvent(suite.env);
    await gateway.deliverLifecycleEvent(workflowId, unsubscribe);
    await advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).step.name === 'waiting-for-restart', HOUR_MS + 10 * MINUTE_MS);
    const renewal = await renewedEvent(suite.env, plusMonths(order.expireTime!, 1));
    await gateway.deliverLifecycleEvent(workflowId, renewal);
    await eventually(workflowId, (s) => s.pendingEvents === 1);
    activities.callReleaseInstance.mockImplementation(async (call) => outcome('success', 'releaseInstance', { instanceId: call.instanceId }));
    await gateway.restart(workflowId, { requestedBy: 'operator@example.com', reason: 'merchant fixed releaseInstance' });
    return { renewal, unsubscribe, workflowId, result: await suite.client.workflow.getHandle(workflowId).result() };
  });

  expect(result).toMatchObject({ status: 'released', pendingEvents: 0 });
  expect(activities.callReleaseInstance).toHaveBeenLastCalledWith(expect.objectContaining({ orderId: unsubscribe.orderId }));
  expect(activities.callRefreshInstance).not.toHaveBeenCalled();
  expect(callbackTypes(activities)).toEqual(['instance.provisioned', 'instance.released', 'order.unsubscribe_requested']);
  expect(activities.notifyOrderSystem.mock.calls[2]![0].data).toMatchObject({
    orderId: renewal.orderId,
    refund: true,
    reason: `instance inst-${order.orderId} was released before renewal order ${renewal.orderId} could be applied`,
  });
  await recordHistory(suite.client, workflowId, 'refund-renewal-after-release');
});

// ---- expiry, retention, release ----------------------------------------------------------------

test('when an order expires unrenewed, then it is frozen at expiry and released after the 15-day retention', async () => {
  const { activities, run, provision } = harness();
  const order = await orderExpiringIn(suite.env, DAY_MS, { retentionDays: 15 });

  const { result, workflowId } = await run(async () => {
    const workflowId = await provision(order);
    await advanceTimers(suite.env, workflowId, () => false, 17 * DAY_MS);
    return { workflowId, result: await suite.client.workflow.getHandle(workflowId).result() };
  });

  expect(result).toMatchObject({ status: 'released', step: { name: 'released' }, frozenBy: [] });
  expect(activities.callUpdateInstanceStatus).toHaveBeenCalledTimes(1);
  expect(activities.callUpdateInstanceStatus).toHaveBeenCalledWith(expect.objectContaining({ instanceId: `inst-${order.orderId}`, status: 'FREEZE' }));
  expect(activities.callReleaseInstance).toHaveBeenCalledTimes(1);
  const [releaseCall] = activities.callReleaseInstance.mock.calls[0]!;
  expect(releaseCall).toMatchObject({ instanceId: `inst-${order.orderId}`, merchantId: order.merchantId });
  expect(releaseCall.orderId).toBeUndefined();
  expect(releaseCall.orderLineId).toBeUndefined();
  expect(callbackTypes(activities)).toEqual(['instance.provisioned', 'instance.frozen', 'instance.released']);
  expect(activities.notifyOrderSystem).toHaveBeenLastCalledWith(expect.objectContaining({ type: 'instance.released', data: expect.objectContaining({ cause: 'retention-ended' }) }));
  expect(activities.updateOrderLine).toHaveBeenLastCalledWith(expect.objectContaining({ orderId: order.orderId, status: 'released' }));
  expect(activities.saveInstance).toHaveBeenLastCalledWith(expect.objectContaining({ status: 'released' }));

  const events = await historyEvents(suite.client, workflowId);
  expect(events[events.length - 1]?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
  const [freezeAt] = scheduledAt(events, 'callUpdateInstanceStatus');
  const [releaseAt] = scheduledAt(events, 'callReleaseInstance');
  expect(freezeAt).toBeGreaterThanOrEqual(Date.parse(order.expireTime!));
  expect(freezeAt! - Date.parse(order.expireTime!)).toBeLessThan(MINUTE_MS);
  expect(releaseAt! - freezeAt!).toBeGreaterThanOrEqual(15 * DAY_MS - MINUTE_MS);
  expect(releaseAt! - Date.parse(order.expireTime!)).toBeGreaterThanOrEqual(15 * DAY_MS);
  await recordHistory(suite.client, workflowId, 'expiry-retention-release');
});

test.each<ChargingMode>(['ONE_TIME', 'ON_DEMAND', 'ON_DEMAND_PKG'])('when an order charged %s carries an expireTime, then it is never frozen or released by the clock', async (chargingMode) => {
  const { activities, gateway, run, provision } = harness();
  const order = await orderExpiringIn(suite.env, DAY_MS, { chargingMode, periodType: undefined, periodNumber: undefined, retentionDays: 15 });

  const { later, workflowId } = await run(async () => {
    const workflowId = await provision(order);
    // Past the expiry and the whole retention period after it.
    await advanceBy(suite.env, workflowId, DAY_MS + 15 * DAY_MS + DAY_MS);
    return { workflowId, later: await gateway.status(workflowId) };
  });

  expect(later).toMatchObject({ status: 'active', frozenBy: [], step: { name: 'active' } });
  expect(later.expireTime).toBeUndefined();
  expect(activities.callUpdateInstanceStatus).not.toHaveBeenCalled();
  expect(activities.callReleaseInstance).not.toHaveBeenCalled();
  expect(callbackTypes(activities)).toEqual(['instance.provisioned']);
  const events = await historyEvents(suite.client, workflowId);
  expect(patchIds(events)).toContain('only-periodic-orders-expire');
  expect(events.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)).toBe(false);
  if (chargingMode === 'ONE_TIME') await recordHistory(suite.client, workflowId, 'one-time-never-expires');
});

test('when a renewal arrives on day 10 of retention, then the instance is unfrozen, refreshed and never released', async () => {
  const { activities, gateway, run, provision, eventually } = harness();
  const order = await orderExpiringIn(suite.env, DAY_MS, { retentionDays: 15 });
  const renewedTo = plusMonths(order.expireTime!, 1);

  const { frozen, renewed, later, renewal, workflowId } = await run(async () => {
    const workflowId = await provision(order);
    await advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).step.name === 'retention', 2 * DAY_MS);
    const frozen = await gateway.status(workflowId);
    await advanceBy(suite.env, workflowId, 10 * DAY_MS);
    const renewal = await renewedEvent(suite.env, renewedTo);
    await gateway.deliverLifecycleEvent(workflowId, renewal);
    const renewed = await eventually(workflowId, (s) => s.expireTime === renewedTo && s.step.name === 'active');
    await advanceBy(suite.env, workflowId, 10 * DAY_MS);
    return { workflowId, frozen, renewed, later: await gateway.status(workflowId), renewal };
  });

  expect(frozen).toMatchObject({ status: 'frozen', frozenBy: ['expiry'], step: { name: 'retention' } });
  expect(renewal.acceptedAtMs - Date.parse(order.expireTime!)).toBeGreaterThanOrEqual(10 * DAY_MS);
  expect(statuses(activities)).toEqual(['FREEZE', 'UNFREEZE']);
  const unfreezeOrder = activities.callUpdateInstanceStatus.mock.invocationCallOrder[1]!;
  expect(activities.callRefreshInstance.mock.invocationCallOrder[0]).toBeGreaterThan(unfreezeOrder);
  expect(activities.callRefreshInstance).toHaveBeenCalledTimes(1);
  expect(activities.callRefreshInstance).toHaveBeenCalledWith(expect.objectContaining({ scene: 'RENEWAL', orderId: renewal.orderId, expireTime: renewedTo }));
  expect(renewed).toMatchObject({ status: 'active', frozenBy: [], expireTime: renewedTo });
  expect(later).toMatchObject({ status: 'active', frozenBy: [], expireTime: renewedTo, step: { name: 'active' } });
  expect(activities.callReleaseInstance).not.toHaveBeenCalled();
  expect(callbackTypes(activities)).toEqual(['instance.provisioned', 'instance.frozen', 'instance.unfrozen', 'instance.renewed']);
  await recordHistory(suite.client, workflowId, 'renewal-in-retention');
});

test('when the order is unsubscribed, then the instance is released naming the unsubscribe order and the workflow ends', async () => {
  const { activities, gateway, run, provision } = harness();
  const order = await orderExpiringIn(suite.env);

  const { result, unsubscribe, workflowId } = await run(async () => {
    const workflowId = await provision(order);
    const unsubscribe = await unsubscribedEvent(suite.env);
    await gateway.deliverLifecycleEvent(workflowId, unsubscribe);
    return { workflowId, unsubscribe, result: await suite.client.workflow.getHandle(workflowId).result() };
  });

  expect(result).toMatchObject({ status: 'released', step: { name: 'released', reason: 'unsubscribed' } });
  expect(activities.callReleaseInstance).toHaveBeenCalledTimes(1);
  expect(activities.callReleaseInstance).toHaveBeenCalledWith(
    expect.objectContaining({ instanceId: `inst-${order.orderId}`, orderId: unsubscribe.orderId, orderLineId: unsubscribe.orderLineId }),
  );
  expect(activities.callUpdateInstanceStatus).not.toHaveBeenCalled();
  expect(activities.notifyOrderSystem).toHaveBeenLastCalledWith(
    expect.objectContaining({ type: 'instance.released', data: expect.objectContaining({ cause: 'unsubscribed', orderId: unsubscribe.orderId }) }),
  );
  expect(activities.saveSubscriptionOrder).toHaveBeenCalledWith(expect.objectContaining({ orderId: unsubscribe.orderId, kind: 'unsubscribe', status: 'completed' }));
  await recordHistory(suite.client, workflowId, 'unsubscribe');
});

// ---- violations --------------------------------------------------------------------------------

test('when a violation is reported and later lifted, then the instance is frozen and unfrozen', async () => {
  const { activities, gateway, run, provision, eventually } = harness();
  const order = await orderExpiringIn(suite.env);

  const { frozen, lifted, workflowId } = await run(async () => {
    const workflowId = await provision(order);
    await gateway.deliverLifecycleEvent(workflowId, await violationEvent(suite.env, 'instance.violation'));
    const frozen = await eventually(workflowId, (s) => s.step.name === 'frozen-for-violation');
    await gateway.deliverLifecycleEvent(workflowId, await violationEvent(suite.env, 'instance.violation_lifted'));
    const lifted = await eventually(workflowId, (s) => s.status === 'active' && s.step.name === 'active');
    return { workflowId, frozen, lifted };
  });

  expect(frozen).toMatchObject({ status: 'frozen', frozenBy: ['violation'] });
  expect(lifted).toMatchObject({ status: 'active', frozenBy: [], expireTime: order.expireTime });
  expect(activities.callUpdateInstanceStatus.mock.calls.map(([c]) => [c.instanceId, c.status])).toEqual([
    [`inst-${order.orderId}`, 'FREEZE'],
    [`inst-${order.orderId}`, 'UNFREEZE'],
  ]);
  expect(callbackTypes(activities)).toEqual(['instance.provisioned', 'instance.frozen', 'instance.unfrozen']);
  expect(activities.callReleaseInstance).not.toHaveBeenCalled();
  await recordHistory(suite.client, workflowId, 'violation');
});

test('when a violation is lifted during expiry retention, then the instance stays frozen for the expiry and is still released on time', async () => {
  const { activities, gateway, run, provision, eventually } = harness();
  const order = await orderExpiringIn(suite.env, DAY_MS, { retentionDays: 15 });

  const { both, lifted, result, workflowId } = await run(async () => {
    const workflowId = await provision(order);
    await advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).step.name === 'retention', 2 * DAY_MS);
    await gateway.deliverLifecycleEvent(workflowId, await violationEvent(suite.env, 'instance.violation'));
    const both = await eventually(workflowId, (s) => (s.frozenBy ?? []).length === 2);
    await gateway.deliverLifecycleEvent(workflowId, await violationEvent(suite.env, 'instance.violation_lifted'));
    const lifted = await eventually(workflowId, (s) => s.frozenBy?.join() === 'expiry' && s.step.name === 'retention');
    await advanceTimers(suite.env, workflowId, () => false, 16 * DAY_MS);
    return { both, lifted, workflowId, result: await suite.client.workflow.getHandle(workflowId).result() };
  });

  expect(both).toMatchObject({ status: 'frozen', frozenBy: ['expiry', 'violation'] });
  expect(lifted).toMatchObject({ status: 'frozen', frozenBy: ['expiry'] });
  // Only the expiry froze the instance at the merchant; nothing unfroze it.
  expect(statuses(activities)).toEqual(['FREEZE']);
  expect(result.status).toBe('released');
  expect(activities.callReleaseInstance).toHaveBeenCalledTimes(1);
  const events = await historyEvents(suite.client, workflowId);
  expect(scheduledAt(events, 'callReleaseInstance')[0]! - Date.parse(order.expireTime!)).toBeGreaterThanOrEqual(15 * DAY_MS);
});

// ---- upgrades ----------------------------------------------------------------------------------

test('when the merchant applies an upgrade, then the new SKU is in force and the order system is told', async () => {
  const { activities, gateway, run, provision, eventually } = harness();
  const order = await orderExpiringIn(suite.env);

  const { upgrade, snapshot } = await run(async () => {
    const workflowId = await provision(order);
    const upgrade = await upgradedEvent(suite.env, 'sku-pro');
    await gateway.deliverLifecycleEvent(workflowId, upgrade);
    return { upgrade, snapshot: await eventually(workflowId, (s) => s.skuCode === 'sku-pro' && s.step.name === 'active') };
  });

  expect(snapshot).toMatchObject({ status: 'active', skuCode: 'sku-pro', instanceId: `inst-${order.orderId}` });
  expect(activities.callUpgradeInstance).toHaveBeenCalledTimes(1);
  expect(activities.callUpgradeInstance).toHaveBeenCalledWith(
    expect.objectContaining({ instanceId: `inst-${order.orderId}`, orderId: upgrade.orderId, orderLineId: upgrade.orderLineId }),
  );
  expect(activities.notifyOrderSystem).toHaveBeenLastCalledWith(
    expect.objectContaining({ type: 'instance.upgraded', data: expect.objectContaining({ orderId: upgrade.orderId, skuCode: 'sku-pro' }) }),
  );
  expect(activities.saveInstance).toHaveBeenLastCalledWith(expect.objectContaining({ skuCode: 'sku-pro', status: 'active' }));
  expect(activities.saveSubscriptionOrder.mock.calls.map(([o]) => [o.orderId, o.kind, o.status])).toEqual([
    [upgrade.orderId, 'upgrade', 'pending'],
    [upgrade.orderId, 'upgrade', 'completed'],
  ]);
});

test('when an upgrade waited 4 hours behind a renewal held for a restart, then it still gets its whole window', async () => {
  const { activities, gateway, run, provision, eventually } = harness();
  activities.callRefreshInstance.mockResolvedValue(outcome('failure', 'refreshInstance', { httpStatus: 502, resultCode: undefined, error: 'HTTP 502' }));
  activities.callUpgradeInstance.mockResolvedValueOnce(outcome('failure', 'upgradeInstance', { resultCode: '000005', error: 'busy' }));
  const order = await orderExpiringIn(suite.env);

  const { snapshot, workflowId } = await run(async () => {
    const workflowId = await provision(order);
    await gateway.deliverLifecycleEvent(workflowId, await renewedEvent(suite.env, plusMonths(order.expireTime!, 1)));
    await advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).step.name === 'waiting-for-restart', HOUR_MS + 10 * MINUTE_MS);
    await gateway.deliverLifecycleEvent(workflowId, await upgradedEvent(suite.env, 'sku-pro'));
    await eventually(workflowId, (s) => s.pendingEvents === 1);
    await advanceBy(suite.env, workflowId, 4 * HOUR_MS);
    activities.callRefreshInstance.mockImplementation(async (call) => outcome('success', 'refreshInstance', { instanceId: call.instanceId }));
    await gateway.restart(workflowId, { requestedBy: 'operator@example.com', reason: 'merchant fixed refreshInstance' });
    await advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).skuCode === 'sku-pro', 10 * MINUTE_MS);
    return { workflowId, snapshot: await eventually(workflowId, (s) => s.pendingEvents === 0 && s.skuCode === 'sku-pro') };
  });

  // Measured from its acceptance the upgrade's window had closed before its first attempt;
  // from the moment it was taken up, the failure was retried and the upgrade applied.
  expect(snapshot).toMatchObject({ status: 'active', skuCode: 'sku-pro' });
  expect(activities.callUpgradeInstance).toHaveBeenCalledTimes(2);
  expect(callbackTypes(activities)).toEqual(['instance.provisioned', 'instance.renewed', 'instance.upgraded']);
  await recordHistory(suite.client, workflowId, 'upgrade-after-held-renewal');
});

test('when the merchant fails an upgrade for the whole 3-hour window, then the upgrade order is refunded and the old SKU stays', async () => {
  const { activities, gateway, run, provision } = harness();
  activities.callUpgradeInstance.mockResolvedValue(outcome('failure', 'upgradeInstance', { resultCode: '000005', error: 'other internal service error' }));
  const order = await orderExpiringIn(suite.env);

  const { upgrade, snapshot, workflowId } = await run(async () => {
    const workflowId = await provision(order);
    const upgrade = await upgradedEvent(suite.env, 'sku-pro');
    await gateway.deliverLifecycleEvent(workflowId, upgrade);
    await advanceTimers(
      suite.env,
      workflowId,
      async () => activities.saveSubscriptionOrder.mock.calls.some(([o]) => o.status === 'refunded') && (await gateway.status(workflowId)).step.name === 'active',
      3 * HOUR_MS + 10 * MINUTE_MS,
    );
    return { upgrade, workflowId, snapshot: await gateway.status(workflowId) };
  });

  expect(snapshot).toMatchObject({ status: 'active', skuCode: order.skuCode });
  expect(activities.saveSubscriptionOrder.mock.calls.map(([o]) => [o.orderId, o.kind, o.status])).toEqual([
    [upgrade.orderId, 'upgrade', 'pending'],
    [upgrade.orderId, 'upgrade', 'failed'],
    [upgrade.orderId, 'upgrade', 'refunded'],
  ]);
  const refunds = activities.notifyOrderSystem.mock.calls.filter(([c]) => c.type === 'order.unsubscribe_requested');
  expect(refunds).toHaveLength(1);
  expect(refunds[0]![0].data).toMatchObject({ orderId: upgrade.orderId, orderLineId: upgrade.orderLineId, refund: true, amount: '50.00', currency: 'CNY' });
  expect(refunds[0]![0].data.orderId).not.toBe(order.orderId);
  expect(activities.saveInstance).toHaveBeenLastCalledWith(expect.objectContaining({ skuCode: order.skuCode }));
  expect(activities.notifyMerchant.mock.calls.map(([n]) => n.idempotencyKey.split(':').pop())).toEqual(['first-failure', 'failed']);
  expect(activities.callUpgradeInstance.mock.calls.length).toBeGreaterThanOrEqual(20);

  const events = await historyEvents(suite.client, workflowId);
  const attempts = scheduledAt(events, 'callUpgradeInstance');
  expect(attempts).toHaveLength(activities.callUpgradeInstance.mock.calls.length);
  // Attempts went on until the end of the window, and none started after it.
  expect(Math.max(...attempts)).toBeGreaterThan(upgrade.acceptedAtMs + 3 * HOUR_MS - 15 * MINUTE_MS);
  expect(attempts.filter((at) => at >= upgrade.acceptedAtMs + 3 * HOUR_MS)).toEqual([]);
  await recordHistory(suite.client, workflowId, 'upgrade-refunded');
});

// ---- change check ------------------------------------------------------------------------------

const changeRequest = { eventId: 'chk-1', productId: 'product-1-yearly', skuCode: 'sku-small', productName: 'Example SaaS (small)' };

test('when the merchant allows or refuses a change, then the check answers with the merchant\'s reason', async () => {
  const { activities, gateway, run, provision } = harness();
  activities.callChangeInstanceCheck
    .mockResolvedValueOnce(outcome('success', 'changeInstanceCheck', { resultMsg: 'ok' }))
    .mockResolvedValueOnce(outcome('failure', 'changeInstanceCheck', { resultCode: '000002', resultMsg: 'current usage exceeds the target size' }));
  const order = await orderExpiringIn(suite.env);

  const { allowed, refused } = await run(async () => {
    const workflowId = await provision(order);
    const allowed = await gateway.checkChange(workflowId, changeRequest);
    const refused = await gateway.checkChange(workflowId, { ...changeRequest, eventId: 'chk-2' });
    return { allowed, refused };
  });

  expect(allowed).toMatchObject({ allowed: true });
  expect(refused).toMatchObject({ allowed: false, resultCode: '000002' });
  expect(refused.reason).toContain('current usage exceeds the target size');
  expect(activities.callChangeInstanceCheck).toHaveBeenCalledWith(
    expect.objectContaining({
      instanceId: `inst-${order.orderId}`,
      productInfo: { productId: changeRequest.productId, skuCode: changeRequest.skuCode, productName: changeRequest.productName },
    }),
  );
  // Asking changes nothing.
  expect(activities.callRefreshInstance).not.toHaveBeenCalled();
  expect(activities.callUpgradeInstance).not.toHaveBeenCalled();
});

test('when the merchant does not answer the change check before the deadline, then the answer is a refusal', async () => {
  const { activities, gateway, run, provision } = harness({ ...TEST_LIFECYCLE, changeCheckDeadlineMs: 1_000 });
  let answer: () => void = () => undefined;
  const hanging = new Promise<void>((resolve) => (answer = resolve));
  activities.callChangeInstanceCheck
    // Never answers in time (released at the end, so the worker can shut down).
    .mockImplementationOnce(async (call) => {
      await hanging;
      return outcome('success', 'changeInstanceCheck', { instanceId: call.instanceId });
    })
    // The HTTP suite.client's own 5-second timeout: a failure without a result code.
    .mockResolvedValueOnce(outcome('failure', 'changeInstanceCheck', { resultCode: undefined, error: 'no answer within 5000 ms' }));
  const order = await orderExpiringIn(suite.env);

  const { silent, timedOut, after } = await run(async () => {
    const workflowId = await provision(order);
    try {
      const silent = await gateway.checkChange(workflowId, changeRequest);
      const timedOut = await gateway.checkChange(workflowId, { ...changeRequest, eventId: 'chk-2' });
      return { silent, timedOut, after: await gateway.status(workflowId) };
    } finally {
      answer();
    }
  });

  expect(silent.allowed).toBe(false);
  expect(silent.reason).toMatch(/^refused: merchant did not answer/);
  expect(timedOut.allowed).toBe(false);
  expect(timedOut.reason).toMatch(/^refused: merchant did not answer/);
  expect(timedOut.reason).toContain('no answer within 5000 ms');
  expect(after).toMatchObject({ status: 'active', step: { name: 'active' } });
});

// ---- trials ------------------------------------------------------------------------------------

test('when a trial is converted after both reminders, then it is refreshed as TRIAL_TO_FORMAL and not released at the old trial end', async () => {
  const { activities, gateway, run, provision, eventually } = harness();
  const order = await orderExpiringIn(suite.env, 7 * DAY_MS, { trialFlag: true, amount: '0.00' });
  const trialEndMs = Date.parse(order.expireTime!);
  const formalUntil = plusMonths(order.expireTime!, 1);

  const { workflowId, converted, later, conversion } = await run(async () => {
    const workflowId = await provision(order);
    await advanceTimers(suite.env, workflowId, () => activities.notifyMerchant.mock.calls.length >= 2 && activities.notifyCustomer.mock.calls.length >= 2, 7 * DAY_MS);
    const conversion = await renewedEvent(suite.env, formalUntil, { scene: 'TRIAL_TO_FORMAL' });
    await gateway.deliverLifecycleEvent(workflowId, conversion);
    const converted = await eventually(workflowId, (s) => s.expireTime === formalUntil && s.step.name === 'active');
    const remaining = trialEndMs - (await suite.env.currentTimeMs());
    await advanceBy(suite.env, workflowId, remaining + 2 * DAY_MS);
    return { workflowId, converted, conversion, later: await gateway.status(workflowId) };
  });

  expect(activities.notifyCustomer).toHaveBeenCalledTimes(2);
  expect(activities.notifyMerchant).toHaveBeenCalledTimes(2);
  const customerKeys = activities.notifyCustomer.mock.calls.map(([n]) => n.idempotencyKey);
  const merchantKeys = activities.notifyMerchant.mock.calls.map(([n]) => n.idempotencyKey);
  expect(new Set([...customerKeys, ...merchantKeys]).size).toBe(4);
  expect(activities.notifyCustomer).toHaveBeenCalledWith(expect.objectContaining({ customerId: order.customer.customerId }));
  // 72 h and 24 h before the end of the trial, on the server's clock.
  const events = await historyEvents(suite.client, workflowId);
  const reminders = scheduledAt(events, 'notifyCustomer');
  expect(reminders.map((at) => Math.round((trialEndMs - at) / HOUR_MS))).toEqual([72, 24]);

  expect(activities.callRefreshInstance).toHaveBeenCalledTimes(1);
  expect(activities.callRefreshInstance).toHaveBeenCalledWith(expect.objectContaining({ scene: 'TRIAL_TO_FORMAL', orderId: conversion.orderId, expireTime: formalUntil }));
  expect(converted).toMatchObject({ status: 'active', trial: false, expireTime: formalUntil });
  expect(later).toMatchObject({ status: 'active', trial: false, expireTime: formalUntil });
  expect((await suite.env.currentTimeMs()) - trialEndMs).toBeGreaterThanOrEqual(DAY_MS);
  expect(activities.callReleaseInstance).not.toHaveBeenCalled();
  expect(activities.callUpdateInstanceStatus).not.toHaveBeenCalled();
  // No further reminders for a paid subscription.
  expect(activities.notifyCustomer).toHaveBeenCalledTimes(2);
  await recordHistory(suite.client, workflowId, 'trial-converted');
});

test('when a trial ends unconverted, then the instance is released at once, without a freeze', async () => {
  const { activities, run, provision } = harness();
  const order = await orderExpiringIn(suite.env, 7 * DAY_MS, { trialFlag: true, amount: '0.00' });

  const { result, workflowId } = await run(async () => {
    const workflowId = await provision(order);
    await advanceTimers(suite.env, workflowId, () => false, 8 * DAY_MS);
    return { workflowId, result: await suite.client.workflow.getHandle(workflowId).result() };
  });

  expect(result).toMatchObject({ status: 'released', step: { name: 'released', reason: 'trial-ended' } });
  expect(activities.notifyCustomer).toHaveBeenCalledTimes(2);
  expect(activities.callReleaseInstance).toHaveBeenCalledTimes(1);
  expect(activities.callReleaseInstance.mock.calls[0]![0].orderId).toBeUndefined();
  expect(activities.callUpdateInstanceStatus).not.toHaveBeenCalled();
  expect(callbackTypes(activities)).toEqual(['instance.provisioned', 'instance.released']);
  const events = await historyEvents(suite.client, workflowId);
  const [releaseAt] = scheduledAt(events, 'callReleaseInstance');
  expect(releaseAt).toBeGreaterThanOrEqual(Date.parse(order.expireTime!));
  expect(releaseAt! - Date.parse(order.expireTime!)).toBeLessThan(MINUTE_MS);
  await recordHistory(suite.client, workflowId, 'trial-released');
});
