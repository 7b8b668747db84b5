/**
 * The refund workflow's input, messages and snapshot: one refund request of one order line,
 * `refund:<refundOrderId>`, decided by the marketplace's rules (./rules.ts), or a refund the
 * marketplace itself makes when a merchant exits.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RefundRequestRecord } from '../../activities/refunds/records';
import { DEFAULT_REFUND_POLICY, type RefundChargingMode, type RefundDecision, type RefundOrder, type RefundPolicy, type RefundRequest, type RefusalRule } from './rules';

/** The refund's workflow id: its refund (unsubscribe) order, the business key of the request. */
export const refundWorkflowId = (refundOrderId: string): string => `refund:${refundOrderId}`;

/**
 * Who asked: the customer, through the order system (`order.refund_requested`), decided by the
 * rules and, for a negotiated refund, the merchant; or the marketplace when a merchant exits
 * (spec §9.4), with the amount the marketplace decided: no rules, no merchant.
 */
export type RefundOrigin = 'customer' | 'merchant_exit';

export interface RefundWorkflowInput {
  /** Absent: `customer`. */
  origin?: RefundOrigin;
  /** The id of the event that asked (order.refund_requested), or the exit's key: the key of every message the refund sends. */
  eventId: string;
  /** The order line refunded. */
  orderId: string;
  orderLineId: string;
  /** The refund (unsubscribe) order: the subscription releases the instance under this order id. */
  refundOrderId: string;
  merchantId: string;
  customerId: string;
  currency: string;
  /** The subscription holding the instance: told `order.unsubscribed` once the refund is approved. */
  subscriptionWorkflowId: string;
  order: RefundOrder;
  /** For a merchant_exit refund, `proposedAmount` is the amount the marketplace decided. */
  request: RefundRequest;
  policy: RefundPolicy;
  /** How long the merchant has to decide a negotiated refund; no answer by then refuses it. */
  merchantDecisionTimeoutMs: number;
}

/**
 * What the exit workflow knows of a line it refunds on a merchant's exit. The caller computes
 * the pro-rata `amount` (0 < amount ≤ paidAmount, an exact decimal with at most 4 places) and
 * makes the refund (unsubscribe) order id; the refund records it with rule and reason
 * `merchant_exit`, tells the order system, and releases the instance through the subscription.
 */
export interface MerchantExitRefund {
  refundOrderId: string;
  orderId: string;
  orderLineId: string;
  merchantId: string;
  customerId: string;
  currency: string;
  subscriptionWorkflowId: string;
  chargingMode: RefundChargingMode;
  /** What the customer paid for the line, an exact decimal string. */
  paidAmount: string;
  /** When the customer paid, epoch ms. */
  paidAt: number;
  /** The pro-rata amount the marketplace refunds. */
  amount: string;
  /** When the exit decided the refund, epoch ms (in a workflow: its Date.now()). */
  requestedAt: number;
}

/**
 * The refunds row of a request, as the API stores it pending beside its event and the
 * workflow records it (a no-op when the API already did): one shape from one place.
 */
export function refundRequestRow(input: Omit<RefundWorkflowInput, 'policy' | 'merchantDecisionTimeoutMs'>): RefundRequestRecord['request'] {
  const origin = input.origin ?? 'customer';
  const { proposedAmount } = input.request;
  return {
    refundOrderId: input.refundOrderId,
    orderId: input.orderId,
    orderLineId: input.orderLineId,
    merchantId: input.merchantId,
    customerId: input.customerId,
    origin,
    kind: origin === 'merchant_exit' ? 'merchant_exit' : proposedAmount === undefined ? 'full' : 'negotiated',
    ...(proposedAmount !== undefined ? { proposedAmount } : {}),
    paidAmount: input.order.paidAmount,
    currency: input.currency,
    workflowId: refundWorkflowId(input.refundOrderId),
    eventId: input.eventId,
    requestedAtMs: input.request.requestedAt,
  };
}

/**
 * The refund workflow's input for a merchant's exit; start it as a child workflow with the id
 * `refundWorkflowId(refundOrderId)` and the workflow type `refundWorkflow`.
 */
