/**
 * Merchants that keep failing, on the time-skipping server with the production policy: the
 * failure-window runner's backoff schedule, the FulfillmentStatus search attribute operators
 * find failing subscriptions by, status calls (freeze, unfreeze) that wait for a restart,
 * and orders left waiting when a subscription ends. Runs on the server the global setup
 * shares (this suite moves its clock by hours only).
 */
import {
  advanceTimers,
  callbackTypes,
  fulfillmentStatuses,
  historyEvents,
  HOUR_MS,
  MINUTE_MS,
  operatorRestart,
  orderExpiringIn,
  outcome,
  paidOrder,
  plusMonths,
  renewedEvent,
  scheduledAt,
  unsubscribedEvent,
  upgradedEvent,
  violationEvent,
  workflowSuite,
} from '../helpers/workflow-env';

const suite = workflowSuite();

const refreshFails = outcome('failure', 'refreshInstance', { httpStatus: 502, resultCode: undefined, error: 'HTTP 502' });

// ---- the backoff schedule --------------------------------------------------------------------

test('when refreshInstance keeps failing, then attempts start at acceptance and 10, 20, 40 … s apart, doubling to a 5-minute cap, and none after the 1-hour window', async () => {
  const { activities, gateway, run, provision } = suite.harness();
  activities.callRefreshInstance.mockResolvedValue(refreshFails);
  const order = await orderExpiringIn(suite.env);

  const { renewal, waiting, workflowId } = await run(async () => {
    const workflowId = await provision(order);
    const renewal = await renewedEvent(suite.env, plusMonths(order.expireTime!, 1));
    await gateway.deliverLifecycleEvent(workflowId, renewal);
    // Stops early when attempts come far more often than scheduled, so that such a bug fails fast.
    const windowRanOut = async (): Promise<boolean> =>
      activities.callRefreshInstance.mock.calls.length > 20 || (await gateway.status(workflowId)).step.name === 'waiting-for-restart';
    await advanceTimers(suite.env, workflowId, windowRanOut, HOUR_MS + 10 * MINUTE_MS);
    return { renewal, workflowId, waiting: await gateway.status(workflowId) };
  });

  const attempts = scheduledAt(await historyEvents(suite.client, workflowId), 'callRefreshInstance');
  expect(attempts[0]! - renewal.acceptedAtMs).toBeLessThan(1_000);
  // The delay before each next attempt, in seconds: 10 s doubling, capped at 5 minutes.
  const schedule = [10, 20, 40, 80, 160, 300, 300, 300, 300, 300, 300, 300, 300, 300, 300];
  // A measured gap is the delay plus the moment an attempt takes (under 2 s).
  const asScheduled = (gapMs: number, delayS: number): number => (gapMs >= delayS * 1000 && gapMs < delayS * 1000 + 2_000 ? delayS : gapMs / 1000);
  const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!);
  expect(gaps.map((gap, i) => asScheduled(gap, schedule[i] ?? 0))).toEqual(schedule);
  // The 16th attempt came at 55 min 10 s; the next would have started after the window closed.
  expect(attempts.filter((at) => at >= renewal.acceptedAtMs + HOUR_MS)).toEqual([]);
  expect(waiting.step).toMatchObject({ name: 'waiting-for-restart' });
  expect(waiting.step.sinceMs).toBeGreaterThanOrEqual(renewal.acceptedAtMs + HOUR_MS);
});

// ---- the FulfillmentStatus search attribute --------------------------------------------------

