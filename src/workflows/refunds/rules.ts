/**
 * The marketplace's refund rules (spec §9.3), pure: the refund workflow and the tests apply
 * the same decision. Amounts are exact decimal strings (as the order events carry them) and
 * instants are epoch milliseconds, so the input is JSON-plain and sandbox-safe.
 */

/** Charging modes of the catalogue (`api/catalog/schemas.ts`), repeated here because workflow code may not import the API. */
export type RefundChargingMode = 'PERIOD' | 'ONE_TIME' | 'ON_DEMAND' | 'ON_DEMAND_PKG';

export interface RefundPolicy {
  /** The no-reason full refund is open this many days (of 24 hours) after payment: 5 (§9.3). */
  readonly fullRefundDays: number;
  /** Self-service refunds per customer per calendar year (Beijing time, from 1 January): 10 (§9.3). */
  readonly selfServiceRefundsPerYear: number;
  /** The transaction guarantee period, in days after payment; the spec gives no length. */
  readonly guaranteePeriodDays: number;
}

/** The spec's 5 days and 10 a year; the 30-day guarantee period is ours (the spec names the period without a length). */
export const DEFAULT_REFUND_POLICY: RefundPolicy = Object.freeze({
  fullRefundDays: 5,
  selfServiceRefundsPerYear: 10,
  guaranteePeriodDays: 30,
});

export interface RefundOrder {
  readonly chargingMode: RefundChargingMode;
  readonly trial: boolean;
  /** When the customer paid, epoch ms. */
  readonly paidAt: number;
  /** What the customer paid, an exact decimal string such as `"99.50"`. */
  readonly paidAmount: string;
  /** An invoice was issued for the order and has not been returned. */
  readonly invoiceOutstanding: boolean;
  /** A supervised manual service (spec §9.1): what its supervision records of the customer. */
  readonly manualService?: ManualServiceFacts;
  /** A supervised licence code that the customer has claimed. */
  readonly licenceClaimed?: boolean;
  /** Hardware that the order system reports on its way to the customer. */
  readonly goodsInTransit?: boolean;
}

/** The supervision's record of a manual service, as far as §9.3's conditions read it. */
export interface ManualServiceFacts {
  /** When the customer first submitted its requirements through supervision, epoch ms; absent while it has not. */
  readonly requirementSubmittedAt?: number;
  /**
   * The stretches in which the project waited for the customer's materials (its requirement
   * returned for edits), epoch ms; `to` absent while it still waits.
   */
  readonly customerWaits: readonly { readonly from: number; readonly to?: number }[];
}

export interface RefundRequest {
  /** When the customer asked, epoch ms. */
  readonly requestedAt: number;
  /** Absent: the no-reason full refund. Present: a negotiated refund of this amount. */
  readonly proposedAmount?: string;
  /**
   * When the customer's earlier self-service refunds were granted, epoch ms; only those in the
   * request's calendar year (Beijing time) count, so callers may pass more.
   */
  readonly earlierSelfServiceRefunds: readonly number[];
}

/** Every rule that can refuse a refund; the verdict names one of them. */
export type RefusalRule =
  | 'one_time_no_refund'
  | 'package_no_refund'
  | 'pay_per_use_not_prepaid'
  | 'trial_not_paid'
  | 'invoice_not_returned'
  | 'full_refund_window_passed'
  | 'self_service_limit_reached'
  | 'outside_guarantee_period'
  | 'negotiated_amount_out_of_range'
  | 'hardware_in_transit'
  | 'licence_claimed'
  | 'manual_service_requirement_late'
  | 'manual_service_stalled';

export type RefundDecision =
  /** The 5-day no-reason refund: granted without the merchant, counted as self-service. */
  | { readonly kind: 'full'; readonly amount: string }
  /** A negotiated refund: granted only if the merchant agrees. */
  | { readonly kind: 'negotiated'; readonly amount: string }
  | { readonly kind: 'refused'; readonly rule: RefusalRule };

const DAY_MS = 86_400_000;
const BEIJING_OFFSET_MS = 8 * 3_600_000;
const AMOUNT = /^(\d{1,16})(?:\.(\d{1,4}))?$/;

/** An exact decimal string as ten-thousandths; undefined when it is not one. */
export function amountUnits(amount: string): bigint | undefined {
  const match = AMOUNT.exec(amount);
  if (!match) return undefined;
  return BigInt(match[1] ?? '0') * 10_000n + BigInt((match[2] ?? '').padEnd(4, '0'));
}

function beijingYear(ms: number): number {
  return new Date(ms + BEIJING_OFFSET_MS).getUTCFullYear();
}

