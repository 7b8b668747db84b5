/** Request bodies of the governance routes. */
import { z } from 'zod';
import { merchantStates, productStates } from '../../shared/listing-transitions';

const reason = z.string().trim().min(3, 'say why (at least 3 characters)').max(1000);

export const merchantListingBodySchema = z.object({ state: z.enum(merchantStates), reason }).strict();

/** `until` (ISO 8601 with an offset) is required for delisted_until and refused otherwise. */
export const productListingBodySchema = z
  .object({ state: z.enum(productStates), reason, until: z.iso.datetime({ offset: true }).optional() })
  .strict()
  .superRefine((body, ctx) => {
    if (body.state === 'delisted_until' && body.until === undefined) ctx.addIssue({ code: 'custom', path: ['until'], message: 'required for delisted_until: when the delisting ends' });
    if (body.state !== 'delisted_until' && body.until !== undefined) ctx.addIssue({ code: 'custom', path: ['until'], message: 'only for delisted_until' });
  });
