/** The refund's wire formats: the order system's event, and the merchant's or an operator's answer. */
import { z } from 'zod';

const id64 = z.string().trim().min(1).max(64);
const instant = z.iso.datetime({ offset: true });
const decimal = z.string().regex(/^\d{1,16}(\.\d{1,4})?$/, 'must be a non-negative decimal with at most 4 decimal places');

/**
 * order.refund_requested: the customer asks for a refund of an order line. Without
 * `proposedAmount` it is the 5-day no-reason full refund; with it, a negotiated refund.
 * The order system knows the customer's self-service refunds across the marketplace (the
 * spec shares the count with other services), so it sends those of the last year; and it
 * tracks the logistics of hardware, so it says when the goods are in transit.
 */
export const refundRequestedDataSchema = z.object({
  orderId: id64,
  orderLineId: id64,
  /** The refund (unsubscribe) order. */
  refundOrderId: id64,
  requestedAt: instant,
  proposedAmount: decimal.optional(),
  invoiceOutstanding: z.boolean().default(false),
  goodsInTransit: z.boolean().default(false),
  earlierSelfServiceRefunds: z.array(instant).max(100).default([]),
});

export type RefundRequestedData = z.output<typeof refundRequestedDataSchema>;

/**
 * order.invoice_requested: the customer asked for an invoice of an order line. While a refund
 * of the line awaits the merchant's review, that fails the refund (spec §9.3).
 */
export const invoiceRequestedDataSchema = z.object({
  orderId: id64,
  orderLineId: id64,
  requestedAt: instant,
});

/** The merchant's answer, or an operator's for it (the operator's name comes from X-Operator). */
export const merchantAnswerBodySchema = z.strictObject({
  approved: z.boolean(),
  reason: z.string().trim().min(1).max(500).optional(),
});

/** An operator answers for the merchant, and says why: the answer goes on the refund's and the operators' record. */
export const operatorAnswerBodySchema = z.strictObject({
  approved: z.boolean(),
  reason: z.string().trim().min(3, 'say why (at least 3 characters)').max(500),
});
