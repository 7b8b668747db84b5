/**
 * The refund workflow (spec §9.3) on the time-skipping server, fake activities at the activity
 * boundary and a real subscription beside it: a 5-day full refund approved and released
 * through the subscription; a negotiated refund the merchant rejects, and one it never
 * answers (refused at the deadline); a late full refund refused by its rule.
 */
import type { RefundDecidedCallback } from '../../src/activities/notices/callbacks';
import {
  merchantRefundAnswerUpdate,
  refundStatusQuery,
  refundWorkflowId,
  type RefundSnapshot,
  type RefundWorkflowInput,
} from '../../src/workflows/refunds/messages';
import { DEFAULT_REFUND_POLICY } from '../../src/workflows/refunds/rules';
import { refundWorkflow } from '../../src/workflows/refunds/workflow';
import { advanceTimers, callbackTypes, DAY_MS, HOUR_MS, paidOrder, waitUntilParked, workflowSuite, type SubscriptionHarness } from '../helpers/workflow-env';
import { until } from '../helpers/until';

const suite = workflowSuite({ ownServer: 'refunds' });

const MERCHANT_DEADLINE_MS = 3 * DAY_MS;

/** A provisioned subscription, and a refund request of its line made `paidAgoMs` after payment. */
async function refundOf(h: SubscriptionHarness, paidAgoMs: number, proposedAmount?: string, options: { endSubscriptionFirst?: boolean } = {}) {
  const order = paidOrder();
  const subscriptionWorkflowId = await h.provision(order);
  if (options.endSubscriptionFirst) await suite.client.workflow.getHandle(subscriptionWorkflowId).terminate('ended for the test');
  const now = await suite.env.currentTimeMs();
  const workflowId = refundWorkflowId(order.orderId, order.orderLineId);
  const input: RefundWorkflowInput = {
    eventId: `evt-refund-${order.orderId}`,
    orderId: order.orderId,
    orderLineId: order.orderLineId,
    refundOrderId: `R${order.orderId}`,
    merchantId: order.merchantId,
    currency: order.currency,
    subscriptionWorkflowId,
    order: { chargingMode: 'PERIOD', trial: false, paidAt: now - paidAgoMs, paidAmount: order.amount ?? '99.00', invoiceOutstanding: false },
    request: { requestedAt: now, earlierSelfServiceRefunds: [], ...(proposedAmount ? { proposedAmount } : {}) },
    policy: DEFAULT_REFUND_POLICY,
    merchantDecisionTimeoutMs: MERCHANT_DEADLINE_MS,
  };
  const handle = await suite.client.workflow.start(refundWorkflow, { workflowId, taskQueue: h.taskQueue, args: [input] });
  suite.started.push(workflowId);
  return { order, input, workflowId, handle, subscriptionWorkflowId };
}

const verdicts = (h: SubscriptionHarness): RefundDecidedCallback['data'][] =>
  h.activities.notifyOrderSystem.mock.calls.map(([c]) => c).filter((c): c is RefundDecidedCallback => c.type === 'order.refund_decided').map((c) => c.data);

