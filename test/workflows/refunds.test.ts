/**
 * The refund workflow (spec §9.3) on the time-skipping server, fake activities at the activity
 * boundary and a real subscription beside it: a 5-day full refund approved and released
 * through the subscription; a negotiated refund the merchant rejects, and one it never
 * answers (refused at the deadline); a late full refund refused by its rule; a refund on a
 * merchant's exit (the marketplace's amount, no rules, no merchant); a line with another live
 * refund; a negotiated refund failed by the customer's invoice request during the review.
 * Every step is recorded with its reason.
 */
import type { RefundDecidedCallback } from '../../src/activities/notices/callbacks';
import type { RefundDecisionEntry } from '../../src/activities/refunds/records';
import {
  invoiceRequestedSignal,
  merchantExitRefundInput,
  merchantRefundAnswerUpdate,
  refundStatusQuery,
  refundWorkflowId,
  type RefundSnapshot,
  type RefundWorkflowInput,
} from '../../src/workflows/refunds/messages';
import { DEFAULT_REFUND_POLICY } from '../../src/workflows/refunds/rules';
import { refundWorkflow } from '../../src/workflows/refunds/workflow';
import { advanceTimers, callbackTypes, DAY_MS, HOUR_MS, paidOrder, waitUntilParked, workflowSuite, type SubscriptionHarness } from '../helpers/workflow-env';
import { recordHistory } from '../helpers/histories';
import { until } from '../helpers/until';

const suite = workflowSuite({ ownServer: 'refunds' });

const MERCHANT_DEADLINE_MS = 3 * DAY_MS;

