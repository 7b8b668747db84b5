/** Request bodies and queries of the dial-test routes. */
import { z } from 'zod';

/** The spec's mock orders of debug calls (§1.6): a saved case may only name these, so a dial test never touches a real order. */
export const MOCK_ORDER_IDS = [
  'MOCKPERIODYEARNEW',
  'MOCKONETIMENEW',
  'MOCKONDEMAND',
  'MOCKONDEMANDPKG',
  'MOCKPERIODDAYTRIAL',
  'MOCKMONTYTRIALTOFORMAL',
  'MOCKMONTYUNSUBSCRIBE',
  'MOCKMONTYRENEW',
  'MOCKMONTYCHANGE',
] as const;

const id64 = z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'only letters, digits and . _ : -');
const mockOrderId = z.enum(MOCK_ORDER_IDS, { error: `one of the spec's mock orders: ${MOCK_ORDER_IDS.join(', ')}` });
/** Absent or null: the instance the run's create answered. */
const instanceId = id64.nullable().default(null);

/** Each mock order has the one line `<id>-000001` (spec §1.6). */
function lineOf(ctx: z.RefinementCtx, path: string[], orderId: string | null, orderLineId: string | null): void {
  if ((orderId === null) !== (orderLineId === null)) ctx.addIssue({ code: 'custom', path: [...path, orderId === null ? 'orderId' : 'orderLineId'], message: 'orderId and orderLineId go together' });
  else if (orderId !== null && orderLineId !== `${orderId}-000001`) ctx.addIssue({ code: 'custom', path: [...path, 'orderLineId'], message: `must be ${orderId}-000001` });
}

export const dialTestCasesBodySchema = z
  .object({
    create: z.object({ orderId: mockOrderId, orderLineId: id64 }).strict(),
    query: z.object({ instanceId }).strict().default({ instanceId: null }),
    release: z
      .object({ instanceId, orderId: mockOrderId.nullable().default(null), orderLineId: id64.nullable().default(null) })
      .strict()
      .default({ instanceId: null, orderId: null, orderLineId: null }),
  })
  .strict()
  .superRefine((body, ctx) => {
    lineOf(ctx, ['create'], body.create.orderId, body.create.orderLineId);
    lineOf(ctx, ['release'], body.release.orderId, body.release.orderLineId);
  });

export const dialTestReportQuerySchema = z.object({ days: z.coerce.number().int().min(1).max(60).default(14) }).strict();