/**
 * The same instant one calendar month later, in Beijing time; the day is held to the end of a
 * shorter month (31 January → 28 or 29 February).
 */
export function oneMonthAfter(ms: number): number {
  const d = new Date(ms + BEIJING_OFFSET_MS);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), lastDay);
  return Date.UTC(year, month, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()) - BEIJING_OFFSET_MS;
}

/**
 * Why a manual service loses the refund of its whole amount (§9.3), or undefined: the customer
 * did not submit its requirements within one month of payment (or, not having submitted them,
 * asks more than a month after), or left the project waiting for its materials for more than a
 * month (a wait still open counts to the request).
 */
export function manualServiceRefusal(facts: ManualServiceFacts, paidAt: number, requestedAt: number): RefusalRule | undefined {
  if ((facts.requirementSubmittedAt ?? requestedAt) > oneMonthAfter(paidAt)) return 'manual_service_requirement_late';
  if (facts.customerWaits.some((w) => (w.to ?? requestedAt) > oneMonthAfter(w.from))) return 'manual_service_stalled';
  return undefined;
}

/** Self-service refunds the customer already had in the calendar year (Beijing time) of `at`. */
export function selfServiceRefundsInYear(earlier: readonly number[], at: number): number {
  const year = beijingYear(at);
  return earlier.filter((ms) => beijingYear(ms) === year).length;
}

/**
 * Decides a refund request. Rules in the order they are checked:
 * 1. one-time purchases, pay-per-use packages, post-paid pay-per-use and trials are never refunded;
 * 2. an issued invoice must be returned first;
 * 3. hardware in transit is not refunded;
 * 4. without a proposed amount: the full refund while no more than `fullRefundDays` have passed
 *    since payment, unless the customer already had `selfServiceRefundsPerYear` this year, or
 *    it is a manual service that lost its full refund (`manualServiceRefusal`);
 * 5. with a proposed amount (0 < amount ≤ paid): a negotiated refund for the merchant to decide,
 *    while no more than `guaranteePeriodDays` have passed since payment; never for a claimed
 *    licence code; and for the whole amount paid, not for a manual service that lost its full
 *    refund (a smaller amount may still be negotiated).
 */
export function decideRefund(order: RefundOrder, request: RefundRequest, policy: RefundPolicy = DEFAULT_REFUND_POLICY): RefundDecision {
  if (order.chargingMode === 'ONE_TIME') return { kind: 'refused', rule: 'one_time_no_refund' };
  if (order.chargingMode === 'ON_DEMAND_PKG') return { kind: 'refused', rule: 'package_no_refund' };
  if (order.chargingMode === 'ON_DEMAND') return { kind: 'refused', rule: 'pay_per_use_not_prepaid' };
  const paid = amountUnits(order.paidAmount);
  if (order.trial || paid === undefined || paid === 0n) return { kind: 'refused', rule: 'trial_not_paid' };
  if (order.invoiceOutstanding) return { kind: 'refused', rule: 'invoice_not_returned' };
  if (order.goodsInTransit) return { kind: 'refused', rule: 'hardware_in_transit' };

  const elapsed = request.requestedAt - order.paidAt;
  const lostFullRefund = (): RefusalRule | undefined => order.manualService && manualServiceRefusal(order.manualService, order.paidAt, request.requestedAt);
  if (request.proposedAmount === undefined) {
    if (elapsed > policy.fullRefundDays * DAY_MS) return { kind: 'refused', rule: 'full_refund_window_passed' };
    if (selfServiceRefundsInYear(request.earlierSelfServiceRefunds, request.requestedAt) >= policy.selfServiceRefundsPerYear) {
      return { kind: 'refused', rule: 'self_service_limit_reached' };
    }
    const lost = lostFullRefund();
    if (lost) return { kind: 'refused', rule: lost };
    return { kind: 'full', amount: order.paidAmount };
  }

  const proposed = amountUnits(request.proposedAmount);
  if (proposed === undefined || proposed <= 0n || proposed > paid) return { kind: 'refused', rule: 'negotiated_amount_out_of_range' };
  if (elapsed > policy.guaranteePeriodDays * DAY_MS) return { kind: 'refused', rule: 'outside_guarantee_period' };
  if (order.licenceClaimed) return { kind: 'refused', rule: 'licence_claimed' };
  if (proposed === paid) {
    const lost = lostFullRefund();
    if (lost) return { kind: 'refused', rule: lost };
  }
  return { kind: 'negotiated', amount: request.proposedAmount };
}