/** A provisioned subscription, and a refund request of its line made `paidAgoMs` after payment. */
async function refundOf(h: SubscriptionHarness, paidAgoMs: number, proposedAmount?: string, options: { endSubscriptionFirst?: boolean } = {}) {
  const order = paidOrder();
  const subscriptionWorkflowId = await h.provision(order);
  if (options.endSubscriptionFirst) await suite.client.workflow.getHandle(subscriptionWorkflowId).terminate('ended for the test');
  const now = await suite.env.currentTimeMs();
  const workflowId = refundWorkflowId(`R${order.orderId}`);
  const input: RefundWorkflowInput = {
    eventId: `evt-refund-${order.orderId}`,
    orderId: order.orderId,
    orderLineId: order.orderLineId,
    refundOrderId: `R${order.orderId}`,
    merchantId: order.merchantId,
    customerId: order.customer.customerId,
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

/** Every step recorded, in order, as (step, outcome, rule?, actor): what the order's timeline shows. */
const steps = (h: SubscriptionHarness): Pick<RefundDecisionEntry, 'seq' | 'step' | 'outcome' | 'rule' | 'actorType' | 'actorId'>[] => [
  ...h.activities.recordRefundRequested.mock.calls.map(([r]) => r.entry),
  ...h.activities.recordRefundSteps.mock.calls.flatMap(([r]) => r.entries),
].map(({ seq, step, outcome, rule, actorType, actorId }) => ({ seq, step, outcome, ...(rule ? { rule } : {}), actorType, actorId }));

const verdictRecords = (h: SubscriptionHarness) => h.activities.recordRefundSteps.mock.calls.map(([r]) => r.verdict).filter((v) => v !== undefined);

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
      // Recorded before the order system is told: the request, the rules' verdict, the approval.
      expect(steps(h)).toEqual([
        { seq: 1, step: 'requested', outcome: 'requested', actorType: 'customer', actorId: 'customer-1' },
        { seq: 2, step: 'rules', outcome: 'full', actorType: 'marketplace', actorId: 'refund-rules' },
        { seq: 3, step: 'verdict', outcome: 'approved', actorType: 'marketplace', actorId: 'refund-rules' },
      ]);
      expect(h.activities.recordRefundRequested.mock.calls[0]?.[0].request).toMatchObject({ refundOrderId: r.input.refundOrderId, origin: 'customer', kind: 'full', workflowId: r.workflowId });
      expect(verdictRecords(h)).toEqual([expect.objectContaining({ status: 'approved', amount: '99.00' })]);
      await recordHistory(suite.client, r.workflowId, 'full-approved', 'refund');
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
      expect(steps(h).map((e) => [e.step, e.outcome, e.rule, e.actorType])).toEqual([
        ['requested', 'requested', undefined, 'customer'],
        ['rules', 'negotiated', undefined, 'marketplace'],
        ['merchant_answer', 'rejected', 'merchant_rejected', 'merchant'],
        ['verdict', 'refused', 'merchant_rejected', 'marketplace'],
      ]);
      expect(h.activities.recordRefundSteps.mock.calls[1]?.[0].entries[0]?.reason).toBe('service used');
      expect(verdictRecords(h)).toEqual([expect.objectContaining({ status: 'refused', rule: 'merchant_rejected' })]);
      await recordHistory(suite.client, r.workflowId, 'negotiated-rejected', 'refund');
    });
  });

  it('when the merchant approves a negotiated refund, then the proposed amount is refunded and the instance released', async () => {
    const h = suite.harness();
    await h.run(async () => {
      const r = await refundOf(h, 10 * DAY_MS, '40.00');
      await until(() => r.handle.query(refundStatusQuery), (s: RefundSnapshot) => s.step === 'awaiting-merchant', { intervalMs: 50, what: 'refund not awaiting the merchant' });
      // An operator answers for the merchant: recorded under the operator's name.
      await r.handle.executeUpdate(merchantRefundAnswerUpdate, { args: [{ approved: true, actorType: 'operator', actor: 'ops-anna', reason: 'merchant agreed by phone' }] });
      expect(await r.handle.result()).toMatchObject({ step: 'approved', amount: '40.00', releaseDelivered: true, merchant: { actorType: 'operator', actor: 'ops-anna' } });
      expect(steps(h)[2]).toEqual({ seq: 3, step: 'merchant_answer', outcome: 'approved', actorType: 'operator', actorId: 'ops-anna' });
      expect(verdictRecords(h)).toEqual([expect.objectContaining({ status: 'approved', amount: '40.00' })]);
      await recordHistory(suite.client, r.workflowId, 'negotiated-approved-by-operator', 'refund');
      expect(verdicts(h)).toEqual([
        { orderId: r.order.orderId, orderLineId: r.order.orderLineId, refundOrderId: r.input.refundOrderId, approved: true, kind: 'negotiated', amount: '40.00', currency: 'CNY' },
      ]);
      await h.eventually(r.subscriptionWorkflowId, (s) => s.status === 'released');
    });
  });

  it('when the customer asks for an invoice while the merchant reviews, then the refund fails as invoice_requested_during_review, is told, and the merchant can no longer answer', async () => {
    const h = suite.harness();
    await h.run(async () => {
      const r = await refundOf(h, 10 * DAY_MS, '40.00');
      await until(() => r.handle.query(refundStatusQuery), (s: RefundSnapshot) => s.step === 'awaiting-merchant', { intervalMs: 50, what: 'refund not awaiting the merchant' });
      const requestedAt = await suite.env.currentTimeMs();
      await r.handle.signal(invoiceRequestedSignal, { eventId: 'evt-invoice-1', requestedAt });
      // A second request (a redelivery, or another) changes nothing more; the merchant's answer is too late.
      await r.handle.signal(invoiceRequestedSignal, { eventId: 'evt-invoice-1b', requestedAt: requestedAt + 1 });
      await expect(r.handle.executeUpdate(merchantRefundAnswerUpdate, { args: [{ approved: true, actor: r.order.merchantId }] })).rejects.toThrow();
      const result = await r.handle.result();
      expect(result).toMatchObject({ step: 'refused', rule: 'invoice_requested_during_review', decision: { kind: 'negotiated', amount: '40.00' } });
      expect(result.merchant).toBeUndefined();
      expect(result.invoiceRequest).toEqual({ eventId: 'evt-invoice-1', requestedAt });
      expect(verdicts(h)).toEqual([
        { orderId: r.order.orderId, orderLineId: r.order.orderLineId, refundOrderId: r.input.refundOrderId, approved: false, kind: 'negotiated', rule: 'invoice_requested_during_review' },
      ]);
      expect(steps(h).map((e) => [e.step, e.outcome, e.rule, e.actorType, e.actorId])).toEqual([
        ['requested', 'requested', undefined, 'customer', 'customer-1'],
        ['rules', 'negotiated', undefined, 'marketplace', 'refund-rules'],
        ['invoice_requested', 'refused', 'invoice_requested_during_review', 'customer', 'customer-1'],
        ['verdict', 'refused', 'invoice_requested_during_review', 'marketplace', 'refund-rules'],
      ]);
      expect(verdictRecords(h)).toEqual([expect.objectContaining({ status: 'refused', rule: 'invoice_requested_during_review' })]);
      expect(h.activities.callReleaseInstance).not.toHaveBeenCalled();
      await recordHistory(suite.client, r.workflowId, 'invoice-requested-during-review', 'refund');
    });
  });

  it('when the customer asks for an invoice after the merchant answered, then the request changes nothing and the refund is approved', async () => {
    const h = suite.harness();
    await h.run(async () => {
      const r = await refundOf(h, 10 * DAY_MS, '40.00');
      await until(() => r.handle.query(refundStatusQuery), (s: RefundSnapshot) => s.step === 'awaiting-merchant', { intervalMs: 50, what: 'refund not awaiting the merchant' });
      await r.handle.executeUpdate(merchantRefundAnswerUpdate, { args: [{ approved: true, actor: r.order.merchantId }] });
      // Answered first: the review is over, the invoice request changes nothing.
      await r.handle.signal(invoiceRequestedSignal, { eventId: 'evt-invoice-2', requestedAt: await suite.env.currentTimeMs() }).catch(() => undefined);
      const result = await r.handle.result();
      expect(result).toMatchObject({ step: 'approved', amount: '40.00' });
      expect(result.invoiceRequest).toBeUndefined();
      expect(verdicts(h)).toEqual([expect.objectContaining({ approved: true, kind: 'negotiated' })]);
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
      expect(steps(h)[2]).toEqual({ seq: 3, step: 'merchant_answer', outcome: 'no_answer', rule: 'merchant_did_not_answer', actorType: 'marketplace', actorId: 'deadline' });
      await recordHistory(suite.client, r.workflowId, 'merchant-silent', 'refund');
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
      expect(steps(h).map((e) => [e.step, e.outcome, e.rule])).toEqual([
        ['requested', 'requested', undefined],
        ['rules', 'refused', 'full_refund_window_passed'],
        ['verdict', 'refused', 'full_refund_window_passed'],
      ]);
      expect(h.activities.recordRefundSteps.mock.calls[0]?.[0].entries[0]?.reason).toMatch(/5 days after payment/);
      await recordHistory(suite.client, r.workflowId, 'refused-by-rule', 'refund');
    });
  });

  it('when the line already has a live refund, then the request is refused as refund_already_live, told, and nothing released', async () => {
    const h = suite.harness();
    h.activities.recordRefundRequested.mockResolvedValueOnce({ status: 'refused', rule: 'refund_already_live', liveRefundOrderId: 'R-earlier' });
    await h.run(async () => {
      const r = await refundOf(h, DAY_MS);
      expect(await r.handle.result()).toMatchObject({ step: 'refused', rule: 'refund_already_live', decision: { kind: 'refused', rule: 'refund_already_live' } });
      expect(verdicts(h)).toEqual([{ orderId: r.order.orderId, orderLineId: r.order.orderLineId, refundOrderId: r.input.refundOrderId, approved: false, rule: 'refund_already_live' }]);
      expect(h.activities.callReleaseInstance).not.toHaveBeenCalled();
    });
  });

  it('when a merchant exits, then its refund pays the marketplace amount without rules or merchant, is recorded as merchant_exit, told, and releases the instance', async () => {
    const h = suite.harness();
    await h.run(async () => {
      // Paid 40 days ago: the customer rules would refuse it (past 5 days and the guarantee period).
      const order = paidOrder();
      const subscriptionWorkflowId = await h.provision(order);
      const now = await suite.env.currentTimeMs();
      const refundOrderId = `EXIT-${order.orderId}`;
      const input = merchantExitRefundInput({
        refundOrderId,
        orderId: order.orderId,
        orderLineId: order.orderLineId,
        merchantId: order.merchantId,
        customerId: order.customer.customerId,
        currency: 'CNY',
        subscriptionWorkflowId,
        chargingMode: 'PERIOD',
        paidAmount: '99.00',
        paidAt: now - 40 * DAY_MS,
        amount: '33.0000',
        requestedAt: now,
      });
      const workflowId = refundWorkflowId(refundOrderId);
      expect(workflowId).toBe(`refund:${refundOrderId}`);
      const handle = await suite.client.workflow.start(refundWorkflow, { workflowId, taskQueue: h.taskQueue, args: [input] });
      suite.started.push(workflowId);
      expect(await handle.result()).toMatchObject({ origin: 'merchant_exit', step: 'approved', amount: '33.0000', rule: 'merchant_exit', releaseDelivered: true });
      expect(verdicts(h)).toEqual([
        { orderId: order.orderId, orderLineId: order.orderLineId, refundOrderId, approved: true, kind: 'merchant_exit', amount: '33.0000', currency: 'CNY', rule: 'merchant_exit' },
      ]);
      expect(steps(h).map((e) => [e.step, e.outcome, e.rule, e.actorId])).toEqual([
        ['requested', 'requested', undefined, 'merchant-exit'],
        ['rules', 'merchant_exit', 'merchant_exit', 'merchant-exit'],
        ['verdict', 'approved', 'merchant_exit', 'merchant-exit'],
      ]);
      expect(h.activities.recordRefundRequested.mock.calls[0]?.[0].request).toMatchObject({ origin: 'merchant_exit', kind: 'merchant_exit', proposedAmount: '33.0000' });
      expect(verdictRecords(h)).toEqual([expect.objectContaining({ status: 'approved', amount: '33.0000', rule: 'merchant_exit' })]);
      await h.eventually(subscriptionWorkflowId, (s) => s.status === 'released');
      expect(h.activities.callReleaseInstance.mock.calls[0]?.[0]).toMatchObject({ orderId: refundOrderId });
      await recordHistory(suite.client, workflowId, 'merchant-exit', 'refund');
    });
  });

  it('when a merchant_exit refund names more than was paid, then the workflow fails as invalid input and records nothing', async () => {
    const h = suite.harness();
    await h.run(async () => {
      const order = paidOrder();
      const subscriptionWorkflowId = await h.provision(order);
      const now = await suite.env.currentTimeMs();
      const input = merchantExitRefundInput({
        refundOrderId: `EXIT-${order.orderId}`,
        orderId: order.orderId,
        orderLineId: order.orderLineId,
        merchantId: order.merchantId,
        customerId: 'customer-1',
        currency: 'CNY',
        subscriptionWorkflowId,
        chargingMode: 'PERIOD',
        paidAmount: '99.00',
        paidAt: now - DAY_MS,
        amount: '99.01',
        requestedAt: now,
      });
      const workflowId = refundWorkflowId(input.refundOrderId);
      const handle = await suite.client.workflow.start(refundWorkflow, { workflowId, taskQueue: h.taskQueue, args: [input] });
      suite.started.push(workflowId);
      await expect(handle.result()).rejects.toThrow();
      expect(h.activities.recordRefundRequested).not.toHaveBeenCalled();
      expect(verdicts(h)).toEqual([]);
    });
  });
});
