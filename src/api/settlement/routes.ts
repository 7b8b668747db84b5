/**
 * Settlement routes.
 * Operators (under /v1, the operator token):
 *   POST /v1/settlement/runs                              { period }: start the period's bill run (202; a repeat: duplicate)
 *   GET  /v1/settlement/periods/:period                   the period's statements, steps and totals
 *   GET  /v1/settlement/statements/:statementNumber       a statement with its lines and totals
 *   POST /v1/settlement/statements/:statementNumber/actions { action }: complete the current step
 *   PUT  /v1/merchants/:merchantId/business-info          { bankAccount, taxId }: releases held statements
 * Merchants (signed requests under their access key, as for supervision: api/auth.ts), each
 * seeing only its own statements:
 *   GET  /v1/settlement/merchant/statements                ?period=YYYYMM (optional): its statements, newest first
 *   GET  /v1/settlement/merchant/statements/:statementNumber
 *   POST /v1/settlement/merchant/payment-requests/:requestNumber/invoices  an invoice, checked by the rules of spec §9.2
 * Disputes of statement lines, for both: disputes.ts. And operators set a product's tax rate:
 *   PUT  /v1/merchants/:merchantId/products/:productId/tax-rate  { taxRate, reason }
 */
import express, { Router } from 'express';
import type { Db } from '../../db/pool';
import { insertOperatorAction } from '../../db/repositories/operations/operator-actions';
import { insertInvoice, invoiceRequest, lockInvoiceContext } from '../../db/repositories/settlement/invoices';
import { findStatement, heldStatements, merchantStatements, periodSummary, saveBusinessInfo, type StatementView } from '../../db/repositories/settlement/statements';
import { setProductTaxRate } from '../../db/repositories/settlement/tax-rates';
import type { Encryptor } from '../../platform/security/encryption';
import type { StatementActionKind } from '../../workflows/settlement/messages';
import { requireSignedMerchant } from '../auth';
import { AppError, WorkflowEngineUnavailable, workflowEngineUnavailable } from '../errors';
import { parsePathId, parseRequestBody, signedJsonBody } from '../request-body';
import type { SettlementGateway } from './gateway';
import { createDisputeMerchantRouter, createDisputeOperatorRouter } from './disputes';
import { invoiceRefusal, mergeByRate, outstanding } from './invoice-rules';
import { actionBodySchema, businessInfoBodySchema, invoiceBodySchema, merchantStatementsQuerySchema, periodSchema, runBodySchema, taxRateBodySchema } from './schemas';

export interface SettlementRouterDeps {
  db: Db;
  gateway: SettlementGateway;
  /** For the merchant's access key, which signs its requests. */
  encryptor: Encryptor;
}

const json = express.json({ limit: '16kb' });

/** Runs a gateway call; Temporal out of reach is a 503 with the advice to repeat. */
async function viaGateway<T>(retryAdvice: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof WorkflowEngineUnavailable) throw workflowEngineUnavailable(retryAdvice, error.cause);
    throw error;
  }
}

async function knownStatement(db: Db, param: unknown, merchantId?: string): Promise<StatementView> {
  const statementNumber = parsePathId(param, 'statementNumber');
  const statement = await findStatement(db, statementNumber, merchantId);
  if (!statement) throw new AppError(404, 'statement_not_found', `no statement ${statementNumber}`);
  return statement;
}