describe('refundWorkflow', () => {
  it('when the customer asks within 5 days, then the full amount is approved, the order system told, and the instance released under the refund order', async () => {
    const h = suite.harness();
    await h.run(async () => {
      const r = await refundOf(h, 2 * DAY_MS);
      const result = await r.handle.result();
      expect(result).toMatchObject({ step: 'approved', amount: '99.00', releaseDelivered: true, decision: { kind: 'full' } });
      expect(verdicts(h)).toEqual([
        { orderId: r.order.orderId, orderLineId: r.order.orderLineId, refundOrderId: r.input.refundOrderId, approved: true, kind: 'full', amount: '99.00', currency: 'CNY' },
      ]);
      await h.eventually(r.subscriptionWorkflowId, (s) => s.status === 'released');
      expect(h.activities.callReleaseInstance).toHaveBeenCalledTimes(1);
      expect(h.activities.callReleaseInstance.mock.calls[0]?.[0]).toMatchObject({ orderId: r.input.refundOrderId });
      // The unsubscribe order is saved (the settlement's refund line reads it) right after the release.
      const saved = () => h.activities.saveSubscriptionOrder.mock.calls.map(([o]) => o).filter((o) => o.orderId === r.input.refundOrderId);
      await until(async () => saved(), (s) => s.length > 0, { intervalMs: 50, what: 'unsubscribe order not saved' });
      expect(saved()).toEqual([expect.objectContaining({ kind: 'unsubscribe', status: 'completed' })]);
    });
  });

  it('when a negotiated refund is rejected by the merchant, then it is refused as merchant_rejected and the instance stays', async () => {
    const h = suite.harness();
    await h.run(async () => {
      const r = await refundOf(h, 10 * DAY_MS, '40.00');
      await until(() => r.handle.query(refundStatusQuery), (s: RefundSnapshot) => s.step === 'awaiting-merchant', { intervalMs: 50, what: 'refund not awaiting the merchant' });
      const answered = await r.handle.executeUpdate(merchantRefundAnswerUpdate, { args: [{ approved: false, actor: r.order.merchantId, reason: 'service used' }] });
      expect(answered.merchant).toMatchObject({ approved: false, actor: r.order.merchantId });
      const result = await r.handle.result();
      expect(result).toMatchObject({ step: 'refused', rule: 'merchant_rejected', decision: { kind: 'negotiated', amount: '40.00' } });
      expect(verdicts(h)).toEqual([{ orderId: r.order.orderId, orderLineId: r.order.orderLineId, refundOrderId: r.input.refundOrderId, approved: false, kind: 'negotiated', rule: 'merchant_rejected' }]);
      // A second answer after the verdict is refused by the validator: the workflow has closed or moved on.
      await expect(r.handle.executeUpdate(merchantRefundAnswerUpdate, { args: [{ approved: true, actor: 'x' }] })).rejects.toThrow();
      expect(h.activities.callReleaseInstance).not.toHaveBeenCalled();
      expect((await h.gateway.status(r.subscriptionWorkflowId)).status).toBe('active');
    });
  });

  it('when the merchant approves a negotiated refund, then the proposed amount is refunded and the instance released', async () => {
    const h = suite.harness();
    await h.run(async () => {
      const r = await refundOf(h, 10 * DAY_MS, '40.00');
      await until(() => r.handle.query(refundStatusQuery), (s: RefundSnapshot) => s.step === 'awaiting-merchant', { intervalMs: 50, what: 'refund not awaiting the merchant' });
      await r.handle.executeUpdate(merchantRefundAnswerUpdate, { args: [{ approved: true, actor: r.order.merchantId }] });
      expect(await r.handle.result()).toMatchObject({ step: 'approved', amount: '40.00', releaseDelivered: true });
      expect(verdicts(h)).toEqual([
        { orderId: r.order.orderId, orderLineId: r.order.orderLineId, refundOrderId: r.input.refundOrderId, approved: true, kind: 'negotiated', amount: '40.00', currency: 'CNY' },
      ]);
      await h.eventually(r.subscriptionWorkflowId, (s) => s.status === 'released');
    });
  });

  it('when the merchant does not answer a negotiated refund, then it is refused at the deadline, not before', async () => {
    const h = suite.harness();
    await h.run(async () => {
      const r = await refundOf(h, 10 * DAY_MS, '40.00');
      await waitUntilParked(suite.env, r.workflowId);
      const startMs = await suite.env.currentTimeMs();
      await advanceTimers(suite.env, r.workflowId, () => verdicts(h).length > 0, MERCHANT_DEADLINE_MS + HOUR_MS);
      const elapsed = (await suite.env.currentTimeMs()) - startMs;
      expect(elapsed).toBeGreaterThanOrEqual(MERCHANT_DEADLINE_MS - HOUR_MS);
      expect(await r.handle.result()).toMatchObject({ step: 'refused', rule: 'merchant_did_not_answer' });
      expect(verdicts(h)[0]).toMatchObject({ approved: false, rule: 'merchant_did_not_answer' });
      expect(h.activities.callReleaseInstance).not.toHaveBeenCalled();
    });
  });

  it('when the subscription is no longer running, then the refund is still approved and told, and records that the release was not delivered', async () => {
    const h = suite.harness();
    await h.run(async () => {
      const r = await refundOf(h, DAY_MS, undefined, { endSubscriptionFirst: true });
      expect(await r.handle.result()).toMatchObject({ step: 'approved', releaseDelivered: false });
      expect(verdicts(h)).toEqual([expect.objectContaining({ approved: true, kind: 'full' })]);
      expect(h.activities.callReleaseInstance).not.toHaveBeenCalled();
    });
  });

  it('when a full refund is asked on day 6, then it is refused by the 5-day rule without asking the merchant', async () => {
    const h = suite.harness();
    await h.run(async () => {
      const r = await refundOf(h, 6 * DAY_MS);
      expect(await r.handle.result()).toMatchObject({ step: 'refused', rule: 'full_refund_window_passed' });
      expect(verdicts(h)).toEqual([{ orderId: r.order.orderId, orderLineId: r.order.orderLineId, refundOrderId: r.input.refundOrderId, approved: false, rule: 'full_refund_window_passed' }]);
      expect(callbackTypes(h.activities)).not.toContain('instance.released');
      expect(h.activities.callReleaseInstance).not.toHaveBeenCalled();
    });
  });
});
