/**
 * The create scenario on the time-skipping server with the production policy: a 3-hour
 * window from acceptance, backoff from seconds to a 10-minute cap, 30-second polls.
 * Runs on the server the global setup shares (this suite moves its clock by hours only).
 */
import { temporal } from '@temporalio/proto';
import { ApplicationFailure } from '@temporalio/client';
import { ErrorType } from '../../src/shared/errors';
import { ATTEMPTS_RECORDED_BY_THE_CALL } from '../../src/workflows/windows/runner';
import { ACTIVATION_IN_ONE_LOCAL_ACTIVITY } from '../../src/workflows/subscription/steps/create-instance';
import { MERCHANT_OPERATIONS_RUN_LOCALLY } from '../../src/workflows/subscription/proxies';
import { recordHistory } from '../helpers/histories';
import type { ChargingMode } from '../../src/workflows/subscription/messages';
import {
  advanceTimers,
  callbackTypes,
  eventTimeMs,
  historyEvents,
  HOUR_MS,
  MINUTE_MS,
  operatorRestart,
  orderPaidEvent,
  localActivities,
  outcome,
  patchIds,
  paidOrder,
  queryOutcome,
  scheduledAt,
  signalledAt,
  workflowSuite,
} from '../helpers/workflow-env';

const EventType = temporal.api.enums.v1.EventType;
const THREE_HOURS_MS = 3 * HOUR_MS;
const FIVE_MINUTES_MS = 5 * MINUTE_MS;

const suite = workflowSuite();

test('when the merchant provisions at once, then the instance is active and the order system is told once', async () => {
  const { activities, gateway, run, provision } = suite.harness();
  const order = paidOrder();

  const snapshot = await run(async () => gateway.status(await provision(order)));

  await recordHistory(suite.client, snapshot.workflowId, 'create-at-once');
  expect(snapshot).toMatchObject({ status: 'active', instanceId: `inst-${order.orderId}`, orderId: order.orderId, step: { name: 'active' } });
  expect(activities.callNewInstance).toHaveBeenCalledTimes(1);
  expect(activities.saveInstance).toHaveBeenCalledWith(expect.objectContaining({ instanceId: `inst-${order.orderId}`, status: 'active' }));
  expect(activities.updateOrderLine).toHaveBeenLastCalledWith(
    expect.objectContaining({ orderId: order.orderId, status: 'active', instanceId: `inst-${order.orderId}` }),
  );
  expect(activities.notifyOrderSystem).toHaveBeenCalledTimes(1);
  expect(activities.notifyOrderSystem).toHaveBeenCalledWith(expect.objectContaining({ type: 'instance.provisioned' }));
  expect(activities.notifyMerchant).not.toHaveBeenCalled();
  // newInstance, then the query that fetches the app info: both on the timeline.
  expect(activities.recordCallAttempt.mock.calls.map(([a]) => a.outcome.activity)).toEqual(['newInstance', 'queryInstance']);
});

test('when the merchant provisions at once, then the create is lean: one activity (the callback) and three local activities, every attempt still on the timeline', async () => {
  const { activities, gateway, run, provision } = suite.harness();
  const order = paidOrder();

  const workflowId = await run(async () => {
    const id = await provision(order);
    await gateway.status(id);
    return id;
  });

  const events = await historyEvents(suite.client, workflowId);
  const scheduled = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
  expect(scheduled).toEqual(['notifyOrderSystem']);
  expect(patchIds(events)).toEqual(expect.arrayContaining([ATTEMPTS_RECORDED_BY_THE_CALL, MERCHANT_OPERATIONS_RUN_LOCALLY, ACTIVATION_IN_ONE_LOCAL_ACTIVITY]));
  for (const local of ['callNewInstance', 'callQueryInstance', 'activateInstance']) expect(localActivities(events, local)).toHaveLength(1);
  // Each call carried its attempt and recorded it; the instance and its line were written together.
  expect(activities.callNewInstance.mock.calls[0]![0].attempt).toMatchObject({ scenario: 'create', attempt: 1, orderId: order.orderId });
  expect(activities.recordCallAttempt.mock.calls.map(([a]) => [a.attempt, a.outcome.activity])).toEqual([
    [1, 'newInstance'],
    [2, 'queryInstance'],
  ]);
  expect(activities.activateInstance).toHaveBeenCalledWith({
    instance: expect.objectContaining({ instanceId: `inst-${order.orderId}`, status: 'active' }),
    orderLine: expect.objectContaining({ orderId: order.orderId, status: 'active', instanceId: `inst-${order.orderId}` }),
  });
});