describe('FulfillmentStatus', () => {
  test('when a create fails, is retried and succeeds, then it goes provisioning → retrying → active', async () => {
    const { activities, gateway, run, pay } = suite.harness();
    activities.callNewInstance.mockResolvedValueOnce(outcome('failure', 'newInstance', { resultCode: '000005', error: 'busy' }));

    const workflowId = await run(async () => {
      const workflowId = await pay(paidOrder());
      await advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).status === 'active', 5 * MINUTE_MS);
      return workflowId;
    });

    expect(activities.callNewInstance).toHaveBeenCalledTimes(2);
    expect(fulfillmentStatuses(await historyEvents(suite.client, workflowId))).toEqual(['awaiting-order', 'provisioning', 'retrying', 'active']);
  });

  test('when a create fails for its whole window, then it goes provisioning → retrying → failed', async () => {
    const { activities, run, pay } = suite.harness();
    activities.callNewInstance.mockResolvedValue(outcome('failure', 'newInstance', { resultCode: '000100', error: 'no instance resource' }));

    const { result, workflowId } = await run(async () => {
      const workflowId = await pay(paidOrder());
      await advanceTimers(suite.env, workflowId, () => false, 3 * HOUR_MS + 5 * MINUTE_MS);
      return { workflowId, result: await suite.client.workflow.getHandle(workflowId).result() };
    });

    expect(result.status).toBe('failed');
    expect(fulfillmentStatuses(await historyEvents(suite.client, workflowId))).toEqual(['awaiting-order', 'provisioning', 'retrying', 'failed']);
  });

  test('when a renewal window runs out and an operator restarts it, then it goes active → retrying → waiting-for-restart → active', async () => {
    const { activities, gateway, run, provision, eventually } = suite.harness();
    activities.callRefreshInstance.mockResolvedValue(refreshFails);
    const order = await orderExpiringIn(suite.env);
    const renewedTo = plusMonths(order.expireTime!, 1);

    const { waiting, workflowId } = await run(async () => {
      const workflowId = await provision(order);
      await gateway.deliverLifecycleEvent(workflowId, await renewedEvent(suite.env, renewedTo));
      await advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).step.name === 'waiting-for-restart', HOUR_MS + 10 * MINUTE_MS);
      const waiting = fulfillmentStatuses(await historyEvents(suite.client, workflowId));
      activities.callRefreshInstance.mockImplementation(async (call) => outcome('success', 'refreshInstance', { instanceId: call.instanceId }));
      await gateway.restart(workflowId, operatorRestart);
      await eventually(workflowId, (s) => s.expireTime === renewedTo && s.step.name === 'active');
      return { waiting, workflowId };
    });

    expect(waiting).toEqual(['awaiting-order', 'provisioning', 'active', 'retrying', 'waiting-for-restart']);
    expect(fulfillmentStatuses(await historyEvents(suite.client, workflowId))).toEqual([...waiting, 'active']);
  });
});

// ---- status calls ----------------------------------------------------------------------------

test('when FREEZE and UNFREEZE for a violation fail for the whole 1-hour window, then each waits for a restart, and a restart completes it', async () => {
  const { activities, gateway, run, provision, eventually } = suite.harness();
  const statusFails = outcome('failure', 'updateInstanceStatus', { resultCode: '000005', error: 'other internal service error' });
  const statusSucceeds = async (): Promise<ReturnType<typeof outcome>> => outcome('success', 'updateInstanceStatus');
  activities.callUpdateInstanceStatus.mockResolvedValue(statusFails);
  const order = await orderExpiringIn(suite.env);

  const steps = await run(async () => {
    const workflowId = await provision(order);
    const waitForRestart = async (): Promise<void> =>
      advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).step.name === 'waiting-for-restart', HOUR_MS + 10 * MINUTE_MS);

    await gateway.deliverLifecycleEvent(workflowId, await violationEvent(suite.env, 'instance.violation'));
    await waitForRestart();
    const freezeWaiting = await gateway.status(workflowId);
    const freezeCallbacks = callbackTypes(activities);
    activities.callUpdateInstanceStatus.mockImplementation(statusSucceeds);
    await gateway.restart(workflowId, operatorRestart);
    const frozen = await eventually(workflowId, (s) => s.step.name === 'frozen-for-violation');

    activities.callUpdateInstanceStatus.mockResolvedValue(statusFails);
    await gateway.deliverLifecycleEvent(workflowId, await violationEvent(suite.env, 'instance.violation_lifted'));
    await waitForRestart();
    const unfreezeWaiting = await gateway.status(workflowId);
    activities.callUpdateInstanceStatus.mockImplementation(statusSucceeds);
    await gateway.restart(workflowId, operatorRestart);
    const active = await eventually(workflowId, (s) => s.status === 'active' && s.step.name === 'active');
    return { freezeWaiting, freezeCallbacks, frozen, unfreezeWaiting, active, searchStatuses: fulfillmentStatuses(await historyEvents(suite.client, workflowId)) };
  });

  // Until the merchant froze it, the instance stays active and the order system hears nothing.
  expect(steps.freezeWaiting).toMatchObject({ status: 'active', frozenBy: [], step: { name: 'waiting-for-restart' } });
  expect(steps.freezeWaiting.step.reason).toContain('updateInstanceStatus failed for 60 minutes');
  expect(steps.freezeCallbacks).toEqual(['instance.provisioned']);
  expect(steps.frozen).toMatchObject({ status: 'frozen', frozenBy: ['violation'] });
  expect(steps.unfreezeWaiting).toMatchObject({ status: 'frozen', frozenBy: ['violation'], step: { name: 'waiting-for-restart' } });
  expect(steps.unfreezeWaiting.step.reason).toContain('updateInstanceStatus failed for 60 minutes');
  expect(steps.active).toMatchObject({ status: 'active', frozenBy: [] });
  expect(callbackTypes(activities)).toEqual(['instance.provisioned', 'instance.frozen', 'instance.unfrozen']);

  const calls = activities.callUpdateInstanceStatus.mock.calls.map(([c]) => c.status);
  const firstUnfreeze = calls.indexOf('UNFREEZE');
  expect(firstUnfreeze).toBeGreaterThanOrEqual(11);
  expect(calls.slice(0, firstUnfreeze).every((s) => s === 'FREEZE')).toBe(true);
  expect(calls.length - firstUnfreeze).toBeGreaterThanOrEqual(11);
  expect(calls.slice(firstUnfreeze).every((s) => s === 'UNFREEZE')).toBe(true);
  const keys = activities.notifyMerchant.mock.calls.map(([n]) => n.idempotencyKey.split(':').slice(-2).join(':'));
  expect(keys.filter((k) => k.startsWith('window-exhausted'))).toHaveLength(2);
  expect(steps.searchStatuses).toEqual([
    'awaiting-order',
    'provisioning',
    'active',
    'retrying',
    'waiting-for-restart',
    'active',
    'frozen',
    'retrying',
    'waiting-for-restart',
    'frozen',
    'active',
  ]);
});

