/**
 * The marketplace's refund rules (spec §9.3): the 5-day full refund, 10 self-service refunds a
 * calendar year, negotiated refunds inside the guarantee period, and the refusals, each named.
 */
import { amountUnits, decideRefund, DEFAULT_REFUND_POLICY, selfServiceRefundsInYear } from '../../../src/workflows/refunds/rules';
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
});
