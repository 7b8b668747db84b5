/**
 * The dispute rules: a statement can be disputed once it was sent, and an operator confirms
 * at most the claimed difference, in its direction, to the ten-thousandth.
 */
import { confirmedDifferenceRefusal, statementSent } from '../../../src/api/settlement/dispute-rules';

describe('dispute rules', () => {
  test('when the statement is still being prepared or reviewed, then it is not yet disputable', () => {
    expect(['draft', 'held', 'review'].map((s) => statementSent(s as never))).toEqual([false, false, false]);
    expect(['countersign', 'payment-request', 'invoicing', 'verification', 'payment', 'paid'].every((s) => statementSent(s as never))).toBe(true);
  });

  test('when the confirmed difference is the claim or less, in its direction, then it is accepted', () => {
    expect(confirmedDifferenceRefusal('20.0000', '20')).toBeUndefined();
    expect(confirmedDifferenceRefusal('20.0000', '0.0001')).toBeUndefined();
    // A refund line claimed to be smaller: the merchant owes back less, a negative claim.
    expect(confirmedDifferenceRefusal('-30.5000', '-30.5')).toBeUndefined();
  });

  test('when it exceeds the claim by a ten-thousandth or goes the other way, then the rule is named', () => {
    expect(confirmedDifferenceRefusal('20.0000', '20.0001')?.rule).toBe('difference_within_claim');
    expect(confirmedDifferenceRefusal('-30.5000', '-30.5001')?.rule).toBe('difference_within_claim');
    expect(confirmedDifferenceRefusal('20.0000', '-1')).toEqual({ rule: 'difference_same_direction_as_claim', field: 'difference', reason: expect.stringContaining('20.0000') });
    expect(confirmedDifferenceRefusal('-20.0000', '1')?.rule).toBe('difference_same_direction_as_claim');
  });
});