test('when the merchant fails three times, then a fresh businessId each time, one merchant notice, and success', async () => {
  const { activities, gateway, run, pay } = suite.harness();
  activities.callNewInstance
    .mockResolvedValueOnce(outcome('failure', 'newInstance', { resultCode: '000005', error: 'other internal service error' }))
    .mockResolvedValueOnce(outcome('failure', 'newInstance', { httpStatus: 503, resultCode: undefined, error: 'HTTP 503' }))
    .mockRejectedValueOnce(new Error('socket hang up'));
  const order = paidOrder();

  const snapshot = await run(async () => {
    const workflowId = await pay(order);
    await advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).status === 'active', FIVE_MINUTES_MS);
    return gateway.status(workflowId);
  });

  await recordHistory(suite.client, snapshot.workflowId, 'create-after-failures');
  expect(snapshot.status).toBe('active');
  expect(activities.callNewInstance).toHaveBeenCalledTimes(4);
  const businessIds = activities.callNewInstance.mock.calls.map(([call]) => call.businessId);
  expect(new Set(businessIds).size).toBe(4);
  expect(activities.notifyMerchant).toHaveBeenCalledTimes(1);
  expect(activities.notifyMerchant.mock.calls[0]![0].idempotencyKey).toMatch(/:create:paid:first-failure$/);
  const recorded = activities.recordCallAttempt.mock.calls.map(([a]) => [a.outcome.activity, a.outcome.kind]);
  expect(recorded).toEqual([
    ['newInstance', 'failure'],
    ['newInstance', 'failure'],
    ['newInstance', 'failure'],
    ['newInstance', 'success'],
    ['queryInstance', 'success'],
  ]);
  expect(activities.recordCallAttempt.mock.calls[2]![0].outcome.error).toContain('socket hang up');
  expect(activities.notifyOrderSystem).toHaveBeenCalledTimes(1);
});

test('when the merchant answers 000004, then queryInstance is polled until the instance is ready', async () => {
  const { activities, gateway, run, pay } = suite.harness();
  activities.callNewInstance.mockResolvedValue(outcome('processing', 'newInstance', { instanceId: 'async-1' }));
  activities.callQueryInstance.mockResolvedValueOnce(queryOutcome(false)).mockResolvedValueOnce(queryOutcome(false)).mockResolvedValue(queryOutcome(true));
  const order = paidOrder();

  const snapshot = await run(async () => {
    const workflowId = await pay(order);
    await advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).status === 'active', FIVE_MINUTES_MS);
    return gateway.status(workflowId);
  });

  await recordHistory(suite.client, snapshot.workflowId, 'create-async');
  expect(snapshot).toMatchObject({ status: 'active', instanceId: 'async-1' });
  expect(activities.callNewInstance).toHaveBeenCalledTimes(1);
  expect(activities.callQueryInstance).toHaveBeenCalledTimes(3);
  expect(activities.callQueryInstance).toHaveBeenCalledWith(expect.objectContaining({ instanceId: 'async-1', productId: order.productId }));
  expect(activities.notifyMerchant).not.toHaveBeenCalled();
});

