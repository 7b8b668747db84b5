/** zod schemas of the settlement routes' bodies. */
import { z } from 'zod';
import { DISPUTABLE_KINDS } from '../../db/repositories/settlement/disputes';
import { OPERATOR_ACTIONS } from '../../workflows/settlement/messages';

export const periodSchema = z.string().regex(/^\d{4}(0[1-9]|1[0-2])$/, 'must be a month as YYYYMM, e.g. 202611');

export const runBodySchema = z.object({ period: periodSchema }).strict();
export const merchantStatementsQuerySchema = z.object({ period: periodSchema.optional() }).strict();

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
/** The same, signed: a refund line is negative, and so is money the merchant owes back. */
const signedDecimal = z.string().regex(/^-?\d{1,16}(\.\d{1,4})?$/, 'must be a decimal string with at most 4 decimal places, such as "120.5" or "-30"');
const nonZero = (v: string): boolean => /[1-9]/.test(v);

/** A tax rate as stored (numeric(5,4)): 0 <= rate < 1, at most 4 decimals, as an exact string. */
export const taxRateSchema = z.string().regex(/^0(\.\d{1,4})?$/, 'must be a rate from 0 up to (not including) 1 with at most 4 decimals, as a string such as "0.06"');

const reason = z.string().trim().min(3, 'say why (at least 3 characters)').max(1000);
const lineId = z.string().trim().min(1).max(128);

export const taxRateBodySchema = z.object({ taxRate: taxRateSchema, reason }).strict();

export const disputeBodySchema = z
  .object({ kind: z.enum(DISPUTABLE_KINDS), orderId: lineId, orderLineId: lineId, productId: lineId, claimedAmount: signedDecimal, reason })
  .strict();

export const confirmDisputeBodySchema = z.object({ difference: signedDecimal.refine(nonZero, 'must not be zero'), reason }).strict();
export const rejectDisputeBodySchema = z.object({ reason }).strict();
export const disputeListQuerySchema = z.object({ status: z.enum(['open', 'confirmed', 'rejected']).optional() }).strict();

export const invoiceBodySchema = z
  .object({
    invoiceNumber: z.string().trim().min(1).max(64),
    // The payment requests the invoice covers, as printed on it: exactly one is allowed.
    paymentRequestNumbers: z.array(z.string().trim().min(1).max(64)).min(1).max(20),
    taxRate: taxRateSchema,
    amount: decimal.refine(nonZero, 'must be greater than 0'),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as CNY'),
    taxpayerId: z.string().trim().min(1).max(64),
    remarks: z.string().max(500),
  })
  .strict();

export type InvoiceBody = z.infer<typeof invoiceBodySchema>;
export type DisputeBody = z.infer<typeof disputeBodySchema>;
