/**
 * The exit workflow (spec §9.4) on the time-skipping server, fake activities at the activity
 * boundary, real subscriptions and real refund workflows beside it: an exit blocked by an order
 * in fulfilment proceeds once that order is active (the hourly re-check), and is approved,
 * refunded pro rata, released and removed in that order; a forced exit started the way a
 * termination penalty starts it; a rejected exit; and the pro-rata arithmetic.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { createExitGateway } from '../../src/api/governance/exit-gateway';
import { ExitStepAttribute } from '../../src/shared/search-attributes';
import { exitReviewUpdate, exitStatusQuery, exitWorkflowId, type ExitFacts, type ExitSnapshot, type LiveSubscription } from '../../src/workflows/governance/exit/messages';
import { proRataRefund } from '../../src/workflows/governance/exit/pro-rata';
import type { PaidOrder } from '../../src/workflows/subscription/messages';
import { recordHistory } from '../helpers/histories';
import { until } from '../helpers/until';
import { advanceTimers, DAY_MS, HOUR_MS, outcome, paidOrder, waitUntilParked, workflowSuite, type SubscriptionHarness } from '../helpers/workflow-env';

const suite = workflowSuite({ ownServer: 'exit' });

let merchants = 0;
const newMerchant = (): string => `exit-merchant-${Date.now().toString(36)}-${(merchants += 1)}`;

function exits(h: SubscriptionHarness) {
  return createExitGateway(suite.client, { taskQueue: h.taskQueue });
}

const status = (merchantId: string): Promise<ExitSnapshot> => suite.client.workflow.getHandle(exitWorkflowId(merchantId)).query(exitStatusQuery);

async function reachStep(merchantId: string, step: ExitSnapshot['step']): Promise<ExitSnapshot> {
  const workflowId = exitWorkflowId(merchantId);
  await waitUntilParked(suite.env, workflowId);
  return until(() => status(merchantId), (s) => s.step === step, { intervalMs: 50, what: `exit of ${merchantId} not at ${step}` });
}

/**
 * Runs the exit's clock until it closes, and answers its result. While it waits on a child
 * (a refund) rather than a timer, the child's own work runs in real time.
 */
