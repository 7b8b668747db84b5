/** Request bodies and headers of the penalty routes (spec §9.5). */
import { z } from 'zod';

const reason = z.string().trim().min(3, 'say why (at least 3 characters)').max(1000);
const violationCode = z.string().regex(/^[a-z][a-z0-9_]{2,63}$/, 'a catalogue code: 3 to 64 lower-case letters, digits and _, starting with a letter');
const days = z.number().int().min(1).max(3650);

/** A violation recorded against a merchant: its catalogue code, the product when it concerns one, why, and the evidence. */
export const penaltyBodySchema = z
  .object({
    code: violationCode,
    productId: z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'only letters, digits and . _ : -').optional(),
    reason,
    evidence: z.string().trim().min(1).max(2000).optional(),
  })
  .strict();
export type PenaltyBody = z.output<typeof penaltyBodySchema>;

/** A new catalogue entry; a delisting for a period names its days, and only it does. */
export const violationBodySchema = z
  .object({
    code: violationCode,
    description: z.string().trim().min(3).max(1000),
    points: z.number().int().min(0).max(1000),
    productAction: z.enum(['delist', 'delist_for_period', 'delist_permanently']).optional(),
    productDelistDays: days.optional(),
    publishingFreezeDays: days.optional(),
    terminates: z.boolean().default(false),
    deductsFullDeposit: z.boolean().default(false),
    penaltyYuan: z
      .string()
      .regex(/^\d{1,12}(\.\d{1,2})?$/, 'yuan as a decimal string, e.g. "5000" or "99.50"')
      .refine((yuan) => Number(yuan) > 0, 'more than 0')
      .optional(),
    otherSanctions: z.string().trim().min(3).max(1000).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    const period = body.productAction === 'delist_for_period';
    if (period && body.productDelistDays === undefined) ctx.addIssue({ code: 'custom', path: ['productDelistDays'], message: 'required for delist_for_period: how many days' });
    if (!period && body.productDelistDays !== undefined) ctx.addIssue({ code: 'custom', path: ['productDelistDays'], message: 'only for delist_for_period' });
  });

export const retireBodySchema = z.object({ reason }).strict();

/** The Idempotency-Key header of a penalty: printable ASCII, as such keys usually are. */
export const idempotencyKeySchema = z.string().regex(/^[\x21-\x7e]{1,200}$/, '1 to 200 printable ASCII characters').optional();