test('when the merchant fails for the whole 3-hour window, then the order fails and one unsubscribe-and-refund goes out', async () => {
  const { activities, run, pay } = suite.harness();
  activities.callNewInstance.mockResolvedValue(outcome('failure', 'newInstance', { resultCode: '000100', error: 'no instance resource' }));
  const order = paidOrder();

  const { result, workflowId } = await run(async () => {
    const workflowId = await pay(order);
    await advanceTimers(suite.env, workflowId, () => false, THREE_HOURS_MS + FIVE_MINUTES_MS);
    return { workflowId, result: await suite.client.workflow.getHandle(workflowId).result() };
  });

  await recordHistory(suite.client, workflowId, 'create-window-exhausted');
  expect(result).toMatchObject({ status: 'failed', orderId: order.orderId });
  expect(result.failureReason).toContain('within 180 minutes');
  const refunds = activities.notifyOrderSystem.mock.calls.filter(([c]) => c.type === 'order.unsubscribe_requested');
  expect(refunds).toHaveLength(1);
  expect(refunds[0]![0]).toMatchObject({ data: { orderId: order.orderId, refund: true, amount: '99.00' } });
  expect(activities.notifyOrderSystem).toHaveBeenCalledTimes(1);
  expect(activities.updateOrderLine).toHaveBeenLastCalledWith(expect.objectContaining({ status: 'failed' }));
  // Backoff from 10 s doubling to a 10-minute cap fits 23 attempts into 3 hours.
  expect(activities.callNewInstance.mock.calls.length).toBeGreaterThanOrEqual(20);
  expect(activities.callNewInstance.mock.calls.length).toBeLessThanOrEqual(26);

  const events = await historyEvents(suite.client, workflowId);
  const startedMs = eventTimeMs(events[0]!);
  const attemptTimes = events
    .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === 'callNewInstance')
    .map(eventTimeMs);
  expect(Math.max(...attemptTimes) - startedMs).toBeLessThan(THREE_HOURS_MS);
  expect(eventTimeMs(events[events.length - 1]!) - startedMs).toBeGreaterThanOrEqual(THREE_HOURS_MS);
  // Merchant told on the first failure and when the order was refunded; nothing more.
  expect(activities.notifyMerchant.mock.calls.map(([n]) => n.idempotencyKey.split(':').pop())).toEqual(['first-failure', 'failed']);
});

test('when order.paid could only be taken in after its window had passed, then the merchant is still asked once before any refund', async () => {
  const { activities, run, pay, eventually } = suite.harness();
  const order = paidOrder();

  const snapshot = await run(async () => {
    // Accepted 3 h 1 min ago: the workflow engine was unreachable until the redelivery.
    const workflowId = await pay(order, (await suite.env.currentTimeMs()) - THREE_HOURS_MS - MINUTE_MS);
    return eventually(workflowId, (s) => s.status === 'active');
  });

  expect(snapshot.instanceId).toBe(`inst-${order.orderId}`);
  expect(activities.callNewInstance).toHaveBeenCalledTimes(1);
  expect(activities.notifyOrderSystem.mock.calls.map(([c]) => c.type)).toEqual(['instance.provisioned']);
});

test('when the merchant answers 000004 but never finishes within the window, then the order is refunded and the unfinished instance released', async () => {
  const { activities, run, pay } = suite.harness();
  activities.callNewInstance.mockResolvedValue(outcome('processing', 'newInstance', { instanceId: 'half-made-1' }));
  activities.callQueryInstance.mockResolvedValue(queryOutcome(false, 'failure'));
  const order = paidOrder();

  const { result, workflowId } = await run(async () => {
    const workflowId = await pay(order);
    await advanceTimers(suite.env, workflowId, () => false, THREE_HOURS_MS + FIVE_MINUTES_MS);
    return { workflowId, result: await suite.client.workflow.getHandle(workflowId).result() };
  });

  expect(result).toMatchObject({ status: 'failed', step: { name: 'failed' } });
  expect(activities.notifyOrderSystem.mock.calls.map(([c]) => c.type)).toEqual(['order.unsubscribe_requested']);
  expect(activities.callReleaseInstance).toHaveBeenCalledTimes(1);
  expect(activities.callReleaseInstance).toHaveBeenCalledWith(expect.objectContaining({ instanceId: 'half-made-1', orderId: order.orderId }));
  // The release comes after the refund request: the customer is never kept waiting on it.
  expect(activities.callReleaseInstance.mock.invocationCallOrder[0]).toBeGreaterThan(activities.notifyOrderSystem.mock.invocationCallOrder[0]!);
  expect(activities.saveInstance).not.toHaveBeenCalled();
  await recordHistory(suite.client, workflowId, 'create-unfinished-released');
});

test('when the merchant returns an instance id another subscription owns, then it counts as a failed attempt and a later create provisions', async () => {
  const { activities, gateway, run, pay } = suite.harness();
  activities.callNewInstance
    .mockResolvedValueOnce(outcome('success', 'newInstance', { instanceId: 'someone-elses' }))
    .mockResolvedValueOnce(outcome('success', 'newInstance', { instanceId: 'fresh-1' }));
  activities.saveInstance.mockRejectedValueOnce(ApplicationFailure.create({ type: ErrorType.InstanceIdTaken, message: 'instance someone-elses belongs to another subscription', nonRetryable: true }));
  const order = paidOrder();

  const snapshot = await run(async () => {
    const workflowId = await pay(order);
    await advanceTimers(suite.env, workflowId, async () => (await gateway.status(workflowId)).status === 'active', FIVE_MINUTES_MS);
    return gateway.status(workflowId);
  });

  expect(snapshot).toMatchObject({ status: 'active', instanceId: 'fresh-1' });
  expect(activities.callNewInstance).toHaveBeenCalledTimes(2);
  expect(activities.notifyMerchant).toHaveBeenCalledTimes(1);
  expect(activities.notifyMerchant.mock.calls[0]![0].body).toContain('instance id someone-elses already belongs to another subscription');
  expect(activities.callReleaseInstance).not.toHaveBeenCalled();
  expect(activities.notifyOrderSystem.mock.calls.map(([c]) => ('instanceId' in c.data ? c.data.instanceId : undefined))).toEqual(['fresh-1']);
});

