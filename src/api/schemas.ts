/**
 * zod schemas of everything the API accepts: the order system's webhook events and the
 * operators' requests. Inferred types are mapped to our own types before they reach a
 * workflow, so raw payloads never enter workflow histories.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

const id64 = z.string().trim().min(1).max(64);

/** `true`/`false`, or the marketplace's `"1"`/`"0"` and 1/0 flags. */
const flag = z.union([z.boolean(), z.enum(['0', '1']), z.literal(0), z.literal(1)]).transform((v) => v === true || v === '1' || v === 1);

/** Money as an exact decimal string (numbers are accepted and converted without rounding). */
const amount = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .refine((v) => /^\d{1,16}(\.\d{1,4})?$/.test(v), 'must be a non-negative decimal with at most 4 decimal places');

const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as CNY');

export const chargingModeSchema = z.enum(['PERIOD', 'ONE_TIME', 'ON_DEMAND', 'ON_DEMAND_PKG']);

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
    expireTime: z.iso.datetime({ offset: true }).optional(),
    trialFlag: flag.default(false),
    customer: z.object({
      customerId: z.string().trim().min(1).max(100),
      customerName: z.string().max(255).optional(),
      // For trial reminders by e-mail; the in-site message goes out either way.
      email: z.email().optional(),
    }),
    amount,
    currency,
    testFlag: z.enum(['0', '1']).optional(),
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

/**
 * Which subscription a later event is about: its instance, or (while the create is still
 * retrying and there is no instance yet) the order line that bought it. Pay-per-use billing
 * items that share an order line are told apart by their productId.
 */
const subscriptionTarget = {
  instanceId: id64.optional(),
  subscription: z.object({ orderId: id64, orderLineId: id64, productId: id64.optional() }).optional(),
};

function requireTarget(data: { instanceId?: string; subscription?: unknown }, ctx: z.RefinementCtx): void {
  if (!data.instanceId && !data.subscription) {
    ctx.addIssue({ code: 'custom', path: ['instanceId'], message: 'instanceId or subscription { orderId, orderLineId } is required' });
  }
}

export const orderRenewedDataSchema = z
  .object({
    ...subscriptionTarget,
    scene: z.enum(['RENEWAL', 'TRIAL_TO_FORMAL', 'UNSUBSCRIBE_RENEWAL_PERIOD', 'RENEWAL_CHANGE']),
    orderId: id64,
    orderLineId: id64,
    expireTime: z.iso.datetime({ offset: true }),
    productId: id64.optional(),
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

export const marketplaceEventSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('order.paid'), data: orderPaidDataSchema }),
    z.object({ type: z.literal('order.renewed'), data: orderRenewedDataSchema }),
    z.object({ type: z.literal('order.upgraded'), data: orderUpgradedDataSchema }),
    z.object({ type: z.literal('order.unsubscribed'), data: orderUnsubscribedDataSchema }),
    z.object({ type: z.literal('instance.violation'), data: violationDataSchema }),
    z.object({ type: z.literal('instance.violation_lifted'), data: violationDataSchema }),
    z.object({ type: z.literal('order.change_requested'), data: changeRequestedDataSchema }),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? 'unsupported event type; supported: order.paid, order.renewed, order.upgraded, order.unsubscribed, instance.violation, instance.violation_lifted, order.change_requested'
        : undefined,
  },
);

export type MarketplaceEvent = z.infer<typeof marketplaceEventSchema>;
export type OrderPaidData = z.infer<typeof orderPaidDataSchema>;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * A merchant's production URL. The spec requires HTTPS on a domain name, never an IP
 * literal (§1.1); development mode also allows plain http on loopback for local merchants.
 */
export function productionUrlSchema(mode: 'development' | 'production') {
  return z
    .string()
    .url()
    .max(512)
    .superRefine((value, ctx) => {
      // zod runs refinements after a failed check too; url() has already reported this one.
      if (!URL.canParse(value)) return;
      const url = new URL(value);
      const host = url.hostname;
      const loopback = LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
      if (url.protocol === 'https:') {
        if (mode === 'production' && (isIP(host.replace(/^\[|\]$/g, '')) !== 0 || loopback)) {
          ctx.addIssue({ code: 'custom', message: 'must use a domain name, not an IP address or loopback host (spec §1.1)' });
        }
        return;
      }
      if (url.protocol === 'http:' && mode === 'development' && loopback) return;
      ctx.addIssue({
        code: 'custom',
        message: mode === 'production' ? 'must be an https URL (spec §1.1)' : 'must be https, or http on a loopback host in development mode',
      });
    });
}

export function merchantBodySchema(mode: 'development' | 'production') {
  return z
    .object({
      name: z.string().trim().min(1).max(200),
      productionUrl: productionUrlSchema(mode),
      protocolVersion: z.literal('v2', { error: 'only "v2" is supported' }),
      accessKey: z.string().min(8, 'must be at least 8 characters').max(256),
      contactEmail: z.email().optional(),
    })
    .strict();
}

export const productBodySchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    chargingMode: chargingModeSchema,
    // The freeze after expiry lasts up to 15 days, by product or customer level (§2.4).
    retentionDays: z.number().int().min(1).max(15),
  })
  .strict();

export const pathIdSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'only letters, digits and . _ : -');

export const restartBodySchema = z
  .object({
    reason: z.string().trim().min(3, 'say why (at least 3 characters)').max(1000),
    orderLineId: id64.optional(),
  })
  .strict();
