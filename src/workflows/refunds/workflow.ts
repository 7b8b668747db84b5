/**
 * refundWorkflow: one refund of one order line, `refund:<refundOrderId>` (spec §9.3).
 *
 * A customer's request (origin `customer`) is decided by the rules first (./rules.ts): a full
 * refund within 5 days needs nobody; a negotiated one waits for the merchant's answer (or an
 * operator's for it) until the configured deadline, and silence refuses it; the customer
 * asking for an invoice meanwhile fails it (`invoice_requested_during_review`); anything else
 * is refused with its rule. A merchant's exit (origin `merchant_exit`, spec §9.4) refunds the
 * amount the marketplace decided, without rules or merchant.
 *
 * Every step is recorded with its reason (the `refunds` row and `refund_decisions`, which the
 * order's timeline shows); a line that already has a pending or approved refund refuses the
 * request as `refund_already_live`. The verdict goes to the order system, and an approved
 * refund is handed to the subscription as its `order.unsubscribed` event, so the
 * subscription's own release step calls releaseInstance with the refund order's id.
 */
import { allHandlersFinished, ApplicationFailure, condition, getExternalWorkflowHandle, log, patched, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { RefundActorType, RefundDecisionEntry, RefundVerdict } from '../../activities/refunds/records';
import { ErrorType } from '../../shared/errors';
import { FulfillmentStatusAttribute } from '../../shared/search-attributes';
import { lifecycleEventSignal, type OrderUnsubscribedEvent } from '../subscription/messages';
import {
  invoiceRequestedSignal,
  merchantRefundAnswerUpdate,
  refundStatusQuery,
  refundRequestRow,
  type RefundRefusalRule,
  type RefundSnapshot,
  type RefundWorkflowDecision,
  type RefundWorkflowInput,
} from './messages';
import { records, orderSystem } from './proxies';
import { decisionReason, refusalReason } from './reasons';
import { amountUnits, decideRefund } from './rules';

/**
 * Refunds that reached the merchant's review before this code take no invoice request (their
 * history has no marker there); later ones are failed by one (spec §9.3).
 */
export const INVOICE_REQUEST_FAILS_REVIEW = 'invoice-request-fails-review';

const invalid = (message: string): ApplicationFailure => ApplicationFailure.create({ type: ErrorType.InvalidInput, message, nonRetryable: true });

/** The marketplace's own decision on an exit: the amount it computed, which must be refundable. */
function exitDecision(input: RefundWorkflowInput): RefundWorkflowDecision {
  const amount = input.request.proposedAmount;
  const units = amount === undefined ? undefined : amountUnits(amount);
  const paid = amountUnits(input.order.paidAmount);
  if (amount === undefined || units === undefined || paid === undefined || units <= 0n || units > paid) {
    throw invalid(`a merchant_exit refund needs an amount with 0 < amount <= paid ${input.order.paidAmount}, got ${String(amount)}`);
  }
  return { kind: 'merchant_exit', amount };
}

export async function refundWorkflow(input: RefundWorkflowInput): Promise<RefundSnapshot> {
  if (
    !input?.eventId ||
    !input.orderId ||
    !input.orderLineId ||
    !input.refundOrderId ||
    !input.customerId ||
    !input.subscriptionWorkflowId ||
    !input.order ||
    !input.request ||
    !input.policy
  ) {
    throw invalid('eventId, the order line, refundOrderId, customerId, subscriptionWorkflowId, order, request and policy are required');
  }
  const origin = input.origin ?? 'customer';
  if (origin !== 'customer' && origin !== 'merchant_exit') throw invalid(`origin ${String(origin)} is neither customer nor merchant_exit`);
  const exit = origin === 'merchant_exit';
  const state: RefundSnapshot = { origin, step: 'refused', decision: exit ? exitDecision(input) : decideRefund(input.order, input.request, input.policy) };

  setHandler(refundStatusQuery, () => state);
  // One thing ends the merchant's review: its answer (or an operator's), or the customer's invoice request.
  const underReview = (): boolean => state.step === 'awaiting-merchant' && !state.merchant && !state.invoiceRequest;
  setHandler(
    merchantRefundAnswerUpdate,
    (answer) => {
      state.merchant = { approved: answer.approved, actorType: answer.actorType ?? 'merchant', actor: answer.actor, ...(answer.reason ? { reason: answer.reason } : {}), atMs: Date.now() };
      return state;
    },
    {
      validator: (answer) => {
        if (!underReview()) throw new Error(`refund ${input.refundOrderId} is not awaiting the merchant (step ${state.step})`);
        if (typeof answer?.approved !== 'boolean' || !answer.actor) throw new Error('approved (boolean) and actor are required');
        if (answer.actorType !== undefined && answer.actorType !== 'merchant' && answer.actorType !== 'operator') throw new Error('actorType is merchant or operator');
      },
    },
  );

  // Each entry's sequence is the workflow's own count: deterministic, so a retried write is a no-op.
  let seq = 0;
  const entry = (e: Omit<RefundDecisionEntry, 'seq' | 'atMs'>): RefundDecisionEntry => ({ ...e, seq: ++seq, atMs: Date.now() });
  const rulesActor = { actorType: 'marketplace' as RefundActorType, actorId: exit ? 'merchant-exit' : 'refund-rules' };

  const requested = await records.recordRefundRequested({
    request: refundRequestRow(input),
    entry: entry({
      step: 'requested',
      outcome: 'requested',
      reason: exit
        ? 'the merchant exits: the marketplace refunds the rest of the period'
        : input.request.proposedAmount === undefined
          ? 'the customer asked for the no-reason full refund'
          : `the customer proposed a refund of ${input.request.proposedAmount}`,
      ...(input.request.proposedAmount !== undefined ? { amount: input.request.proposedAmount } : {}),
      ...(exit ? rulesActor : { actorType: 'customer', actorId: input.customerId }),
    }),
  });
  if (requested.status === 'refused') state.decision = { kind: 'refused', rule: requested.rule };
  const decision = state.decision;

  const rulesEntry = entry({
    step: 'rules',
    outcome: decision.kind,
    reason: decisionReason(decision),
    ...(decision.kind === 'refused' ? { rule: decision.rule } : { amount: decision.amount }),
    ...(exit ? { rule: 'merchant_exit' } : {}),
    ...rulesActor,
  });
  const verdictOf = (): { entry: RefundDecisionEntry; verdict: RefundVerdict } => {
    const approved = state.step === 'approved';
    const rule = state.rule;
    const e = entry({
      step: 'verdict',
      outcome: approved ? 'approved' : 'refused',
      reason: approved ? `refunded ${state.amount ?? ''} ${input.currency}` : refusalReason(rule as RefundRefusalRule),
      ...(rule ? { rule } : {}),
      ...(approved && state.amount ? { amount: state.amount } : {}),
      ...rulesActor,
    });
    return { entry: e, verdict: { status: approved ? 'approved' : 'refused', ...(approved ? { amount: state.amount } : {}), ...(rule ? { rule } : {}), atMs: e.atMs } };
  };
  const refuse = (rule: RefundRefusalRule): void => {
    state.step = 'refused';
    state.rule = rule;
  };
  const approve = (amount: string): void => {
    state.step = 'approved';
    state.amount = amount;
  };

  if (decision.kind === 'negotiated') {
    state.step = 'awaiting-merchant';
    // Taken from before the review is on record, so a request the order system sends once it sees the review is never missed.
    if (patched(INVOICE_REQUEST_FAILS_REVIEW)) {
      setHandler(invoiceRequestedSignal, (request) => {
        // After the merchant's answer, or a first request, the review is over: nothing changes.
        if (underReview() && request?.eventId && typeof request.requestedAt === 'number') state.invoiceRequest = { eventId: request.eventId, requestedAt: request.requestedAt };
      });
    }
    await records.recordRefundSteps({ refundOrderId: input.refundOrderId, entries: [rulesEntry] });
    upsertSearchAttributes([{ key: FulfillmentStatusAttribute, value: 'refund:awaiting-merchant' }]);
    const answered = await condition(() => state.merchant !== undefined || state.invoiceRequest !== undefined, input.merchantDecisionTimeoutMs);
    const answer = state.merchant;
    const invoiceRequest = state.invoiceRequest;
    let answerEntry: RefundDecisionEntry;
    if (invoiceRequest) {
      // The customer, not the merchant, ended the review: its invoice request fails the refund.
      refuse('invoice_requested_during_review');
      answerEntry = entry({
        step: 'invoice_requested',
        outcome: 'refused',
        reason: refusalReason('invoice_requested_during_review'),
        rule: 'invoice_requested_during_review',
        actorType: 'customer',
        actorId: input.customerId,
      });
    } else {
      if (!answered || !answer) refuse('merchant_did_not_answer');
      else if (!answer.approved) refuse('merchant_rejected');
      else approve(decision.amount);
      answerEntry = entry({
        step: 'merchant_answer',
        outcome: !answer ? 'no_answer' : answer.approved ? 'approved' : 'rejected',
        reason: answer?.reason ?? (answer ? `the ${answer.actorType === 'operator' ? 'operator, for the merchant,' : 'merchant'} ${answer.approved ? 'approved' : 'rejected'} it` : refusalReason('merchant_did_not_answer')),
        ...(answer ? { actorType: answer.actorType, actorId: answer.actor } : { actorType: 'marketplace', actorId: 'deadline' }),
        ...(state.rule ? { rule: state.rule } : { amount: decision.amount }),
      });
    }
    const { entry: verdictEntry, verdict } = verdictOf();
    await records.recordRefundSteps({ refundOrderId: input.refundOrderId, entries: [answerEntry, verdictEntry], verdict });
  } else {
    if (decision.kind === 'refused') refuse(decision.rule);
    else approve(decision.amount);
    // An exit's refund is recorded as the marketplace's rule, so the row says why it was made.
    if (exit) state.rule = 'merchant_exit';
    const { entry: verdictEntry, verdict } = verdictOf();
    await records.recordRefundSteps({ refundOrderId: input.refundOrderId, entries: [rulesEntry, verdictEntry], verdict });
  }
  upsertSearchAttributes([{ key: FulfillmentStatusAttribute, value: `refund:${state.step}` }]);

  const approved = state.step === 'approved';
  await orderSystem.notifyOrderSystem({
    idempotencyKey: `refund-decided:${input.eventId}`,
    type: 'order.refund_decided',
    data: {
      orderId: input.orderId,
      orderLineId: input.orderLineId,
      refundOrderId: input.refundOrderId,
      approved,
      ...(decision.kind !== 'refused' ? { kind: decision.kind } : {}),
      ...(approved ? { amount: state.amount, currency: input.currency } : {}),
      ...(state.rule ? { rule: state.rule } : {}),
    },
  });

  if (approved) {
    const event: OrderUnsubscribedEvent = {
      kind: 'order.unsubscribed',
      // One id per refund request: the subscription applies it once.
      eventId: `refund:${input.eventId}`,
      acceptedAtMs: Date.now(),
      orderId: input.refundOrderId,
    };
    try {
      await getExternalWorkflowHandle(input.subscriptionWorkflowId).signal(lifecycleEventSignal, event);
      state.releaseDelivered = true;
    } catch (error) {
      // The subscription has ended (released already, or its create failed): nothing to release.
      state.releaseDelivered = false;
      log.warn('refund approved, release not delivered: the subscription is not running', { subscription: input.subscriptionWorkflowId, error: String(error) });
    }
  }
  await condition(allHandlersFinished);
  return state;
}