async function finish(merchantId: string, limitMs = 2 * HOUR_MS): Promise<ExitSnapshot> {
  const handle = suite.client.workflow.getHandle(exitWorkflowId(merchantId));
  const closed = async (): Promise<boolean> => (await handle.describe()).status.name !== 'RUNNING';
  const realDeadline = Date.now() + 60_000;
  while (!(await closed())) {
    if (Date.now() > realDeadline) throw new Error(`exit of ${merchantId} still running after 60 s of real time`);
    try {
      await advanceTimers(suite.env, exitWorkflowId(merchantId), closed, limitMs);
    } catch (error) {
      if (!String(error).includes('waits for a message')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return handle.result();
}

const nothingBlocks = (merchantId: string): ExitFacts => ({ merchantState: 'exiting', productsToDelist: [{ productId: `${merchantId}-p`, state: 'on_sale' }], blocking: [] });

describe('exitWorkflow', () => {
  it('when an order is in fulfilment, then the exit shows it and waits; once the order is active it proceeds, and on approval the live subscription is refunded pro rata and released before the merchant is removed', async () => {
    const h = suite.harness();
    const merchantId = newMerchant();
    const order: PaidOrder = paidOrder({ merchantId });
    // The merchant's create keeps failing: the subscription stays provisioning (retrying).
    h.activities.callNewInstance.mockResolvedValue(outcome('failure', 'newInstance', { resultCode: '000005', error: 'internal error' }));
    await h.run(async () => {
      const subscription = await h.pay(order);
      const paidAtMs = await suite.env.currentTimeMs();
      // What PostgreSQL would say, read from the real subscription: provisioning blocks the exit.
      h.activities.checkExitPreconditions.mockImplementation(async () => {
        const s = await h.gateway.status(subscription);
        return s.status === 'provisioning'
          ? { ...nothingBlocks(merchantId), blocking: [{ precondition: 'no-order-in-fulfilment', orders: [{ orderId: order.orderId, orderLineId: order.orderLineId, productId: order.productId, why: `subscription ${s.status}` }] }] }
          : nothingBlocks(merchantId);
      });
      const live: LiveSubscription = {
        orderId: order.orderId,
        orderLineId: order.orderLineId,
        productId: order.productId,
        customerId: order.customer.customerId,
        currency: order.currency,
        chargingMode: order.chargingMode,
        subscriptionWorkflowId: subscription,
        paidAmount: order.amount,
        paidAtMs,
        expiresAtMs: paidAtMs + 30 * DAY_MS,
      };
      h.activities.liveSubscriptions.mockResolvedValue([live]);
      h.activities.delistProductsForExit.mockResolvedValue([order.productId]);
      h.activities.unreleasedSubscriptions.mockImplementation(async (ids) => {
        const s = await h.gateway.status(subscription);
        return s.status === 'released' ? [] : ids;
      });

      const started = await exits(h).startExit(merchantId, 'requested', { requestedBy: merchantId, reason: 'closing the business' });
      suite.started.push(started.workflowId);
      const blocked = await reachStep(merchantId, 'blocked');
      expect(blocked.blocking).toEqual([{ precondition: 'no-order-in-fulfilment', orders: [expect.objectContaining({ orderId: order.orderId, why: 'subscription provisioning' })] }]);
      const handle = suite.client.workflow.getHandle(started.workflowId);
      expect((await handle.describe()).typedSearchAttributes.get(ExitStepAttribute)).toBe('blocked');
      const metadata = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
      expect(metadata.currentDetails).toContain('no-order-in-fulfilment');
      expect(metadata.currentDetails).toContain(order.orderId);
      // Nothing is approved while a precondition fails.
      await expect(handle.executeUpdate(exitReviewUpdate, { args: [{ decision: 'approve', actor: 'ops-anna', reason: 'looks fine' }] })).rejects.toBeInstanceOf(WorkflowUpdateFailedError);

      // The merchant fixes its interface: the create's next retry succeeds, and the hourly re-check sees the order active.
      h.activities.callNewInstance.mockResolvedValue(outcome('success', 'newInstance', { instanceId: `inst-${order.orderId}` }));
      const checksBefore = h.activities.checkExitPreconditions.mock.calls.length;
      await advanceTimers(suite.env, started.workflowId, async () => (await status(merchantId)).step === 'awaiting-review', 3 * HOUR_MS);
      expect(h.activities.checkExitPreconditions.mock.calls.length).toBeGreaterThan(checksBefore);
      expect((await h.gateway.status(subscription)).status).toBe('active');

      const approved = await handle.executeUpdate(exitReviewUpdate, { args: [{ decision: 'approve', actor: 'ops-anna', reason: 'nothing left open' }] });
      expect(approved.review).toMatchObject({ decision: 'approve', actor: 'ops-anna' });
      const result = await finish(merchantId);

      expect(result.step).toBe('removed');
      expect(h.activities.delistProductsForExit).toHaveBeenCalledWith(expect.objectContaining({ merchantId, actor: 'ops-anna' }));
      expect(h.activities.setMerchantStateForExit).toHaveBeenCalledWith(expect.objectContaining({ merchantId, to: 'trading_frozen' }));
      const refundOrderId = `exit-${merchantId}-${order.orderId}-${order.orderLineId}`;
      const [refund] = result.refunds;
      expect(refund).toMatchObject({ refundOrderId, released: true, refundWorkflowId: `refund:${refundOrderId}`, paidAmount: '99.00' });
      // A month paid, a bit over an hour used: just under the whole amount, to the cent.
      expect(Number(refund?.amount)).toBeGreaterThan(98.5);
      expect(Number(refund?.amount)).toBeLessThan(99);
      // The refund went through the refund flow (the order system told) and the release through the subscription, under the refund order.
      const verdict = h.activities.notifyOrderSystem.mock.calls.map(([c]) => c).find((c) => c.type === 'order.refund_decided');
      expect(verdict?.data).toMatchObject({ refundOrderId, approved: true, amount: refund?.amount });
      expect(h.activities.callReleaseInstance).toHaveBeenCalledTimes(1);
      expect(h.activities.callReleaseInstance.mock.calls[0]?.[0]).toMatchObject({ orderId: refundOrderId });
      // The merchant is removed only after the release reached it.
      expect(h.activities.removeMerchant).toHaveBeenCalledTimes(1);
      expect(h.activities.callReleaseInstance.mock.invocationCallOrder[0]!).toBeLessThan(h.activities.removeMerchant.mock.invocationCallOrder[0]!);
      expect(h.activities.compileExitRecord).toHaveBeenCalledWith(expect.objectContaining({ merchantId, outcome: 'removed', refunds: [expect.objectContaining({ refundOrderId })] }));
      expect(result.timeline.map((e) => e.action)).toEqual([
        'exit-requested',
        'preconditions-failing',
        'preconditions-met',
        'exit-approved',
        'products-delisted',
        'trading-frozen',
        'subscriptions-refunded',
        'subscriptions-released',
        'merchant-removed',
      ]);
      await recordHistory(suite.client, started.workflowId, 'blocked-then-removed', 'exit');
    });
  });

  it('when a termination penalty forces the exit, then it starts through startForcedExit once (a second start is the running one) and ends with the merchant removed', async () => {
    const h = suite.harness();
    const merchantId = newMerchant();
    h.activities.checkExitPreconditions.mockImplementation(async () => nothingBlocks(merchantId));
    await h.run(async () => {
      const gateway = exits(h);
      const started = await gateway.startForcedExit(merchantId, { reason: 'terminated: system_endangering_acts', penaltyId: '42', actor: 'ops-ben' });
      suite.started.push(started.workflowId);
      expect(started).toEqual({ workflowId: exitWorkflowId(merchantId), duplicate: false });
      expect(await gateway.startForcedExit(merchantId, { reason: 'terminated again', penaltyId: '43', actor: 'ops-ben' })).toEqual({ workflowId: exitWorkflowId(merchantId), duplicate: true });

      const waiting = await reachStep(merchantId, 'awaiting-review');
      expect(waiting).toMatchObject({ kind: 'forced', requestedBy: 'ops-ben', penaltyId: '42', blocking: [] });
      expect(h.activities.beginExit).toHaveBeenCalledTimes(1);
      expect(h.activities.beginExit).toHaveBeenCalledWith(expect.objectContaining({ merchantId, kind: 'forced', penaltyId: '42' }));
      const reviewed = await gateway.review(merchantId, { decision: 'approve', actor: 'ops-ben', reason: 'termination confirmed' }, 'review-1');
      expect(reviewed.kind).toBe('decided');
      const result = await finish(merchantId);

      expect(result.step).toBe('removed');
      expect(result.refunds).toEqual([]);
      expect(h.activities.removeMerchant).toHaveBeenCalledWith(expect.objectContaining({ merchantId, actor: 'ops-ben' }));
      expect(h.activities.compileExitRecord).toHaveBeenCalledWith(expect.objectContaining({ outcome: 'removed', kind: 'forced', penaltyId: '42' }));
      expect(await gateway.status(merchantId)).toBeUndefined();
      await recordHistory(suite.client, started.workflowId, 'forced', 'exit');
    });
  });

  it('when the operator rejects the exit, then the merchant trades again, nothing is delisted or removed, and the exit ends rejected', async () => {
    const h = suite.harness();
    const merchantId = newMerchant();
    h.activities.checkExitPreconditions.mockImplementation(async () => nothingBlocks(merchantId));
    await h.run(async () => {
      const gateway = exits(h);
      const started = await gateway.startExit(merchantId, 'requested', { requestedBy: merchantId, reason: 'moving to another marketplace' });
      suite.started.push(started.workflowId);
      await reachStep(merchantId, 'awaiting-review');
      const reviewed = await gateway.review(merchantId, { decision: 'reject', actor: 'ops-cleo', reason: 'open customer complaints' }, 'review-1');
      expect(reviewed.kind).toBe('decided');
      const result = await finish(merchantId);

      expect(result).toMatchObject({ step: 'rejected', review: { decision: 'reject', actor: 'ops-cleo', reason: 'open customer complaints' } });
      expect(h.activities.setMerchantStateForExit).toHaveBeenCalledTimes(1);
      expect(h.activities.setMerchantStateForExit).toHaveBeenCalledWith(expect.objectContaining({ merchantId, to: 'active', actor: 'ops-cleo' }));
      expect(h.activities.delistProductsForExit).not.toHaveBeenCalled();
      expect(h.activities.liveSubscriptions).not.toHaveBeenCalled();
      expect(h.activities.removeMerchant).not.toHaveBeenCalled();
      expect(h.activities.compileExitRecord).toHaveBeenCalledWith(expect.objectContaining({ outcome: 'rejected' }));
      // A review after the end finds no exit to decide.
      expect((await gateway.review(merchantId, { decision: 'approve', actor: 'ops-cleo', reason: 'changed my mind' }, 'review-2')).kind).toBe('ended');
      await recordHistory(suite.client, started.workflowId, 'rejected', 'exit');
    });
  });
});

describe('a long wait', () => {
  it('when the exit stays blocked past its checks per run, then it continues as new carrying its state, and goes on from there', async () => {
    const h = suite.harness();
    const merchantId = newMerchant();
    let cleared = false;
    const blockingOrder = { orderId: 'O-long', orderLineId: 'O-long-1', productId: 'p', why: 'statement ST-1 is at invoicing, not paid' };
    h.activities.checkExitPreconditions.mockImplementation(async () => (cleared ? nothingBlocks(merchantId) : { ...nothingBlocks(merchantId), blocking: [{ precondition: 'no-unsettled-order', orders: [blockingOrder] }] }));
    await h.run(async () => {
      const workflowId = exitWorkflowId(merchantId);
      const first = await suite.client.workflow.start('exitWorkflow', {
        workflowId,
        taskQueue: h.taskQueue,
        args: [{ merchantId, kind: 'requested', requestedBy: merchantId, reason: 'closing', continueAsNewAfterChecks: 2 }],
      });
      suite.started.push(workflowId);
      await reachStep(merchantId, 'blocked');
      // Two hourly checks in the first run, then a new run that checks at once.
      await advanceTimers(suite.env, workflowId, async () => (await suite.client.workflow.getHandle(workflowId).describe()).runId !== first.firstExecutionRunId, 3 * HOUR_MS);
      const carried = await reachStep(merchantId, 'blocked');
      expect(carried.timeline.map((e) => e.action)).toEqual(['exit-requested', 'preconditions-failing']);
      expect(h.activities.beginExit).toHaveBeenCalledTimes(1);

      cleared = true;
      await advanceTimers(suite.env, workflowId, async () => (await status(merchantId)).step === 'awaiting-review', 2 * HOUR_MS);
      await suite.client.workflow.getHandle(workflowId).executeUpdate(exitReviewUpdate, { args: [{ decision: 'reject', actor: 'ops-dan', reason: 'asked to stay' }] });
      const result = await finish(merchantId);
      expect(result.step).toBe('rejected');
      expect(result.timeline.map((e) => e.action)).toEqual(['exit-requested', 'preconditions-failing', 'preconditions-met', 'exit-rejected']);
      // Every run wrote under the first run's id: one exit, one row.
      expect(new Set(h.activities.recordExitProgress.mock.calls.map(([p]) => p.exitId))).toEqual(new Set([first.firstExecutionRunId]));
      await recordHistory(suite.client, workflowId, 'continue-as-new', 'exit');
    });
  });
});

describe('proRataRefund', () => {
  it('refunds the unused part of the paid period, rounded down to the cent', () => {
    expect(proRataRefund('99.00', 0, 30 * DAY_MS, 10 * DAY_MS)).toBe('66.00');
    expect(proRataRefund('100.00', 0, 3, 1)).toBe('66.66');
    expect(proRataRefund('0.0300', 0, 2, 1)).toBe('0.01');
  });
  it('refunds everything before the period starts, and nothing after it ended or without an end', () => {
    expect(proRataRefund('99.00', 10, 20, 5)).toBe('99.00');
    expect(proRataRefund('99.00', 0, 20, 20)).toBe('0.00');
    expect(proRataRefund('99.00', 0, undefined, 5)).toBe('0.00');
  });
});