// ---- orders left waiting ---------------------------------------------------------------------

test('when an upgrade waits behind a release held for a restart, then the release completes and the upgrade order is refunded with its own amount', async () => {
  const { activities, gateway, run, provision, eventually } = suite.harness();
  activities.callReleaseInstance.mockResolvedValue(outcome('failure', 'releaseInstance', { httpStatus: 502, resultCode: undefined, error: 'HTTP 502' }));
  const order = await orderExpiringIn(suite.env);

  const { upgrade, result } = await run(async () => {
    const workflowId = await provision(order);
    await gateway.deliverLifecycleEvent(workflowId, await unsubscribedEvent(suite.env));
    await advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).step.name === 'waiting-for-restart', HOUR_MS + 10 * MINUTE_MS);
    const upgrade = await upgradedEvent(suite.env, 'sku-pro');
    await gateway.deliverLifecycleEvent(workflowId, upgrade);
    await eventually(workflowId, (s) => s.pendingEvents === 1);
    activities.callReleaseInstance.mockImplementation(async (call) => outcome('success', 'releaseInstance', { instanceId: call.instanceId }));
    await gateway.restart(workflowId, operatorRestart);
    return { upgrade, result: await suite.client.workflow.getHandle(workflowId).result() };
  });

  expect(result).toMatchObject({ status: 'released', skuCode: order.skuCode, pendingEvents: 0 });
  expect(activities.callUpgradeInstance).not.toHaveBeenCalled();
  expect(callbackTypes(activities)).toEqual(['instance.provisioned', 'instance.released', 'order.unsubscribe_requested']);
  expect(activities.notifyOrderSystem.mock.calls[2]![0].data).toEqual({
    orderId: upgrade.orderId,
    orderLineId: upgrade.orderLineId,
    refund: true,
    amount: '50.00',
    currency: 'CNY',
    reason: `instance inst-${order.orderId} was released before upgrade order ${upgrade.orderId} could be applied`,
  });
  const upgradeRecords = activities.saveSubscriptionOrder.mock.calls.map(([o]) => o).filter((o) => o.orderId === upgrade.orderId);
  expect(upgradeRecords.map((o) => [o.kind, o.status])).toEqual([
    ['upgrade', 'failed'],
    ['upgrade', 'refunded'],
  ]);
});