test('when an operator restarts during a backoff, then the next attempt starts at once', async () => {
  const { activities, gateway, run, pay, eventually } = suite.harness();
  let calls = 0;
  activities.callNewInstance.mockImplementation(async (call) => {
    calls += 1;
    return calls === 1 ? outcome('failure', 'newInstance', { error: 'HTTP 502' }) : outcome('success', 'newInstance', { instanceId: `inst-${call.orderId}` });
  });
  const order = paidOrder();

  const workflowId = await run(async () => {
    const workflowId = await pay(order);
    await eventually(workflowId, (s) => s.step.name === 'backing-off');
    await gateway.restart(workflowId, operatorRestart);
    await eventually(workflowId, (s) => s.status === 'active');
    return workflowId;
  });

  await recordHistory(suite.client, workflowId, 'create-restart');
  const events = await historyEvents(suite.client, workflowId);
  const timerStarted = events.find((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED);
  expect(Number(timerStarted?.timerStartedEventAttributes?.startToFireTimeout?.seconds)).toBe(10);
  const signalIndex = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'restart');
  const nextAttempt = localActivities(events, 'callNewInstance')[1];
  const nextAttemptIndex = nextAttempt ? events.indexOf(nextAttempt) : -1;
  expect(signalIndex).toBeGreaterThan(0);
  expect(nextAttemptIndex).toBeGreaterThan(signalIndex);
  // The backoff timer was cancelled, not waited out.
  expect(events.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED)).toBe(false);
  expect(events.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_CANCELED)).toBe(true);
  expect(activities.callNewInstance).toHaveBeenCalledTimes(2);
});

test('when order.paid is delivered twice, then one workflow provisions one instance', async () => {
  const { activities, gateway, run, eventually } = suite.harness();
  const order = paidOrder();

  const { first, again, redelivered, snapshot } = await run(async () => {
    const event = await orderPaidEvent(suite.env, order);
    const first = await gateway.deliverOrderPaid(event);
    suite.started.push(first.workflowId);
    const again = await gateway.deliverOrderPaid(event);
    const redelivered = await gateway.deliverOrderPaid({ ...event, eventId: `${event.eventId}-redelivery` });
    const snapshot = await eventually(first.workflowId, (s) => s.status === 'active');
    return { first, again, redelivered, snapshot };
  });

  expect(again.workflowId).toBe(first.workflowId);
  expect(redelivered.workflowId).toBe(first.workflowId);
  expect(first.workflowId).toBe(`subscription:${order.orderId}:${order.orderLineId}`);
  expect(snapshot.status).toBe('active');
  expect(activities.callNewInstance).toHaveBeenCalledTimes(1);
  expect(activities.notifyOrderSystem).toHaveBeenCalledTimes(1);
});

test('when order.paid was accepted 2 hours before the workflow took it up and the merchant keeps failing, then the refund comes 1 hour later: the window runs from acceptance', async () => {
  const { activities, run, pay } = suite.harness();
  activities.callNewInstance.mockResolvedValue(outcome('failure', 'newInstance', { resultCode: '000005', error: 'other internal service error' }));
  const order = paidOrder();

  const { acceptedAtMs, workflowId } = await run(async () => {
    // The workflow engine was unreachable for 2 hours; the redelivered event keeps its acceptance time.
    const acceptedAtMs = (await suite.env.currentTimeMs()) - 2 * HOUR_MS;
    const workflowId = await pay(order, acceptedAtMs);
    await advanceTimers(suite.env, workflowId, () => false, THREE_HOURS_MS + FIVE_MINUTES_MS);
    return { acceptedAtMs, workflowId };
  });

  expect(callbackTypes(activities)).toEqual(['order.unsubscribe_requested']);
  const events = await historyEvents(suite.client, workflowId);
  const startedMs = eventTimeMs(events[0]!);
  expect(startedMs - acceptedAtMs).toBeGreaterThanOrEqual(2 * HOUR_MS);
  const [refundAt] = scheduledAt(events, 'notifyOrderSystem');
  // 3 hours from acceptance is 1 hour after the start; from the start it would be 3.
  expect(refundAt! - startedMs).toBeGreaterThanOrEqual(HOUR_MS - MINUTE_MS);
  expect(refundAt! - startedMs).toBeLessThan(HOUR_MS + MINUTE_MS);
  expect(Math.max(...scheduledAt(events, 'callNewInstance'))).toBeLessThan(acceptedAtMs + THREE_HOURS_MS);
});

