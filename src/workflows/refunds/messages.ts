/**
 * The refund workflow's input, messages and snapshot: one refund request of one order line,
 * `refund:<orderId>:<orderLineId>`, decided by the marketplace's rules (./rules.ts).
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RefundDecision, RefundOrder, RefundPolicy, RefundRequest, RefusalRule } from './rules';

/** The refund's workflow id: the business key of the order line refunded. */
export const refundWorkflowId = (orderId: string, orderLineId: string): string => `refund:${orderId}:${orderLineId}`;

export interface RefundWorkflowInput {
  /** The id of the event that asked (order.refund_requested): the key of every message the refund sends. */
  eventId: string;
  /** The order line refunded. */
  orderId: string;
  orderLineId: string;
  /** The refund (unsubscribe) order: the subscription releases the instance under this order id. */
  refundOrderId: string;
  merchantId: string;
  currency: string;
  /** The subscription holding the instance: told `order.unsubscribed` once the refund is approved. */
  subscriptionWorkflowId: string;
  order: RefundOrder;
  request: RefundRequest;
  policy: RefundPolicy;
  /** How long the merchant has to decide a negotiated refund; no answer by then refuses it. */
  merchantDecisionTimeoutMs: number;
}

/** Rules that refuse beyond ./rules.ts: the merchant's own answer, or its silence. */
export type RefundRefusalRule = RefusalRule | 'merchant_rejected' | 'merchant_did_not_answer';

export type RefundStep = 'awaiting-merchant' | 'approved' | 'refused';

export interface RefundSnapshot {
  step: RefundStep;
  decision: RefundDecision;
  /** Set once approved: the amount refunded. */
  amount?: string;
  /** Set once refused: the rule that refused it. */
  rule?: RefundRefusalRule;
  /** The merchant's answer to a negotiated refund. */
  merchant?: { approved: boolean; actor: string; reason?: string; atMs: number };
  /** False when the subscription was no longer running to release the instance. */
  releaseDelivered?: boolean;
}

export interface MerchantRefundAnswer {
  approved: boolean;
  /** Who answered, for the record (the merchant id, or an operator acting for it). */
  actor: string;
  reason?: string;
}

export const refundStatusQuery = defineQuery<RefundSnapshot>('refundStatus');
/** The merchant's answer to a negotiated refund; refused unless the refund is awaiting it. */
export const merchantRefundAnswerUpdate = defineUpdate<RefundSnapshot, [MerchantRefundAnswer]>('merchantRefundAnswer');
