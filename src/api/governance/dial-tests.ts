/**
 * Dial-test routes (spec §1.6, §4): a product's saved debug cases, and its results by day.
 *
 * Operators (bearer token):
 *   GET /v1/merchants/:merchantId/products/:productId/dial-test-cases   the cases a run uses (saved, or the default)
 *   PUT /v1/merchants/:merchantId/products/:productId/dial-test-cases   save them
 *   GET /v1/merchants/:merchantId/products/:productId/dial-tests?days=14 days, results and the sanction
 * Merchants (signed, their own products only; another's is 404 as one that does not exist):
 *   GET|PUT /v1/governance/merchant/products/:productId/dial-test-cases
 *   GET     /v1/governance/merchant/products/:productId/dial-tests?days=14
 */
import express, { Router, type Request } from 'express';
import type { Db } from '../../db/pool';
import { dialTestReport, productDialTestCases, saveDialTestCases } from '../../db/repositories/governance/dial-tests';
import { failedStreak } from '../../activities/governance/dial-tests-verdict';
import type { Encryptor } from '../../platform/security/encryption';
import { requireSignedMerchant } from '../auth';
import { AppError, invalidInput } from '../errors';
import { parsePathId, parseRequestBody, signedJsonBody } from '../request-body';
import { dialTestCasesBodySchema, dialTestReportQuerySchema } from './dial-tests-schemas';

const productNotFound = (merchantId: string, productId: string): AppError => new AppError(404, 'product_not_found', `product ${productId} is not registered for merchant ${merchantId}`);

/** The three handlers, for whichever merchant the route names (operators) or signed (merchants). */
function dialTestHandlers(db: Db) {
  async function casesOf(merchantId: string, productId: string) {
    const cases = await productDialTestCases(db, { merchantId, productId });
    if (!cases) throw productNotFound(merchantId, productId);
    return cases;
  }
  return {
    read: async (merchantId: string, productId: string) => casesOf(merchantId, productId),
    async save(merchantId: string, productId: string, body: unknown, savedBy: string) {
      const cases = parseRequestBody(dialTestCasesBodySchema, body);
      await casesOf(merchantId, productId);
      await saveDialTestCases(db, { merchantId, productId, cases, savedBy });
      return casesOf(merchantId, productId);
    },
    async report(merchantId: string, productId: string, req: Request) {
      const query = dialTestReportQuerySchema.safeParse(req.query);
      if (!query.success) throw invalidInput(query.error);
      const { source } = await casesOf(merchantId, productId);
      const report = await dialTestReport(db, productId, query.data.days);
      const newest = report.days[0]?.day;
      return { merchantId, productId, cases: source, failedDays: newest ? failedStreak(report.days, newest).days : 0, timeZone: 'Asia/Shanghai', ...report };
    },
  };
}

export function createDialTestOperatorRouter({ db }: { db: Db }): Router {
  const router = Router();
  const handlers = dialTestHandlers(db);
  const ids = (req: Request) => [parsePathId(req.params.merchantId, 'merchantId'), parsePathId(req.params.productId, 'productId')] as const;
  const path = '/v1/merchants/:merchantId/products/:productId';
  router.get(`${path}/dial-test-cases`, async (req, res) => {
    res.json(await handlers.read(...ids(req)));
  });
  router.put(`${path}/dial-test-cases`, express.json({ limit: '16kb' }), async (req, res) => {
    const [merchantId, productId] = ids(req);
    res.json(await handlers.save(merchantId, productId, req.body ?? {}, `operator:${String(res.locals.operator)}`));
  });
  router.get(`${path}/dial-tests`, async (req, res) => {
    res.json(await handlers.report(...ids(req), req));
  });
  return router;
}

export function createDialTestMerchantRouter({ db, encryptor }: { db: Db; encryptor: Encryptor }): Router {
  const router = Router();
  const handlers = dialTestHandlers(db);
  const path = '/v1/governance/merchant/products/:productId';
  // Raw, so the signature covers the bytes sent; this path never reaches the operator fence.
  router.use('/v1/governance/merchant/products', express.raw({ type: () => true, limit: '16kb' }), requireSignedMerchant(db, encryptor));
  // The signature named the merchant: there is no way to reach another merchant's product.
  const own = (req: Request, merchantId: unknown) => [String(merchantId), parsePathId(req.params.productId, 'productId')] as const;
  router.get(`${path}/dial-test-cases`, async (req, res) => {
    res.json(await handlers.read(...own(req, res.locals.merchantId)));
  });
  router.put(`${path}/dial-test-cases`, async (req, res) => {
    const [merchantId, productId] = own(req, res.locals.merchantId);
    res.json(await handlers.save(merchantId, productId, signedJsonBody(req.body), 'merchant'));
  });
  router.get(`${path}/dial-tests`, async (req, res) => {
    res.json(await handlers.report(...own(req, res.locals.merchantId), req));
  });
  return router;
}
