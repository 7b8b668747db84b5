/**
 * refundWorkflow: one customer refund request of one order line, `refund:<orderId>:<orderLineId>`
 * (spec §9.3). The rules decide first (./rules.ts): a full refund within 5 days needs nobody; a
 * negotiated one waits for the merchant's answer until the configured deadline (silence
 * refuses it); anything else is refused with its rule. The verdict goes to the order system,
 * and an approved refund is handed to the subscription as its `order.unsubscribed` event,
 * so the subscription's own release step calls releaseInstance with the refund order's id.
 */
import { allHandlersFinished, ApplicationFailure, condition, getExternalWorkflowHandle, log, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { ErrorType } from '../../shared/errors';
import { FulfillmentStatusAttribute } from '../../shared/search-attributes';
import { lifecycleEventSignal, type OrderUnsubscribedEvent } from '../subscription/messages';
import { merchantRefundAnswerUpdate, refundStatusQuery, type RefundRefusalRule, type RefundSnapshot, type RefundWorkflowInput } from './messages';
import { orderSystem } from './proxies';
import { decideRefund } from './rules';

export async function refundWorkflow(input: RefundWorkflowInput): Promise<RefundSnapshot> {
  if (!input?.eventId || !input.orderId || !input.orderLineId || !input.refundOrderId || !input.subscriptionWorkflowId || !input.order || !input.request || !input.policy) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'eventId, the order line, refundOrderId, subscriptionWorkflowId, order, request and policy are required', nonRetryable: true });
  }
  const decision = decideRefund(input.order, input.request, input.policy);
  const state: RefundSnapshot = { step: decision.kind === 'negotiated' ? 'awaiting-merchant' : decision.kind === 'full' ? 'approved' : 'refused', decision };

  setHandler(refundStatusQuery, () => state);
  setHandler(
    merchantRefundAnswerUpdate,
    (answer) => {
      state.merchant = { approved: answer.approved, actor: answer.actor, ...(answer.reason ? { reason: answer.reason } : {}), atMs: Date.now() };
      return state;
    },
    {
      validator: (answer) => {
        if (state.step !== 'awaiting-merchant' || state.merchant) throw new Error(`refund ${input.refundOrderId} is not awaiting the merchant (step ${state.step})`);
        if (typeof answer?.approved !== 'boolean' || !answer.actor) throw new Error('approved (boolean) and actor are required');
      },
    },
  );

  const refuse = (rule: RefundRefusalRule): void => {
    state.step = 'refused';
    state.rule = rule;
  };
  if (decision.kind === 'refused') refuse(decision.rule);
  else if (decision.kind === 'full') state.amount = decision.amount;
  else {
    upsertSearchAttributes([{ key: FulfillmentStatusAttribute, value: 'refund:awaiting-merchant' }]);
    const answered = await condition(() => state.merchant !== undefined, input.merchantDecisionTimeoutMs);
    if (!answered) refuse('merchant_did_not_answer');
    else if (!state.merchant?.approved) refuse('merchant_rejected');
    else {
      state.step = 'approved';
      state.amount = decision.amount;
    }
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
      ...(approved ? { amount: state.amount, currency: input.currency } : { rule: state.rule }),
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
