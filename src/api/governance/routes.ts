/**
 * Operator routes on listing states (spec §4, §9.4, §9.5):
 *   POST /v1/merchants/:merchantId/listing                      { state, reason }
 *   POST /v1/merchants/:merchantId/products/:productId/listing  { state, reason, until? }
 *   GET  /v1/governance/failed-orders?month=YYYY-MM             (failed-orders.ts)
 * A change is checked against the allowed transitions (409 with the code and why when it is
 * not) and recorded in listing_changes with who (X-Operator) and why, in one transaction with
 * the new state. Once the merchant's exit is approved, its listings are the exit's alone: both
 * routes answer 409 exit_approved, so nothing goes back on sale (or trades) mid-removal. Each
 * change takes the merchant's row lock before the product's (db/repositories/governance/listing.ts).
 */
import express, { Router } from 'express';
import type { Db } from '../../db/pool';
import { lockMerchantListing, lockProductListing, setMerchantListing, setProductListing } from '../../db/repositories/governance/listing';
import { publishingFreeze } from '../../db/repositories/governance/penalties';
import { AppError, invalidRequest } from '../errors';
import { createFailedOrdersRouter } from './failed-orders';
import { refuseDuringApprovedExit } from './listing-guards';
import { parsePathId, parseRequestBody } from '../request-body';
import { merchantListingBodySchema, productListingBodySchema } from './schemas';
import { merchantTransition, productTransition, type MerchantState, type ProductState, type Verdict } from '../../shared/listing-transitions';

export interface GovernanceRouterDeps {
  db: Db;
}

function refuseUnless(verdict: Verdict): void {
  if (!verdict.allowed) throw new AppError(409, verdict.code, verdict.reason);
}

export function createGovernanceRouter({ db }: GovernanceRouterDeps): Router {
  const router = Router();
  const json = express.json({ limit: '16kb' });
  router.use(createFailedOrdersRouter({ db }));

  router.post('/v1/merchants/:merchantId/listing', json, async (req, res) => {
    const merchantId = parsePathId(req.params.merchantId, 'merchantId');
    const body = parseRequestBody(merchantListingBodySchema, req.body ?? {});
    const actor = String(res.locals.operator);
    const change = await db.withTransaction(async (q) => {
      const merchant = await lockMerchantListing(q, merchantId);
      if (!merchant) throw new AppError(404, 'merchant_not_found', `merchant ${merchantId} is not registered`);
      await refuseDuringApprovedExit(q, merchantId);
      refuseUnless(merchantTransition(merchant.state as MerchantState, body.state));
      return setMerchantListing(q, { merchantId, from: merchant.state, to: body.state, actor, reason: body.reason });
    });
    res.json({ merchantId, state: change.to, change });
  });

  router.post('/v1/merchants/:merchantId/products/:productId/listing', json, async (req, res) => {
    const merchantId = parsePathId(req.params.merchantId, 'merchantId');
    const productId = parsePathId(req.params.productId, 'productId');
    const body = parseRequestBody(productListingBodySchema, req.body ?? {});
    const actor = String(res.locals.operator);
    const change = await db.withTransaction(async (q) => {
      const product = await lockProductListing(q, { merchantId, productId, ...(body.until ? { until: body.until } : {}) });
      if (!product) throw new AppError(404, 'product_not_found', `product ${productId} is not registered for merchant ${merchantId}`);
      if (product.untilAhead === false) throw invalidRequest([{ field: 'until', reason: 'must be in the future' }]);
      await refuseDuringApprovedExit(q, merchantId);
      const freeze = await publishingFreeze(q, merchantId);
      refuseUnless(productTransition(product.state as ProductState, body.state, product.merchantState as MerchantState, freeze?.frozenUntil ?? null));
      return setProductListing(q, { merchantId, productId, from: product.state, to: body.state, until: body.until ?? null, actor, reason: body.reason });
    });
    res.json({ merchantId, productId, state: change.to, until: change.until, change });
  });

  return router;
}
