/** Invoices against a payment request (申付单), read and written under the request's row lock. */
import type { Queryable } from '../../pool';
import { statementTotals, type StatementStep, type StatementTotal } from './statements';

/** Everything the invoice rules look at, read under the payment request's lock. */
export interface InvoiceContext {
  requestNumber: string;
  statementNumber: string;
  period: string;
  merchantId: string;
  step: StatementStep;
  merchantTaxId: string | null;
  totals: StatementTotal[];
  /** What invoices already on file cover, per currency and tax rate. */
  invoiced: StatementTotal[];
}

export interface InvoiceRecord {
  invoiceNumber: string;
  requestNumber: string;
  taxRate: string;
  amount: string;
  currency: string;
  taxpayerId: string;
  remarks: string;
}

/**
 * Locks a merchant's payment request and reads what the rules need; undefined when the
 * request is not this merchant's (or does not exist).
 */
export async function lockInvoiceContext(q: Queryable, requestNumber: string, merchantId: string): Promise<InvoiceContext | undefined> {
  const { rows } = await q.query<Omit<InvoiceContext, 'totals' | 'invoiced'>>(
    `select r.request_number as "requestNumber", s.statement_number as "statementNumber", s.period, s.merchant_id as "merchantId",
            s.step, m.tax_id as "merchantTaxId"
       from payment_requests r
       join statements s on s.statement_number = r.statement_number
       join merchants m on m.merchant_id = s.merchant_id
      where r.request_number = $1::text and s.merchant_id = $2::text
        for update of r`,
    [requestNumber, merchantId],
  );
  const head = rows[0];
  if (!head) return undefined;
  const invoiced = await q.query<StatementTotal>(
    `select currency, tax_rate::text as "taxRate", sum(amount)::text as amount
       from invoices where request_number = $1::text group by currency, tax_rate order by currency, tax_rate`,
    [requestNumber],
  );
  return { ...head, totals: await statementTotals(q, head.statementNumber), invoiced: invoiced.rows };
}

/** The request an invoice number is already filed under, if any. */
export async function invoiceRequest(q: Queryable, invoiceNumber: string): Promise<string | undefined> {
  const { rows } = await q.query<{ requestNumber: string }>(`select request_number as "requestNumber" from invoices where invoice_number = $1::text`, [invoiceNumber]);
  return rows[0]?.requestNumber;
}

export async function insertInvoice(q: Queryable, i: InvoiceRecord): Promise<void> {
  await q.query(
    `insert into invoices (invoice_number, request_number, tax_rate, amount, currency, taxpayer_id, remarks)
     values ($1::text, $2::text, $3::numeric, $4::numeric, $5::text, $6::text, $7::text)`,
    [i.invoiceNumber, i.requestNumber, i.taxRate, i.amount, i.currency, i.taxpayerId, i.remarks],
  );
}

/**
 * Whether the statement has anything to invoice: a currency and tax rate whose lines add up to
 * more than zero. One of refunds and adjustments only does not.
 */
export async function invoiceDue(q: Queryable, statementNumber: string): Promise<boolean> {
  const { rows } = await q.query<{ due: boolean }>(
    `select exists (select 1 from statement_lines where statement_number = $1::text
                     group by currency, tax_rate having sum(amount) > 0) as due`,
    [statementNumber],
  );
  return rows[0]?.due ?? false;
}