test('when queryInstance fails after a synchronous 000000, then the order is not held up: the instance is active, the order system told, and one query made', async () => {
  const { activities, gateway, run, pay, eventually } = suite.harness();
  activities.callQueryInstance.mockResolvedValue(queryOutcome(false, 'failure'));
  const order = paidOrder();

  const snapshot = await run(async () => {
    const workflowId = await pay(order);
    // A create that treated the failed query as a failed attempt would back off instead.
    await eventually(workflowId, (s) => s.status === 'active' || s.step.name === 'backing-off');
    return gateway.status(workflowId);
  });

  expect(snapshot).toMatchObject({ status: 'active', instanceId: `inst-${order.orderId}`, step: { name: 'active' } });
  expect(activities.callNewInstance).toHaveBeenCalledTimes(1);
  expect(activities.callQueryInstance).toHaveBeenCalledTimes(1);
  expect(activities.notifyOrderSystem).toHaveBeenCalledWith(
    expect.objectContaining({ type: 'instance.provisioned', data: expect.objectContaining({ instanceId: `inst-${order.orderId}` }) }),
  );
  expect(callbackTypes(activities)).toEqual(['instance.provisioned']);
  expect(activities.notifyMerchant).not.toHaveBeenCalled();
  expect(activities.recordCallAttempt.mock.calls.map(([a]) => [a.outcome.activity, a.outcome.kind])).toEqual([
    ['newInstance', 'success'],
    ['queryInstance', 'failure'],
  ]);
});

test('when an operator restarts while a 000004 is being polled, then the next queryInstance happens at once, not after the 30-second poll interval', async () => {
  const { activities, gateway, run, pay, eventually } = suite.harness();
  activities.callNewInstance.mockResolvedValue(outcome('processing', 'newInstance', { instanceId: 'async-restarted' }));
  const order = paidOrder();

  const workflowId = await run(async () => {
    const workflowId = await pay(order);
    await eventually(workflowId, (s) => s.step.name === 'waiting-for-merchant');
    await gateway.restart(workflowId, operatorRestart);
    await advanceTimers(suite.env, workflowId, () => activities.callQueryInstance.mock.calls.length > 0, FIVE_MINUTES_MS);
    await eventually(workflowId, (s) => s.status === 'active');
    return workflowId;
  });

  expect(activities.callQueryInstance).toHaveBeenCalledTimes(1);
  const events = await historyEvents(suite.client, workflowId);
  const pollTimer = events.find((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED);
  expect(Number(pollTimer?.timerStartedEventAttributes?.startToFireTimeout?.seconds)).toBe(30);
  const restartAt = signalledAt(events, 'restart')!;
  const [queryAt] = scheduledAt(events, 'callQueryInstance');
  expect(queryAt! - restartAt).toBeGreaterThanOrEqual(0);
  expect(queryAt! - restartAt).toBeLessThan(5_000);
  expect(events.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED)).toBe(false);
  expect(events.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_CANCELED)).toBe(true);
});

test.each<ChargingMode>(['ON_DEMAND', 'ON_DEMAND_PKG'])('when an order charged %s is paid, then newInstance carries its productId', async (chargingMode) => {
  const { activities, run, provision } = suite.harness();
  const order = paidOrder({ chargingMode, productId: `product-${chargingMode.toLowerCase()}`, periodType: undefined, periodNumber: undefined, expireTime: undefined });

  await run(() => provision(order));

  expect(activities.callNewInstance).toHaveBeenCalledTimes(1);
  expect(activities.callNewInstance).toHaveBeenCalledWith(expect.objectContaining({ orderId: order.orderId, productId: order.productId }));
});
