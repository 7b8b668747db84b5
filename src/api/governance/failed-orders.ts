/**
 * GET /v1/governance/failed-orders?month=YYYY-MM: the products over the spec's limit of failed
 * orders in a calendar month (Beijing time), with those orders (spec §4). It reports; it does
 * not delist.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/pool';
import { productsOverFailedOrderLimit } from '../../db/repositories/governance/failed-orders';
import { invalidInput } from '../errors';

/** Spec §4: more than 5 orders in one calendar month failed because of interface errors → delisted. */
export const FAILED_ORDERS_MONTHLY_LIMIT = 5;

const querySchema = z.object({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a calendar month as YYYY-MM'),
});

export function createFailedOrdersRouter({ db }: { db: Db }): Router {
  const router = Router();
  router.get('/v1/governance/failed-orders', async (req, res) => {
    const parsed = querySchema.safeParse(req.query);
    if (!parsed.success) throw invalidInput(parsed.error);
    const { month } = parsed.data;
    const products = await productsOverFailedOrderLimit(db, month, FAILED_ORDERS_MONTHLY_LIMIT);
    res.json({ month, timeZone: 'Asia/Shanghai', limit: FAILED_ORDERS_MONTHLY_LIMIT, products });
  });
  return router;
}
