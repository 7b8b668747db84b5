/**
 * Create scenario (spec §2.1, §4): newInstance inside the 3-hour window measured from the
 * moment the order.paid event was accepted.
 *
 * - every attempt carries a fresh businessId;
 * - 000000 provisions at once; 000004 is followed by queryInstance polls until the merchant
 *   returns the instance's info;
 * - failures back off on the policy's schedule; the first one notifies the merchant; a
 *   restart signal makes the next attempt happen at once;
 * - when the window ends without success the order line fails and the order system is
 *   asked, exactly once, to unsubscribe and refund it.
 */
import { ActivityFailure, ApplicationFailure, log, uuid4 } from '@temporalio/workflow';
import { ErrorType } from '../../../shared/errors';
import { backoffDelayMs } from '../../windows/policy';
import { stepKey } from '../../../shared/ids';
import type { MerchantCallOutcome } from '../../../protocol/outcome';
import type { OrderPaidEvent, PaidOrder } from '../messages';
import { describeOutcome, retryWithinWindow } from '../../windows/runner';
import type { SubscriptionState } from '../state';

type PollResult = 'ready' | 'failed' | 'window-ended';

/** Answers true when the instance is running, false when the order failed and was refunded. */
export async function createInstance(state: SubscriptionState, event: OrderPaidEvent): Promise<boolean> {
  const order = event.order;
  const policy = state.policy.create;
  const deadlineMs = event.acceptedAtMs + policy.windowMs;
  const { merchant } = state.activities;
  state.setOrder(order);
  state.setStatus('provisioning');
  state.discardStaleRestart();
  let failures = 0;
  // An instance the merchant accepted with 000004 but never finished: released on refund.
  let unfinishedInstanceId: string | undefined;

  const failed = async (outcome: MerchantCallOutcome): Promise<void> => {
    failures += 1;
    state.setSearchStatus('retrying');
    if (failures === 1) await notifyFirstFailure(state, order, outcome);
  };

  // At least one attempt, even when the window has passed already: an order.paid we could
  // only take in late (the workflow engine was unreachable and the marketplace redelivered
  // it) must not be refunded without the merchant ever being asked.
  for (let first = true; first || Date.now() < deadlineMs; first = false) {
    // A fresh businessId on every attempt, retries included (spec §2.1).
    const businessId = uuid4();
    state.setStep('calling-merchant', `newInstance attempt ${failures + 1}`);
    const created = await state.attempt(
      'create',
      'newInstance',
      () =>
        merchant.callNewInstance({
          workflowId: state.workflowId,
          merchantId: order.merchantId,
          orderId: order.orderId,
          orderLineId: order.orderLineId,
          businessId,
          productId: order.chargingMode === 'ON_DEMAND' ? order.productId : undefined,
          testFlag: order.testFlag,
        }),
      businessId,
    );

    let failure = created;
    if (created.kind === 'success' && created.instanceId) {
      // Provisioned synchronously; one query fetches the app info (it may also reach the
      // customer by e-mail or SMS, so its absence does not hold up the order).
      await pollOnce(state, order, created.instanceId);
      if (await activate(state, order, created.instanceId)) return true;
      failure = instanceIdTakenOutcome(created);
      await failed(failure);
    } else if (created.kind === 'processing' && created.instanceId) {
      unfinishedInstanceId = created.instanceId;
      const polled = await pollUntilReady(state, order, created.instanceId, deadlineMs, failed);
      if (polled === 'ready') {
        if (await activate(state, order, created.instanceId)) return true;
        // Another subscription's instance: never ours to release.
        unfinishedInstanceId = undefined;
        failure = instanceIdTakenOutcome(created);
        await failed(failure);
      } else if (polled === 'window-ended') {
        break;
      }
    } else {
      await failed(created);
    }

    const remainingMs = deadlineMs - Date.now();
    if (remainingMs <= 0) break;
    const delay = Math.min(backoffDelayMs(policy, Math.max(failures, 1)), remainingMs);
    state.setStep('backing-off', `newInstance failed: ${describeOutcome(failure)}; next attempt in ${Math.round(delay / 1000)} s`);
    await state.waitOrRestart(delay);
  }

  await failAndRefund(state, order, `merchant did not provision the instance within ${Math.round(policy.windowMs / 60_000)} minutes`);
  if (unfinishedInstanceId) await releaseUnfinished(state, order, unfinishedInstanceId);
  state.setStep('failed', state.failureReason);
  return false;
}

/** Polls queryInstance after a 000004 until the instance is ready, a poll fails, or the window ends. */
async function pollUntilReady(
  state: SubscriptionState,
  order: PaidOrder,
  instanceId: string,
  deadlineMs: number,
  failed: (outcome: MerchantCallOutcome) => Promise<void>,
): Promise<PollResult> {
  const policy = state.policy.create;
  for (;;) {
    const wait = Math.min(policy.pollIntervalMs, deadlineMs - Date.now());
    if (wait <= 0) return 'window-ended';
    state.setStep('waiting-for-merchant', `merchant is provisioning ${instanceId} (000004); polling queryInstance`);
    await state.waitOrRestart(wait);
    if (Date.now() >= deadlineMs) return 'window-ended';
    const polled = await pollOnce(state, order, instanceId);
    if (polled.ready) return 'ready';
    if (polled.kind === 'failure') {
      await failed(polled);
      return 'failed';
    }
  }
}

