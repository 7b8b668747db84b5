/**
 * GET /v1/governance/failed-orders?month=YYYY-MM: the products over the spec's limit of failed
 * orders in a calendar month (Beijing time), with those orders (spec §4). The delisting itself
 * happens when the line that goes over the limit fails (activities/governance/failed-orders.ts).
 */
import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/pool';
import { FAILED_ORDERS_MONTHLY_LIMIT, productsOverFailedOrderLimit } from '../../db/repositories/governance/failed-orders';
import { invalidInput } from '../errors';

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