export function createSettlementOperatorRouter({ db, gateway }: SettlementRouterDeps): Router {
  const router = Router();

  router.post('/v1/settlement/runs', json, async (req, res) => {
    const { period } = parseRequestBody(runBodySchema, req.body ?? {});
    const operator = String(res.locals.operator);
    const run = await viaGateway('start the run again', () => gateway.startRun(period, operator));
    if (!run.duplicate) {
      await insertOperatorAction(db, { actor: operator, action: 'settlement-run', targetType: 'settlement', targetId: run.workflowId, reason: 'bill run on demand' });
    }
    res.status(202).location(`/v1/settlement/periods/${period}`).json({ ...run, period });
  });

  router.get('/v1/settlement/periods/:period', async (req, res) => {
    const period = periodSchema.safeParse(req.params.period);
    if (!period.success) throw new AppError(400, 'invalid_request', 'period: must be a month as YYYYMM', [{ field: 'period', reason: 'must be a month as YYYYMM' }]);
    const summary = await periodSummary(db, period.data);
    if (!summary) throw new AppError(404, 'period_not_run', `period ${period.data} has no bill run`);
    res.json(summary);
  });

  router.get('/v1/settlement/statements/:statementNumber', async (req, res) => {
    res.json(await knownStatement(db, req.params.statementNumber));
  });

  router.post('/v1/settlement/statements/:statementNumber/actions', json, async (req, res) => {
    const statement = await knownStatement(db, req.params.statementNumber);
    const { action } = parseRequestBody(actionBodySchema, req.body ?? {});
    const operator = String(res.locals.operator);
    const result = await viaGateway(`repeat the ${action}`, () =>
      gateway.act(statement.period, statement.merchantId, { kind: action as StatementActionKind, actor: operator }),
    );
    if (result.kind === 'not-running') throw new AppError(409, 'statement_not_running', `statement ${statement.statementNumber} is not running`);
    if (result.kind === 'refused') throw new AppError(409, 'wrong_step', result.reason);
    await insertOperatorAction(db, { actor: operator, action: `statement-${action}`, targetType: 'statement', targetId: statement.statementNumber, reason: action });
    res.json({ statementNumber: statement.statementNumber, step: result.step, paymentRequestNumber: result.paymentRequestNumber ?? null });
  });

  router.put('/v1/merchants/:merchantId/business-info', json, async (req, res) => {
    const merchantId = parsePathId(req.params.merchantId, 'merchantId');
    const info = parseRequestBody(businessInfoBodySchema, req.body ?? {});
    if (!(await saveBusinessInfo(db, merchantId, info))) throw new AppError(404, 'merchant_not_found', `no merchant ${merchantId}`);
    const held = await heldStatements(db, merchantId);
    const statements = await Promise.all(held.map(async (n) => (await findStatement(db, n)) as StatementView));
    await viaGateway('save the business information again', () => gateway.businessInfoUpdated(statements.map((s) => ({ period: s.period, merchantId }))));
    res.json({ merchantId, released: held });
  });

  // The rate the next bill run puts on the product's lines; statements already made keep theirs.
  router.put('/v1/merchants/:merchantId/products/:productId/tax-rate', json, async (req, res) => {
    const merchantId = parsePathId(req.params.merchantId, 'merchantId');
    const productId = parsePathId(req.params.productId, 'productId');
    const { taxRate, reason } = parseRequestBody(taxRateBodySchema, req.body ?? {});
    const actor = String(res.locals.operator);
    const change = await db.withTransaction(async (q) => {
      const changed = await setProductTaxRate(q, merchantId, productId, taxRate);
      if (!changed) throw new AppError(404, 'product_not_found', `product ${productId} is not registered for merchant ${merchantId}`);
      await insertOperatorAction(q, { actor, action: 'product-tax-rate', targetType: 'product', targetId: productId, reason, details: { merchantId, ...changed } });
      return changed;
    });
    res.json({ merchantId, productId, taxRate: change.to, previousTaxRate: change.from });
  });

  router.use(createDisputeOperatorRouter({ db }));
  return router;
}

export function createSettlementMerchantRouter({ db, gateway, encryptor }: SettlementRouterDeps): Router {
  const router = Router();
  const signedByMerchant = requireSignedMerchant(db, encryptor);
  // Raw, so the signature covers the bytes sent; merchant routes must not reach the operator fence.
  router.use('/v1/settlement/merchant', express.raw({ type: () => true, limit: '16kb' }), signedByMerchant);
  router.use(createDisputeMerchantRouter({ db }));

  router.get('/v1/settlement/merchant/statements', async (req, res) => {
    const { period } = parseRequestBody(merchantStatementsQuerySchema, { ...req.query });
    const merchantId = String(res.locals.merchantId);
    res.json({ merchantId, statements: await merchantStatements(db, merchantId, period) });
  });

  // Another merchant's statement is answered exactly like one that does not exist.
  router.get('/v1/settlement/merchant/statements/:statementNumber', async (req, res) => {
    res.json(await knownStatement(db, req.params.statementNumber, String(res.locals.merchantId)));
  });

  router.post('/v1/settlement/merchant/payment-requests/:requestNumber/invoices', async (req, res) => {
    const requestNumber = parsePathId(req.params.requestNumber, 'requestNumber');
    const merchantId = String(res.locals.merchantId);
    const invoice = parseRequestBody(invoiceBodySchema, signedJsonBody(req.body));
    const stored = await db.withTransaction(async (q) => {
      const context = await lockInvoiceContext(q, requestNumber, merchantId);
      if (!context) throw new AppError(404, 'payment_request_not_found', `no payment request ${requestNumber}`);
      const filedUnder = await invoiceRequest(q, invoice.invoiceNumber);
      if (filedUnder !== undefined && filedUnder !== requestNumber) {
        throw new AppError(422, 'invoice_one_payment_request', `invoice ${invoice.invoiceNumber} already covers another payment request`, [
          { field: 'invoiceNumber', reason: 'an invoice covers exactly one payment request' },
        ]);
      }
      if (filedUnder !== undefined) return { context, duplicate: true };
      if (context.step !== 'invoicing') throw new AppError(409, 'not_invoicing', `statement ${context.statementNumber} is at step ${context.step}, not invoicing`);
      const refusal = invoiceRefusal(context, invoice);
      if (refusal) throw new AppError(422, refusal.rule, `${refusal.field}: ${refusal.reason}`, [{ field: refusal.field, reason: refusal.reason }]);
      await insertInvoice(q, { ...invoice, requestNumber });
      const added = { currency: invoice.currency, taxRate: invoice.taxRate, amount: invoice.amount };
      return { context: { ...context, invoiced: [...context.invoiced, added] }, duplicate: false };
    });
    const left = outstanding({ totals: stored.context.totals, invoiced: mergeByRate(stored.context.invoiced) });
    if (left.length === 0) await viaGateway('upload the invoice again', () => gateway.invoicesComplete(stored.context.period, merchantId));
    res.status(stored.duplicate ? 200 : 201).json({ invoiceNumber: invoice.invoiceNumber, requestNumber, duplicate: stored.duplicate, outstanding: left });
  });

  return router;
}
