/**
 * The invoice rules of spec §9.2, checked against a payment request read under its lock:
 * one invoice covers one payment request; the remarks carry its number and the period;
 * invoices are split by the statement's tax rates and add up to no more than each rate's
 * total; the taxpayer is the merchant's certified one. Pure: each refusal names its rule.
 */
import type { InvoiceContext } from '../../db/repositories/settlement/invoices';
import type { StatementTotal } from '../../db/repositories/settlement/statements';
import type { InvoiceBody } from './schemas';

export type InvoiceRule =
  | 'invoice_one_payment_request'
  | 'invoice_remarks_request_and_period'
  | 'invoice_split_by_tax_rate'
  | 'invoice_amounts_add_up'
  | 'invoice_taxpayer_matches_business_info';

export interface InvoiceRefusal {
  rule: InvoiceRule;
  field: string;
  reason: string;
}

/** Exact money: ten-thousandths as a bigint (amounts and rates have at most 4 decimals). */
export function units(decimal: string): bigint {
  const [whole = '0', fraction = ''] = decimal.replace(/^-/, '').split('.');
  const value = BigInt(whole) * 10_000n + BigInt(fraction.padEnd(4, '0').slice(0, 4));
  return decimal.startsWith('-') ? -value : value;
}

const sameRate = (a: StatementTotal, currency: string, rate: string): boolean => a.currency === currency && units(a.taxRate) === units(rate);

/** What is left to invoice per currency and rate: the positive totals less what invoices cover. */
export function outstanding(context: Pick<InvoiceContext, 'totals' | 'invoiced'>): StatementTotal[] {
  return context.totals
    .filter((t) => units(t.amount) > 0n)
    .map((t) => {
      const covered = context.invoiced.find((i) => sameRate(i, t.currency, t.taxRate));
      return { ...t, amount: formatUnits(units(t.amount) - (covered ? units(covered.amount) : 0n)) };
    })
    .filter((t) => units(t.amount) > 0n);
}

export function invoiceRefusal(context: InvoiceContext, invoice: InvoiceBody): InvoiceRefusal | undefined {
  const others = invoice.paymentRequestNumbers.filter((n) => n !== context.requestNumber);
  if (others.length > 0 || invoice.paymentRequestNumbers.length !== 1) {
    return {
      rule: 'invoice_one_payment_request',
      field: 'paymentRequestNumbers',
      reason: `an invoice covers exactly one payment request (${context.requestNumber}); never merge payment requests`,
    };
  }
  // The request number itself contains the period, so the period must appear apart from it.
  const besidesNumber = invoice.remarks.replaceAll(context.requestNumber, ' ');
  if (!invoice.remarks.includes(context.requestNumber) || !besidesNumber.includes(context.period)) {
    return {
      rule: 'invoice_remarks_request_and_period',
      field: 'remarks',
      reason: `the remarks must carry the payment request number ${context.requestNumber} and the period ${context.period}`,
    };
  }
  if (invoice.taxpayerId !== context.merchantTaxId) {
    return { rule: 'invoice_taxpayer_matches_business_info', field: 'taxpayerId', reason: 'the taxpayer must be the one of the business-information certification' };
  }
  const rate = context.totals.find((t) => sameRate(t, invoice.currency, invoice.taxRate) && units(t.amount) > 0n);
  if (!rate) {
    const rates = context.totals.filter((t) => units(t.amount) > 0n).map((t) => `${t.taxRate} ${t.currency}`);
    return { rule: 'invoice_split_by_tax_rate', field: 'taxRate', reason: `one invoice per tax rate of the statement: ${rates.join(', ') || 'none to invoice'}` };
  }
  const left = outstanding(context).find((t) => sameRate(t, invoice.currency, invoice.taxRate));
  const leftUnits = left ? units(left.amount) : 0n;
  if (units(invoice.amount) > leftUnits) {
    return {
      rule: 'invoice_amounts_add_up',
      field: 'amount',
      reason: `invoices at ${rate.taxRate} must add up to ${rate.amount} ${rate.currency}; ${formatUnits(leftUnits)} is left to invoice`,
    };
  }
  return undefined;
}

export function formatUnits(value: bigint): string {
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  return `${sign}${abs / 10_000n}.${String(abs % 10_000n).padStart(4, '0')}`;
}

/** Amounts summed per currency and rate (the stored sums plus the invoice just filed). */
export function mergeByRate(amounts: StatementTotal[]): StatementTotal[] {
  const sums: StatementTotal[] = [];
  for (const a of amounts) {
    const entry = sums.find((s) => sameRate(s, a.currency, a.taxRate));
    if (entry) entry.amount = formatUnits(units(entry.amount) + units(a.amount));
    else sums.push({ ...a });
  }
  return sums;
}
