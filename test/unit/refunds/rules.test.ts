/**
 * The marketplace's refund rules (spec §9.3): the 5-day full refund, 10 self-service refunds a
 * calendar year, negotiated refunds inside the guarantee period, and the refusals, each named.
 */
import { amountUnits, decideRefund, DEFAULT_REFUND_POLICY, manualServiceRefusal, oneMonthAfter, selfServiceRefundsInYear } from '../../../src/workflows/refunds/rules';
import type { RefundOrder, RefundRequest } from '../../../src/workflows/refunds/rules';

const at = (beijing: string): number => Date.parse(`${beijing}+08:00`);
const DAY = 86_400_000;

const paidAt = at('2026-03-10T12:00:00');
const order: RefundOrder = { chargingMode: 'PERIOD', trial: false, paidAt, paidAmount: '99.50', invoiceOutstanding: false };
const request = (over: Partial<RefundRequest> = {}): RefundRequest => ({ requestedAt: paidAt + DAY, earlierSelfServiceRefunds: [], ...over });
const times = (n: number, ms: number): number[] => Array.from({ length: n }, (_, i) => ms + i * 1000);

describe('refund rules (spec §9.3)', () => {
  test('when a periodic order asks within 5 days, then the full amount is refunded without the merchant', () => {
    expect(decideRefund(order, request())).toEqual({ kind: 'full', amount: '99.50' });
  });

  test('when exactly 5 days have passed, then the full refund is still open; a millisecond later, or on day 6, it is refused', () => {
    expect(decideRefund(order, request({ requestedAt: paidAt + 5 * DAY }))).toEqual({ kind: 'full', amount: '99.50' });
    expect(decideRefund(order, request({ requestedAt: paidAt + 5 * DAY + 1 }))).toEqual({ kind: 'refused', rule: 'full_refund_window_passed' });
    expect(decideRefund(order, request({ requestedAt: paidAt + 6 * DAY }))).toEqual({ kind: 'refused', rule: 'full_refund_window_passed' });
  });

  test('when the customer had 9 self-service refunds this year, then the 10th is granted; after 10, the 11th is refused', () => {
    const earlier = at('2026-01-05T09:00:00');
    expect(decideRefund(order, request({ earlierSelfServiceRefunds: times(9, earlier) })).kind).toBe('full');
    expect(decideRefund(order, request({ earlierSelfServiceRefunds: times(10, earlier) }))).toEqual({
      kind: 'refused',
      rule: 'self_service_limit_reached',
    });
  });

  test('when the earlier refunds fall in last year (Beijing time), then they do not count', () => {
    // 2025-12-31 16:30 UTC is already 2026-01-01 00:30 in Beijing: it counts for 2026.
    const lastYear = times(10, at('2025-12-31T23:59:00'));
    const newYearInBeijing = times(10, Date.parse('2025-12-31T16:30:00Z'));
    expect(selfServiceRefundsInYear(lastYear, paidAt)).toBe(0);
    expect(selfServiceRefundsInYear(newYearInBeijing, paidAt)).toBe(10);
    expect(decideRefund(order, request({ earlierSelfServiceRefunds: lastYear })).kind).toBe('full');
    const januaryOrder = { ...order, paidAt: at('2026-01-01T00:00:00') };
    expect(decideRefund(januaryOrder, request({ requestedAt: at('2026-01-01T00:00:00'), earlierSelfServiceRefunds: lastYear })).kind).toBe('full');
  });

  test('when the limit is reached, then a negotiated refund is still possible, for the merchant to decide', () => {
    const earlierSelfServiceRefunds = times(10, at('2026-02-01T09:00:00'));
    expect(decideRefund(order, request({ earlierSelfServiceRefunds, proposedAmount: '99.5' }))).toEqual({ kind: 'negotiated', amount: '99.5' });
  });

  test('when the customer proposes 0 < amount <= paid inside the guarantee period, then it is a negotiated refund', () => {
    const day20 = paidAt + 20 * DAY;
    expect(decideRefund(order, request({ requestedAt: day20, proposedAmount: '0.0001' }))).toEqual({ kind: 'negotiated', amount: '0.0001' });
    expect(decideRefund(order, request({ requestedAt: day20, proposedAmount: '99.50' }))).toEqual({ kind: 'negotiated', amount: '99.50' });
  });

  test('when the proposed amount is 0, above the amount paid, or not a decimal, then it is refused', () => {
    for (const proposedAmount of ['0', '0.0000', '99.5001', '100', '-1', '1e3', '']) {
      expect(decideRefund(order, request({ proposedAmount }))).toEqual({ kind: 'refused', rule: 'negotiated_amount_out_of_range' });
    }
  });

  test('when the guarantee period (30 days by default) has passed, then a negotiated refund is refused', () => {
    const { guaranteePeriodDays } = DEFAULT_REFUND_POLICY;
    expect(decideRefund(order, request({ requestedAt: paidAt + guaranteePeriodDays * DAY, proposedAmount: '10' })).kind).toBe('negotiated');
    expect(decideRefund(order, request({ requestedAt: paidAt + guaranteePeriodDays * DAY + 1, proposedAmount: '10' }))).toEqual({
      kind: 'refused',
      rule: 'outside_guarantee_period',
    });
    const policy = { ...DEFAULT_REFUND_POLICY, guaranteePeriodDays: 7 };
    expect(decideRefund(order, request({ requestedAt: paidAt + 8 * DAY, proposedAmount: '10' }), policy)).toEqual({
      kind: 'refused',
      rule: 'outside_guarantee_period',
    });
  });

  test('when the order is one-time, a package, post-paid pay-per-use or a trial, then nothing is refunded, whatever the timing', () => {
    const early = request();
    expect(decideRefund({ ...order, chargingMode: 'ONE_TIME' }, early)).toEqual({ kind: 'refused', rule: 'one_time_no_refund' });
    expect(decideRefund({ ...order, chargingMode: 'ON_DEMAND_PKG' }, early)).toEqual({ kind: 'refused', rule: 'package_no_refund' });
    expect(decideRefund({ ...order, chargingMode: 'ON_DEMAND' }, early)).toEqual({ kind: 'refused', rule: 'pay_per_use_not_prepaid' });
    expect(decideRefund({ ...order, trial: true }, early)).toEqual({ kind: 'refused', rule: 'trial_not_paid' });
    expect(decideRefund({ ...order, paidAmount: '0.00' }, request({ proposedAmount: '1' }))).toEqual({ kind: 'refused', rule: 'trial_not_paid' });
  });

  test('when an issued invoice has not been returned, then the refund is refused until it is', () => {
    expect(decideRefund({ ...order, invoiceOutstanding: true }, request())).toEqual({ kind: 'refused', rule: 'invoice_not_returned' });
    expect(decideRefund({ ...order, invoiceOutstanding: true }, request({ proposedAmount: '5' }))).toEqual({ kind: 'refused', rule: 'invoice_not_returned' });
  });

  test('amounts compare exactly, to 4 decimal places', () => {
    expect(amountUnits('99.5')).toBe(995_000n);
    expect(amountUnits('99.5000')).toBe(995_000n);
    expect(amountUnits('0.0001')).toBe(1n);
    expect(amountUnits('1.23456')).toBeUndefined();
  });

  test('one calendar month after is the same Beijing date and time a month on, held to the end of a shorter month', () => {
    expect(oneMonthAfter(at('2026-03-10T12:00:00'))).toBe(at('2026-04-10T12:00:00'));
    expect(oneMonthAfter(at('2026-01-31T09:00:00'))).toBe(at('2026-02-28T09:00:00'));
    expect(oneMonthAfter(at('2028-01-31T09:00:00'))).toBe(at('2028-02-29T09:00:00'));
    expect(oneMonthAfter(at('2026-12-15T00:30:00'))).toBe(at('2027-01-15T00:30:00'));
    // 2026-01-31 20:00 UTC is already 1 February in Beijing: a month on is 1 March there.
    expect(oneMonthAfter(Date.parse('2026-01-31T20:00:00Z'))).toBe(at('2026-03-01T04:00:00'));
  });

  describe('manual services (§9.3): the full amount is lost', () => {
    const month = oneMonthAfter(paidAt); // 2026-04-10 12:00 Beijing
    const policy = { ...DEFAULT_REFUND_POLICY, guaranteePeriodDays: 120 };
    const manual = (requirementSubmittedAt?: number, customerWaits: { from: number; to?: number }[] = []): RefundOrder => ({
      ...order,
      manualService: { ...(requirementSubmittedAt !== undefined ? { requirementSubmittedAt } : {}), customerWaits },
    });

    test('when the requirement came in exactly one month after payment, then the full amount may still be negotiated; a millisecond later it may not', () => {
      expect(decideRefund(manual(month), request({ requestedAt: month + 10 * DAY, proposedAmount: '99.50' }), policy).kind).toBe('negotiated');
      expect(decideRefund(manual(month + 1), request({ requestedAt: month + 10 * DAY, proposedAmount: '99.50' }), policy)).toEqual({
        kind: 'refused',
        rule: 'manual_service_requirement_late',
      });
    });

    test('when no requirement was submitted, then it is late once the request comes more than a month after payment', () => {
      expect(manualServiceRefusal({ customerWaits: [] }, paidAt, month)).toBeUndefined();
      expect(manualServiceRefusal({ customerWaits: [] }, paidAt, month + 1)).toBe('manual_service_requirement_late');
    });

    test('when the customer left the project waiting more than a month, then the full amount is refused; a wait of exactly a month, or one still open under a month, is not', () => {
      const from = paidAt + 2 * DAY;
      const submitted = paidAt + DAY;
      const later = { requestedAt: oneMonthAfter(from) + 20 * DAY, proposedAmount: '99.5' };
      expect(decideRefund(manual(submitted, [{ from, to: oneMonthAfter(from) }]), request(later), policy).kind).toBe('negotiated');
      expect(decideRefund(manual(submitted, [{ from, to: oneMonthAfter(from) + 1 }]), request(later), policy)).toEqual({ kind: 'refused', rule: 'manual_service_stalled' });
      // An open wait counts to the request.
      expect(manualServiceRefusal({ requirementSubmittedAt: submitted, customerWaits: [{ from }] }, paidAt, oneMonthAfter(from))).toBeUndefined();
      expect(manualServiceRefusal({ requirementSubmittedAt: submitted, customerWaits: [{ from }] }, paidAt, oneMonthAfter(from) + 1)).toBe('manual_service_stalled');
    });

    test('when the amount asked is less than paid, then a manual service that lost its full refund may still negotiate it', () => {
      expect(decideRefund(manual(undefined), request({ requestedAt: month + DAY, proposedAmount: '99.49' }), policy)).toEqual({ kind: 'negotiated', amount: '99.49' });
      expect(decideRefund(manual(undefined), request({ requestedAt: month + DAY, proposedAmount: '99.5000' }), policy)).toEqual({
        kind: 'refused',
        rule: 'manual_service_requirement_late',
      });
    });

    test('when a manual service asks the 5-day full refund in time, then it is granted (a month cannot have passed)', () => {
      expect(decideRefund(manual(undefined), request())).toEqual({ kind: 'full', amount: '99.50' });
    });
  });

  test('when a licence code was claimed, then no negotiated refund; the 5-day full refund is not affected', () => {
    const claimed = { ...order, licenceClaimed: true };
    expect(decideRefund(claimed, request({ requestedAt: paidAt + 10 * DAY, proposedAmount: '10' }))).toEqual({ kind: 'refused', rule: 'licence_claimed' });
    expect(decideRefund({ ...order, licenceClaimed: false }, request({ requestedAt: paidAt + 10 * DAY, proposedAmount: '10' })).kind).toBe('negotiated');
    expect(decideRefund(claimed, request())).toEqual({ kind: 'full', amount: '99.50' });
  });

  test('when hardware is in transit, then no refund of either kind', () => {
    const inTransit = { ...order, goodsInTransit: true };
    expect(decideRefund(inTransit, request())).toEqual({ kind: 'refused', rule: 'hardware_in_transit' });
    expect(decideRefund(inTransit, request({ proposedAmount: '5' }))).toEqual({ kind: 'refused', rule: 'hardware_in_transit' });
    expect(decideRefund({ ...order, goodsInTransit: false }, request()).kind).toBe('full');
  });
});
