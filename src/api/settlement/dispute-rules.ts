/**
 * The rules of a statement-line dispute (spec §9.2: differences go through tickets and are
 * adjusted in the next cycle). A merchant disputes a statement it was sent; an operator may
 * confirm at most what was claimed, in the claim's direction. Pure: each refusal names its rule.
 */
import type { StatementStep } from '../../db/repositories/settlement/statements';
import { formatUnits, units } from './invoice-rules';

/** Steps at which the merchant has been sent the statement (review ends with sending it). */
const SENT_STEPS: readonly StatementStep[] = ['countersign', 'payment-request', 'invoicing', 'verification', 'payment', 'paid'];

export const statementSent = (step: StatementStep): boolean => SENT_STEPS.includes(step);

export interface DifferenceRefusal {
  rule: 'difference_same_direction_as_claim' | 'difference_within_claim';
  field: 'difference';
  reason: string;
}

/** Why a confirmed difference does not fit the claim, if it does not. */
export function confirmedDifferenceRefusal(claimedDifference: string, difference: string): DifferenceRefusal | undefined {
  const claimed = units(claimedDifference);
  const confirmed = units(difference);
  if (claimed < 0n !== confirmed < 0n) {
    return {
      rule: 'difference_same_direction_as_claim',
      field: 'difference',
      reason: `the merchant claimed ${formatUnits(claimed)}; a confirmed difference has the same sign`,
    };
  }
  if ((confirmed < 0n ? -confirmed : confirmed) > (claimed < 0n ? -claimed : claimed)) {
    return { rule: 'difference_within_claim', field: 'difference', reason: `at most the claimed difference ${formatUnits(claimed)} can be confirmed` };
  }
  return undefined;
}
