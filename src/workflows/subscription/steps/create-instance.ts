/**
 * Create scenario (spec §2.1, §4): newInstance inside the 3-hour window measured from the
 * moment the order.paid event was accepted (payment), not from when the workflow took it up.
 *
 * - every attempt carries a fresh businessId;
 * - 000000 provisions at once; 000004 is followed by queryInstance polls until the merchant
 *   returns the instance's info;
 * - failures back off on the policy's schedule; the first one notifies the merchant; a
 *   restart signal makes the next attempt happen at once (the window runner);
 * - when the window ends without success the order line fails and the order system is
 *   asked, exactly once, to unsubscribe and refund it.
 */
import { ActivityFailure, ApplicationFailure, log, patched, uuid4 } from '@temporalio/workflow';
import type { MerchantCallOutcome } from '../../../protocol/outcome';
import { ErrorType } from '../../../shared/errors';
import { keyedByProduct, stepKey } from '../../../shared/ids';
import { runInWindow, runOneWindow, singleCall, windowOpensAt, describeOutcome, type AttemptResult, type OpenWindow } from '../../windows/runner';
import { merchant } from '../proxies';
import { activateInstance, notifyMerchant, saveInstance, tellOrderSystem, updateOrderLine } from '../bookkeeping';
import { instanceCall, type Subscription } from '../context';
import type { OrderPaidEvent, PaidOrder } from '../messages';
import { setOrder, setStatus, setStep } from '../status';
import { windowHost } from '../window-host';

/** Change id: the instance row and its order line are written in one local activity. */
export const ACTIVATION_IN_ONE_LOCAL_ACTIVITY = 'activation-in-one-local-activity';

/** Change id: one-time and pay-per-use orders never expire, whatever expireTime they carry. */
export const ONLY_PERIODIC_ORDERS_EXPIRE = 'only-periodic-orders-expire';

/** Answers true when the instance is running, false when the order failed and was refunded. */
export async function createInstance(sub: Subscription, event: OrderPaidEvent): Promise<boolean> {
  const order = event.order;
  setOrder(sub, order, expiryOf(order));
  setStatus(sub, 'provisioning');
  // An instance the merchant accepted with 000004 but never finished: released on refund.
  const unfinished: Unfinished = {};

  const result = await runInWindow(windowHost(sub), {
    scenario: 'create',
    operation: 'newInstance',
    opensAtMs: event.acceptedAtMs,
    occurrence: 'paid',
    subject: `Provisioning of order ${order.orderId}`,
    attempt: (window) => attemptCreate(sub, order, window, unfinished),
  });
  if (result.ok) return true;

  await failAndRefund(sub, order, `merchant did not provision the instance within ${Math.round(sub.policy.create.windowMs / 60_000)} minutes`);
  if (unfinished.instanceId) await releaseUnfinished(sub, order, unfinished.instanceId);
  setStep(sub, 'failed', sub.state.failureReason);
  return false;
}

/** Only periodic orders have an expiry (spec §6): one-time and pay-per-use instances live until released. */
function expiryOf(order: PaidOrder): number | undefined {
  if (!order.expireTime) return undefined;
  // Runs recorded before this change took an expireTime from any order and replay that way.
  if (order.chargingMode !== 'PERIOD' && patched(ONLY_PERIODIC_ORDERS_EXPIRE)) return undefined;
  return Date.parse(order.expireTime);
}

/** The instance id the merchant accepted with 000004 and has not finished. */
interface Unfinished {
  instanceId?: string;
}

/** One newInstance call, with a fresh businessId, and what follows it until the instance is ours or the attempt failed. */
async function attemptCreate(sub: Subscription, order: PaidOrder, window: OpenWindow, unfinished: Unfinished): Promise<AttemptResult<string>> {
  // A fresh businessId on every attempt, retries included (spec §2.1).
  const businessId = uuid4();
  const created = await window.call(
    'newInstance',
    (attempt) =>
      merchant().callNewInstance({
        attempt,
        workflowId: sub.workflowId,
        merchantId: order.merchantId,
        orderId: order.orderId,
        orderLineId: order.orderLineId,
        businessId,
        // Pay-per-use items and packages are keyed by product at the merchant too (spec §2.1, §6).
        productId: keyedByProduct(order.chargingMode) ? order.productId : undefined,
        testFlag: order.testFlag,
      }),
    businessId,
  );
  if (created.kind === 'success' && created.instanceId) {
    // Provisioned synchronously; one query fetches the app info (it may also reach the
    // customer by e-mail or SMS, so its absence does not hold up the order).
    await queryInstance(sub, order, created.instanceId, window);
    if (await activate(sub, order, created.instanceId)) return { kind: 'done', value: created.instanceId };
    return { kind: 'failed', outcome: instanceIdTakenOutcome(created) };
  }
  if (created.kind !== 'processing' || !created.instanceId) return { kind: 'failed', outcome: created };

  unfinished.instanceId = created.instanceId;
  const polled = await pollUntilReady(sub, order, created.instanceId, window);
  if (polled.kind !== 'done' || (await activate(sub, order, created.instanceId))) return polled;
  // Another subscription's instance: never ours to release.
  unfinished.instanceId = undefined;
  return { kind: 'failed', outcome: instanceIdTakenOutcome(created) };
}