async function pollOnce(state: SubscriptionState, order: PaidOrder, instanceId: string): Promise<MerchantCallOutcome & { ready?: boolean }> {
  return state.attempt('create', 'queryInstance', () =>
    state.activities.merchant.callQueryInstance({
      workflowId: state.workflowId,
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
async function activate(state: SubscriptionState, order: PaidOrder, instanceId: string): Promise<boolean> {
  state.instanceId = instanceId;
  try {
    await state.saveInstance('active');
  } catch (error) {
    if (!isInstanceIdTaken(error)) throw error;
    state.instanceId = undefined;
    return false;
  }
  await state.updateOrderLine({ status: 'active', instanceId });
  state.setStatus('active');
  state.setStep('active');
  log.info('instance provisioned', { workflowId: state.workflowId, orderId: order.orderId, instanceId });
  await state.tellOrderSystem({
    idempotencyKey: stepKey(state.workflowId, 'create:provisioned'),
    type: 'instance.provisioned',
    data: { orderId: order.orderId, orderLineId: order.orderLineId, instanceId },
  });
  return true;
}

function isInstanceIdTaken(error: unknown): boolean {
  return error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === ErrorType.InstanceIdTaken;
}

function instanceIdTakenOutcome(created: MerchantCallOutcome): MerchantCallOutcome {
  return { ...created, kind: 'failure', error: `instance id ${created.instanceId} already belongs to another subscription` };
}

async function failAndRefund(state: SubscriptionState, order: PaidOrder, reason: string): Promise<void> {
  const { bookkeeping } = state.activities;
  state.failureReason = reason;
  await state.updateOrderLine({ status: 'failed', failureReason: reason });
  state.setStatus('failed');
  state.setStep('unsubscribing', reason);
  log.warn('create window exhausted; unsubscribing and refunding', { workflowId: state.workflowId, orderId: order.orderId });
  await state.tellOrderSystem({
    idempotencyKey: stepKey(state.workflowId, 'create:unsubscribe-and-refund'),
    type: 'order.unsubscribe_requested',
    data: { orderId: order.orderId, orderLineId: order.orderLineId, refund: true, amount: order.amount, currency: order.currency, reason },
  });
  await bookkeeping.notifyMerchant({
    idempotencyKey: stepKey(state.workflowId, 'create:failed'),
    merchantId: order.merchantId,
    subject: `Order ${order.orderId} failed and was refunded`,
    body:
      `Your production interface did not provision order ${order.orderId} (line ${order.orderLineId}) within the create window. ` +
      'The order was unsubscribed and refunded automatically. Please contact the customer.',
  });
}

/**
 * The customer was refunded, so an instance the merchant started (000004) and never finished
 * must not live on: releaseInstance for it, naming the refunded order, inside the release
 * window. If that fails too, the merchant is told to release it; the order stays failed.
 */
async function releaseUnfinished(state: SubscriptionState, order: PaidOrder, instanceId: string): Promise<void> {
  state.instanceId = instanceId;
  const released = await retryWithinWindow(state, {
    scenario: 'release',
    activity: 'releaseInstance',
    call: () => state.activities.merchant.callReleaseInstance({ ...state.instanceCall(), orderId: order.orderId, orderLineId: order.orderLineId }),
    startedAtMs: Date.now(),
    occurrence: 'create-refunded',
  });
  if (released.ok) return;
  await state.activities.bookkeeping.notifyMerchant({
    idempotencyKey: stepKey(state.workflowId, 'create:unfinished-instance-not-released'),
    merchantId: order.merchantId,
    subject: `Release instance ${instanceId} of refunded order ${order.orderId}`,
    body: `Order ${order.orderId} was refunded, but releaseInstance for ${instanceId} failed: ${describeOutcome(released.outcome)}. Please release it yourself.`,
  });
}

async function notifyFirstFailure(state: SubscriptionState, order: PaidOrder, outcome: MerchantCallOutcome): Promise<void> {
  await state.activities.bookkeeping.notifyMerchant({
    idempotencyKey: stepKey(state.workflowId, 'create:first-failure'),
    merchantId: order.merchantId,
    subject: `Provisioning of order ${order.orderId} is failing`,
    body:
      `The ${outcome.activity} call for order ${order.orderId} (line ${order.orderLineId}) failed: ${describeOutcome(outcome)}. ` +
      `We keep retrying for up to ${Math.round(state.policy.create.windowMs / 60_000)} minutes after payment; ` +
      'after that the order is refunded automatically.',
  });
}
