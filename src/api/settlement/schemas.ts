/** zod schemas of the settlement routes' bodies. */
import { z } from 'zod';
import { OPERATOR_ACTIONS } from '../../workflows/settlement/messages';

export const periodSchema = z.string().regex(/^\d{4}(0[1-9]|1[0-2])$/, 'must be a month as YYYYMM, e.g. 202611');

export const runBodySchema = z.object({ period: periodSchema }).strict();

const actionKinds = Object.values(OPERATOR_ACTIONS) as [string, ...string[]];
export const actionBodySchema = z.object({ action: z.enum(actionKinds) }).strict();

export const businessInfoBodySchema = z
  .object({
    bankAccount: z.string().trim().min(4).max(64),
    // The unified social credit code (18 characters) or another taxpayer number.
    taxId: z.string().trim().regex(/^[0-9A-Z]{15,20}$/, 'must be 15 to 20 digits or capital letters'),
  })
  .strict();

/** Money with at most four decimals, as an exact string. */
const decimal = z.string().regex(/^\d{1,16}(\.\d{1,4})?$/, 'must be a non-negative decimal with at most 4 decimal places');

export const invoiceBodySchema = z
  .object({
    invoiceNumber: z.string().trim().min(1).max(64),
    // The payment requests the invoice covers, as printed on it: exactly one is allowed.
    paymentRequestNumbers: z.array(z.string().trim().min(1).max(64)).min(1).max(20),
    taxRate: z.string().regex(/^0(\.\d{1,4})?$/, 'must be a rate below 1 such as 0.06'),
    amount: decimal.refine((v) => /[1-9]/.test(v), 'must be greater than 0'),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as CNY'),
    taxpayerId: z.string().trim().min(1).max(64),
    remarks: z.string().max(500),
  })
  .strict();

export type InvoiceBody = z.infer<typeof invoiceBodySchema>;
