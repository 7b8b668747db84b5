/**
 * The exit workflow's input, messages and snapshot: one merchant leaving the marketplace,
 * `exit:<merchantId>` (spec §9.4). The API's exit gateway and the workflow both import these.
 * All JSON-plain: they are stored in workflow histories.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/** The exit's workflow id: one exit of a merchant at a time. */
export const exitWorkflowId = (merchantId: string): string => `exit:${merchantId}`;

/** The merchant asked to leave (its signed request), or an operator forced it out (a termination penalty, say). */
export type ExitKind = 'requested' | 'forced';

export interface ExitWorkflowInput {
  merchantId: string;
  kind: ExitKind;
  /** Who started it: the merchant id, or the operator's name. */
  requestedBy: string;
  reason: string;
  /** The penalty ledger entry that terminated the merchant, for a forced exit. */
  penaltyId?: string;
  /**
   * The state a previous run handed over through continue-as-new (a long wait on blocking
   * orders re-checks hourly for weeks); absent on the first run.
   */
  carried?: ExitSnapshot;
  /** Continue as new after this many precondition checks in one run (default 500; Temporal's suggestion counts too). */
  continueAsNewAfterChecks?: number;
}

/**
 * Where the exit stands: the ExitStep search attribute and the status query's `step`.
 * `checking` re-reads the preconditions; `blocked` waits for blocking orders to clear;
 * `awaiting-review` waits for an operator; after approval the steps run in this order, and
 * the exit ends `removed`, `rejected` or `withdrawn` (an operator set the merchant back to
 * trading through the listing route before approving).
 */
export type ExitStep =
  | 'checking'
  | 'blocked'
  | 'awaiting-review'
  | 'delisting'
  | 'freezing'
  | 'releasing'
  | 'awaiting-releases'
  | 'revoking'
  | 'recording'
  | 'removed'
  | 'rejected'
  | 'withdrawn';

/** The §9.4 preconditions the exit waits on; products still on sale are delisted by the exit itself once approved. */
export type ExitPrecondition = 'no-order-in-fulfilment' | 'no-unsettled-order' | 'no-uninvoiced-order';

export interface BlockingOrder {
  orderId: string;
  orderLineId: string;
  productId: string;
  /** Why this order blocks, in words (the subscription's status, the statement's step, …). */
  why: string;
}

export interface ProductToDelist {
  productId: string;
  /** Its listing state as read now. */
  state: string;
}

/** What the precondition check read from PostgreSQL. */
export interface ExitFacts {
  merchantState: string;
  productsToDelist: ProductToDelist[];
  blocking: Array<{ precondition: ExitPrecondition; orders: BlockingOrder[] }>;
}

/** A live subscription of the merchant, refunded pro rata and released on approval. */
export interface LiveSubscription {
  orderId: string;
  orderLineId: string;
  productId: string;
  customerId: string;
  currency: string;
  chargingMode: string;
  subscriptionWorkflowId: string;
  /** What the customer paid for the line, an exact decimal string. */
  paidAmount: string;
  /** When it was paid, epoch ms: the start of the paid period. */
  paidAtMs: number;
  /** The end of the paid period, epoch ms; absent for lines that never expire. */
  expiresAtMs?: number;
}

/** One live subscription's refund on the exit (the refund order the merchant's final statement charges back). */
export interface ExitRefund {
  orderId: string;
  orderLineId: string;
  productId: string;
  subscriptionWorkflowId: string;
  refundOrderId: string;
  /** The pro-rata amount refunded ("0.00": released without a refund: nothing of its paid time was left). */
  amount: string;
  currency: string;
  paidAmount: string;
  /** The refund workflow, when there was an amount to refund. */
  refundWorkflowId?: string;
  released: boolean;
}

export interface ExitTimelineEntry {
  atMs: number;
  /** Who acted: the merchant, an operator's name, or `system` for the workflow itself. */
  actor: string;
  action: string;
  reason?: string;
  detail?: Record<string, unknown>;
}

export interface ExitReview {
  decision: 'approve' | 'reject';
  actor: string;
  reason: string;
}

export interface ExitSnapshot {
  merchantId: string;
  kind: ExitKind;
  step: ExitStep;
  stepSinceMs: number;
  requestedBy: string;
  reason: string;
  penaltyId?: string;
  /** The preconditions that fail, with the orders that block each; empty when none. */
  blocking: ExitFacts['blocking'];
  productsToDelist: ProductToDelist[];
  lastCheckedAtMs?: number;
  review?: ExitReview & { atMs: number };
  refunds: ExitRefund[];
  timeline: ExitTimelineEntry[];
}

/** A fact that may have cleared (a proof uploaded, a statement paid): check the preconditions again now. */
export interface ExitRecheck {
  actor: string;
  reason: string;
}

export const exitStatusQuery = defineQuery<ExitSnapshot>('exitStatus');
export const exitRecheckSignal = defineSignal<[ExitRecheck]>('exitRecheck');
/**
 * The operator's review. Approve only at `awaiting-review` (nothing blocks); reject at
 * `checking`, `blocked` or `awaiting-review`. Answers once the decision is taken in.
 */
export const exitReviewUpdate = defineUpdate<ExitSnapshot, [ExitReview]>('exitReview');