export function merchantExitRefundInput(r: MerchantExitRefund): RefundWorkflowInput {
  return {
    origin: 'merchant_exit',
    eventId: `merchant-exit:${r.refundOrderId}`,
    orderId: r.orderId,
    orderLineId: r.orderLineId,
    refundOrderId: r.refundOrderId,
    merchantId: r.merchantId,
    customerId: r.customerId,
    currency: r.currency,
    subscriptionWorkflowId: r.subscriptionWorkflowId,
    order: { chargingMode: r.chargingMode, trial: false, paidAt: r.paidAt, paidAmount: r.paidAmount, invoiceOutstanding: false },
    request: { requestedAt: r.requestedAt, proposedAmount: r.amount, earlierSelfServiceRefunds: [] },
    // Neither is read for a merchant_exit refund: no rules, no merchant to wait for.
    policy: DEFAULT_REFUND_POLICY,
    merchantDecisionTimeoutMs: 0,
  };
}

/**
 * Rules that refuse beyond ./rules.ts: the merchant's own answer, or its silence; another
 * refund of the same order line already pending or approved (one live refund per line); and
 * the customer asking for an invoice while the merchant reviews a negotiated refund (§9.3).
 */
export type RefundRefusalRule = RefusalRule | 'merchant_rejected' | 'merchant_did_not_answer' | 'refund_already_live' | 'invoice_requested_during_review';

/**
 * The rules' decision, a refusal because the line has another live refund, or the
 * marketplace's own decision on a merchant's exit.
 */
export type RefundWorkflowDecision =
  | Exclude<RefundDecision, { kind: 'refused' }>
  | { readonly kind: 'refused'; readonly rule: RefundRefusalRule }
  | { readonly kind: 'merchant_exit'; readonly amount: string };

export type RefundStep = 'awaiting-merchant' | 'approved' | 'refused';

export interface RefundAnswerRecord {
  approved: boolean;
  /** The merchant itself, or an operator acting for it. */
  actorType: RefundAnswerActor;
  actor: string;
  reason?: string;
  atMs: number;
}

export interface RefundSnapshot {
  origin: RefundOrigin;
  step: RefundStep;
  decision: RefundWorkflowDecision;
  /** Set once approved: the amount refunded. */
  amount?: string;
  /** Set once refused: the rule that refused it; `merchant_exit` on an exit's refund. */
  rule?: RefundRefusalRule | 'merchant_exit';
  /** The merchant's answer to a negotiated refund. */
  merchant?: RefundAnswerRecord;
  /** False when the subscription was no longer running to release the instance. */
  releaseDelivered?: boolean;
  /** The customer's invoice request that failed the refund during the merchant's review. */
  invoiceRequest?: InvoiceRequestDuringReview;
}

/** order.invoice_requested, as the refund hears it while the merchant reviews (spec §9.3). */
export interface InvoiceRequestDuringReview {
  /** The webhook-id of the order system's event. */
  eventId: string;
  /** When the customer asked, epoch ms. */
  requestedAt: number;
}

export type RefundAnswerActor = 'merchant' | 'operator';

export interface MerchantRefundAnswer {
  approved: boolean;
  /** Absent: `merchant`. An operator answers for the merchant under its own name. */
  actorType?: RefundAnswerActor;
  /** Who answered, for the record (the merchant id, or the operator's name). */
  actor: string;
  reason?: string;
}

export const refundStatusQuery = defineQuery<RefundSnapshot>('refundStatus');
/** The merchant's answer to a negotiated refund; refused unless the refund is awaiting it. */
export const merchantRefundAnswerUpdate = defineUpdate<RefundSnapshot, [MerchantRefundAnswer]>('merchantRefundAnswer');
/**
 * The customer asked for an invoice of the line. While the refund awaits the merchant and
 * nobody answered yet, it fails the refund as `invoice_requested_during_review` (spec §9.3);
 * otherwise it changes nothing. A signal, so the order system's webhook never waits for a worker.
 */
export const invoiceRequestedSignal = defineSignal<[InvoiceRequestDuringReview]>('invoiceRequested');
