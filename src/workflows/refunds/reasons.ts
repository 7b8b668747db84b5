/**
 * The reason recorded beside each refund decision (the order's timeline shows it), in words an
 * operator reads without the code; the rule's name is recorded beside it.
 */
import type { RefundRefusalRule, RefundWorkflowDecision } from './messages';

const REFUSALS: Readonly<Record<RefundRefusalRule, string>> = {
  one_time_no_refund: 'one-time purchases are not refunded (§9.3)',
  package_no_refund: 'pay-per-use packages are not refunded',
  pay_per_use_not_prepaid: 'post-paid pay-per-use has no payment to return',
  trial_not_paid: 'a trial or an unpaid line has nothing to refund',
  invoice_not_returned: 'the invoice issued for the order must be returned first (§9.3)',
  full_refund_window_passed: 'the no-reason full refund is open 5 days after payment only (§9.3)',
  self_service_limit_reached: 'the customer already had its 10 self-service refunds this calendar year (§9.3)',
  outside_guarantee_period: 'a negotiated refund is possible inside the guarantee period only (§9.3)',
  negotiated_amount_out_of_range: 'the proposed amount must be more than 0 and at most the amount paid (§9.3)',
  hardware_in_transit: 'hardware in transit cannot be refunded as unreceived goods (§9.3)',
  licence_claimed: 'a claimed licence code has no negotiated refund (§9.3)',
  manual_service_requirement_late: 'the customer did not submit its requirements through supervision within 1 month of payment: no full refund of a manual service (§9.3)',
  manual_service_stalled: 'the customer left the project waiting for its materials more than 1 month: no full refund of a manual service (§9.3)',
  merchant_rejected: 'the merchant rejected the negotiated refund',
  merchant_did_not_answer: 'the merchant did not answer the negotiated refund before its deadline',
  refund_already_live: 'another refund of the order line is pending or approved',
  invoice_requested_during_review: 'the customer asked for an invoice while the merchant reviewed the refund (§9.3)',
};

export const refusalReason = (rule: RefundRefusalRule): string => REFUSALS[rule];

/** Why the rules (or the marketplace, on an exit) decided as they did. */
export function decisionReason(decision: RefundWorkflowDecision): string {
  switch (decision.kind) {
    case 'full':
      return 'within 5 days of payment: the no-reason full refund, without the merchant (§9.3)';
    case 'negotiated':
      return `inside the guarantee period: a negotiated refund of ${decision.amount}, for the merchant to decide (§9.3)`;
    case 'merchant_exit':
      return `the merchant exits: the marketplace refunds ${decision.amount}, the rest of the period pro rata (§9.4)`;
    case 'refused':
      return refusalReason(decision.rule);
  }
}
