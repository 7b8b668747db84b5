/**
 * zod schemas of the `data` of the order system's subscription events. The handlers map
 * what they read to the workflow's own messages, so raw payloads never enter histories.
 */
import { z } from 'zod';
import { chargingModeSchema } from '../catalog/schemas';
import { refreshSceneSchema } from '../../protocol/schemas';

export const id64 = z.string().trim().min(1).max(64);

/** `true`/`false`, or the marketplace's `"1"`/`"0"` and 1/0 flags. */
const flag = z.union([z.boolean(), z.enum(['0', '1']), z.literal(0), z.literal(1)]).transform((v) => v === true || v === '1' || v === 1);

/**
 * `testFlag`: `1` marks a debug order, `0` or absent a production one (spec §1.6). The V2
 * pages make it a string, some V1 pages an integer, so both are read; it becomes a boolean.
 */
const debugFlag = z.union([z.enum(['0', '1']), z.literal(0), z.literal(1)]).transform((v) => v === '1' || v === 1);

/** Money as an exact decimal string (numbers are accepted and converted without rounding). */
const amount = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .refine((v) => /^\d{1,16}(\.\d{1,4})?$/.test(v), 'must be a non-negative decimal with at most 4 decimal places');

const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as CNY');

/**
 * An ISO 8601 instant with its offset, in years PostgreSQL and the merchants' 14-digit
 * `expireTime` can hold once it is turned to UTC (year 0 and five-digit years cannot).
 */
const isoTime = z.iso
  .datetime({ offset: true })
  .refine((value) => {
    const year = new Date(value).getUTCFullYear();
    return year >= 1970 && year <= 9999;
  }, 'must fall between the years 1970 and 9999 in UTC');

export const orderPaidDataSchema = z
  .object({
    orderId: id64,
    orderLineId: id64,
    orderType: z.string().trim().min(1).max(32),
    merchantId: id64,
    productId: id64,
    skuCode: id64,
    chargingMode: chargingModeSchema,
    periodType: z.string().trim().min(1).max(16).optional(),
    periodNumber: z.number().int().positive().max(1000).optional(),
    // Read for every order, used only for periodic ones: nothing else expires (see paid-order.ts).
    expireTime: isoTime.optional(),
    trialFlag: flag.default(false),
    customer: z.object({
      customerId: z.string().trim().min(1).max(100),
      customerName: z.string().max(255).optional(),
      // For trial reminders by e-mail; the in-site message goes out either way.
      email: z.email().optional(),
    }),
    amount,
    currency,
    testFlag: debugFlag.optional(),
    // The customer's level can shorten or lengthen the freeze after expiry (spec §2.4);
    // without it the product's retention applies.
    retentionDays: z.number().int().min(1).max(15).optional(),
  })
  .superRefine((data, ctx) => {
    if (data.chargingMode === 'PERIOD') {
      // A periodic subscription ends at its expiry; without one we could never freeze it.
      for (const key of ['expireTime', 'periodType', 'periodNumber'] as const) {
        if (data[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'required when chargingMode is PERIOD' });
      }
    }
  });

export type OrderPaidData = z.infer<typeof orderPaidDataSchema>;

/**
 * Which subscription a later event is about: its instance, or (while the create is still
 * retrying and there is no instance yet) the order line that bought it. Pay-per-use items
 * and packages that share an order line are told apart by their productId.
 */
const subscriptionTarget = {
  instanceId: id64.optional(),
  subscription: z.object({ orderId: id64, orderLineId: id64, productId: id64.optional() }).optional(),
};

export interface SubscriptionTarget {
  instanceId?: string;
  subscription?: { orderId: string; orderLineId: string; productId?: string };
}

function requireTarget(data: SubscriptionTarget, ctx: z.RefinementCtx): void {
  if (!data.instanceId && !data.subscription) {
    ctx.addIssue({ code: 'custom', path: ['instanceId'], message: 'instanceId or subscription { orderId, orderLineId } is required' });
  }
}

export const orderRenewedDataSchema = z
  .object({
    ...subscriptionTarget,
    scene: refreshSceneSchema,
    orderId: id64,
    orderLineId: id64,
    expireTime: isoTime,
    productId: id64.optional(),
    // What the renewal costs: the bill run reads it from the stored event (settlement scope).
    amount: amount.optional(),
    currency: currency.optional(),
  })
  .superRefine(requireTarget);

export const orderUpgradedDataSchema = z
  .object({ ...subscriptionTarget, orderId: id64, orderLineId: id64, skuCode: id64, amount, currency })
  .superRefine(requireTarget);

export const orderUnsubscribedDataSchema = z.object({ ...subscriptionTarget, orderId: id64, orderLineId: id64.optional() }).superRefine(requireTarget);

export const violationDataSchema = z.object({ ...subscriptionTarget, reason: z.string().max(1000).optional() }).superRefine(requireTarget);

export const changeRequestedDataSchema = z
  .object({
    ...subscriptionTarget,
    productInfo: z.object({ productId: id64, skuCode: id64, productName: z.string().min(1).max(64), linearValue: z.number().int().optional() }),
  })
  .superRefine(requireTarget);