/** Polls queryInstance after a 000004 until the instance is ready, a poll fails, or the window ends. */
async function pollUntilReady(sub: Subscription, order: PaidOrder, instanceId: string, window: OpenWindow): Promise<AttemptResult<string>> {
  const { pollIntervalMs } = sub.policy.create;
  let last: MerchantCallOutcome | undefined;
  for (;;) {
    const wait = Math.min(pollIntervalMs, window.deadlineMs - Date.now());
    const ended = { kind: 'window-ended', outcome: last ?? { kind: 'processing', activity: 'queryInstance', startedAtMs: Date.now(), latencyMs: 0, instanceId } } as const;
    if (wait <= 0) return ended;
    setStep(sub, 'waiting-for-merchant', `merchant is provisioning ${instanceId} (000004); polling queryInstance`);
    await window.waitOrRestart(wait);
    if (Date.now() >= window.deadlineMs) return ended;
    const polled = await queryInstance(sub, order, instanceId, window);
    last = polled;
    if (polled.ready) return { kind: 'done', value: instanceId };
    if (polled.kind === 'failure') return { kind: 'failed', outcome: polled };
  }
}

async function queryInstance(sub: Subscription, order: PaidOrder, instanceId: string, window: OpenWindow): Promise<MerchantCallOutcome & { ready?: boolean }> {
  return window.call('queryInstance', (attempt) =>
    merchant().callQueryInstance({
      attempt,
      workflowId: sub.workflowId,
      merchantId: order.merchantId,
      orderId: order.orderId,
      orderLineId: order.orderLineId,
      productId: order.productId,
      instanceId,
      testFlag: order.testFlag,
    }),
  );
}

/**
 * Makes the instance this subscription's and tells everyone. False when the merchant gave
 * us an instance id that another subscription already owns (a merchant defect): nothing is
 * stored, and the create goes on as after a failed attempt.
 */
async function activate(sub: Subscription, order: PaidOrder, instanceId: string): Promise<boolean> {
  sub.state.instanceId = instanceId;
  try {
    // Runs recorded before this change saved the instance and the order line in two activities.
    if (patched(ACTIVATION_IN_ONE_LOCAL_ACTIVITY)) await activateInstance(sub);
    else {
      await saveInstance(sub, 'active');
      await updateOrderLine(sub, { status: 'active', instanceId });
    }
  } catch (error) {
    if (!isInstanceIdTaken(error)) throw error;
    sub.state.instanceId = undefined;
    return false;
  }
  setStatus(sub, 'active');
  setStep(sub, 'active');
  log.info('instance provisioned', { workflowId: sub.workflowId, orderId: order.orderId, instanceId });
  await tellOrderSystem(sub, {
    idempotencyKey: stepKey(sub.workflowId, 'create:provisioned'),
    type: 'instance.provisioned',
    data: { orderId: order.orderId, orderLineId: order.orderLineId, instanceId },
  });
  return true;
}

/** A local activity's failure reaches the workflow as the activity's own error, a regular one wrapped in an ActivityFailure. */
function isInstanceIdTaken(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && cause.type === ErrorType.InstanceIdTaken;
}

function instanceIdTakenOutcome(created: MerchantCallOutcome): MerchantCallOutcome {
  return { ...created, kind: 'failure', error: `instance id ${created.instanceId} already belongs to another subscription` };
}

async function failAndRefund(sub: Subscription, order: PaidOrder, reason: string): Promise<void> {
  sub.state.failureReason = reason;
  await updateOrderLine(sub, { status: 'failed', failureReason: reason });
  setStatus(sub, 'failed');
  setStep(sub, 'unsubscribing', reason);
  log.warn('create window exhausted; unsubscribing and refunding', { workflowId: sub.workflowId, orderId: order.orderId });
  await tellOrderSystem(sub, {
    idempotencyKey: stepKey(sub.workflowId, 'create:unsubscribe-and-refund'),
    type: 'order.unsubscribe_requested',
    data: { orderId: order.orderId, orderLineId: order.orderLineId, refund: true, amount: order.amount, currency: order.currency, reason },
  });
  await notifyMerchant(
    sub,
    'create:failed',
    `Order ${order.orderId} failed and was refunded`,
    `Your production interface did not provision order ${order.orderId} (line ${order.orderLineId}) within the create window. ` +
      'The order was unsubscribed and refunded automatically. Please contact the customer.',
  );
}

/**
 * The customer was refunded, so an instance the merchant started (000004) and never finished
 * must not live on: releaseInstance for it, naming the refunded order, inside one release
 * window. If that fails too, the merchant is told to release it; the order stays failed (no
 * operator restart is awaited for an order that no longer exists).
 */
async function releaseUnfinished(sub: Subscription, order: PaidOrder, instanceId: string): Promise<void> {
  sub.state.instanceId = instanceId;
  const released = await runOneWindow(windowHost(sub), {
    scenario: 'release',
    operation: 'releaseInstance',
    opensAtMs: windowOpensAt(Date.now()),
    occurrence: 'create-refunded',
    subject: `releaseInstance for instance ${instanceId}`,
    attempt: singleCall((attempt) => merchant().callReleaseInstance({ attempt, ...instanceCall(sub), orderId: order.orderId, orderLineId: order.orderLineId })),
  });
  if (released.ok) return;
  await notifyMerchant(
    sub,
    'create:unfinished-instance-not-released',
    `Release instance ${instanceId} of refunded order ${order.orderId}`,
    `Order ${order.orderId} was refunded, but releaseInstance for ${instanceId} failed: ${describeOutcome(released.outcome)}. Please release it yourself.`,
  );
}
