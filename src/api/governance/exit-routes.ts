/**
 * A merchant's exit (spec §9.4), `exit:<merchantId>`.
 *
 * The merchant (signed requests under its access key, api/auth.ts), for itself only:
 *   POST /v1/governance/merchant/exit                                  { reason }  its request to leave
 *   GET  /v1/governance/merchant/exit                                  where its exit stands, and what blocks it
 *   POST /v1/governance/merchant/exit/orders/:orderId/no-invoice-proof the customer's agreement to go without an invoice
 *
 * Operators (behind the operator token; who acted is X-Operator):
 *   POST /v1/merchants/:merchantId/exit            { reason, penaltyId? }  a forced exit
 *   GET  /v1/merchants/:merchantId/exit            status and blocking facts
 *   POST /v1/merchants/:merchantId/exit/review     { decision: approve|reject, reason }
 *   POST /v1/merchants/:merchantId/exit/recheck    { reason }  check the preconditions again now
 *   GET  /v1/merchants/:merchantId/exit/record     the exit record (JSON document)
 */
import express, { Router, type Response } from 'express';
import type { Db } from '../../db/pool';
import { findMerchant } from '../../db/repositories/catalog/merchants';
import { exitTimeline, isMerchantRemoved, latestExit, latestExitRecord, saveNoInvoiceProof } from '../../db/repositories/governance/exit';
import { insertOperatorAction } from '../../db/repositories/operations/operator-actions';
import type { Encryptor } from '../../platform/security/encryption';
import { requireSignedMerchant } from '../auth';
import { AppError, invalidRequest, WorkflowEngineUnavailable, workflowEngineUnavailable } from '../errors';
import { parsePathId, parseRequestBody, signedJsonBody } from '../request-body';
import { checkUpload, UPLOAD_BODY_LIMIT_BYTES } from '../supervision/documents';
import type { ExitGateway } from './exit-gateway';
import { exitRecheckBodySchema, exitRequestBodySchema, exitReviewBodySchema, forcedExitBodySchema } from './exit-schemas';

export interface ExitRouterDeps {
  db: Db;
  exits: ExitGateway;
  encryptor: Encryptor;
}


/** Turns the gateway's "Temporal did not answer" into a 503 with what to do. */
async function engine<T>(work: Promise<T>, retryAdvice: string): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof WorkflowEngineUnavailable) throw workflowEngineUnavailable(retryAdvice, error.cause);
    throw error;
  }
}

/** A registered merchant not removed yet may start an exit; while one runs, a start answers the running one. */
async function requireMerchantToStart(db: Db, merchantId: string): Promise<void> {
  if (!(await findMerchant(db, merchantId))) throw new AppError(404, 'merchant_not_found', `merchant ${merchantId} is not registered`);
  if (await isMerchantRemoved(db, merchantId)) throw new AppError(409, 'merchant_removed', `merchant ${merchantId} was already removed at its exit`);
}

/**
 * The exit's view: the running workflow's own state when a worker answers within 2 s (the
 * blocking orders, the review, the refunds), the stored row otherwise (an exit that ended, or
 * a worker that is slow), with the timeline.
 */
async function exitView(db: Db, exits: ExitGateway, merchantId: string) {
  const stored = await latestExit(db, merchantId);
  if (!stored) return undefined;
  const live = await exits.status(merchantId, { timeoutMs: 2000 }).catch(() => undefined);
  const timeline = await exitTimeline(db, stored.exitId);
  const base = {
    exitId: stored.exitId,
    workflowId: stored.workflowId,
    merchantId,
    kind: stored.kind,
    requestedBy: stored.requestedBy,
    reason: stored.reason,
    penaltyId: stored.penaltyId,
    startedAt: stored.startedAt,
    endedAt: stored.endedAt,
    recordAvailable: stored.hasRecord,
    timeline,
  };
  if (live) {
    return {
      ...base,
      step: live.step,
      stepSince: new Date(live.stepSinceMs).toISOString(),
      blocking: live.blocking,
      productsToDelist: live.productsToDelist,
      lastCheckedAt: live.lastCheckedAtMs === undefined ? null : new Date(live.lastCheckedAtMs).toISOString(),
      review: live.review ? { decision: live.review.decision, actor: live.review.actor, reason: live.review.reason, at: new Date(live.review.atMs).toISOString() } : null,
      refunds: live.refunds,
      source: 'workflow' as const,
    };
  }
  return { ...base, step: stored.step, stepSince: stored.stepSince, blocking: stored.blocking, lastCheckedAt: stored.lastCheckedAt, source: 'stored' as const };
}

const exitNotFound = (merchantId: string): AppError => new AppError(404, 'exit_not_found', `merchant ${merchantId} has no exit`);

async function sendView(db: Db, exits: ExitGateway, merchantId: string, res: Response, status = 200): Promise<void> {
  const view = await exitView(db, exits, merchantId);
  if (!view) throw exitNotFound(merchantId);
  res.status(status).json(view);
}

export function createExitMerchantRouter({ db, exits, encryptor }: ExitRouterDeps): Router {
  const router = Router();
  // Raw, so the signature covers the bytes sent; these routes never reach the operator fence.
  router.use('/v1/governance/merchant/exit', express.raw({ type: () => true, limit: UPLOAD_BODY_LIMIT_BYTES }), requireSignedMerchant(db, encryptor));

  router.post('/v1/governance/merchant/exit', async (req, res) => {
    const merchantId = String(res.locals.merchantId);
    const body = parseRequestBody(exitRequestBodySchema, signedJsonBody(req.body));
    await requireMerchantToStart(db, merchantId);
    const started = await engine(exits.startExit(merchantId, 'requested', { requestedBy: merchantId, reason: body.reason }), 'send the request again');
    res.status(202).json({ ...started, merchantId });
  });

  router.get('/v1/governance/merchant/exit', async (_req, res) => {
    await sendView(db, exits, String(res.locals.merchantId), res);
  });

  router.post('/v1/governance/merchant/exit/orders/:orderId/no-invoice-proof', async (req, res) => {
    const merchantId = String(res.locals.merchantId);
    const orderId = parsePathId(req.params.orderId, 'orderId');
    const raw = signedJsonBody(req.body);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidRequest([{ field: '(body)', reason: 'must be a JSON object' }]);
    // The supervision's document rules (type, size, base64, checksum); the purpose is implied by the route.
    const { meta, content } = checkUpload({ ...raw, purpose: 'acceptance' }, { type: 'merchant', id: merchantId }, { orderId, orderLineId: '-' });
    const saved = await saveNoInvoiceProof(db, { merchantId, orderId, fileName: meta.fileName, contentType: meta.contentType, sha256: meta.sha256, content, uploadedBy: merchantId });
    // Another merchant's order is answered exactly like one that does not exist.
    if (!saved) throw new AppError(404, 'order_not_found', `no order ${orderId}`);
    // The exit, if one runs, checks again now: this proof may clear its last blocking order.
    const rechecked = await exits.recheck(merchantId, { actor: merchantId, reason: `no-invoice proof uploaded for order ${orderId}` }).catch(() => false);
    res.status(201).json({ orderId, fileName: meta.fileName, contentType: meta.contentType, sizeBytes: meta.sizeBytes, sha256: meta.sha256, uploadedAt: saved.uploadedAt, exitRechecked: rechecked });
  });

  return router;
}

export function createExitOperatorRouter({ db, exits }: Omit<ExitRouterDeps, 'encryptor'>): Router {
  const router = Router();
  const json = express.json({ limit: '16kb' });

  router.post('/v1/merchants/:merchantId/exit', json, async (req, res) => {
    const merchantId = parsePathId(req.params.merchantId, 'merchantId');
    const body = parseRequestBody(forcedExitBodySchema, req.body ?? {});
    const operator = String(res.locals.operator);
    await requireMerchantToStart(db, merchantId);
    const started = await engine(exits.startForcedExit(merchantId, { reason: body.reason, actor: operator, ...(body.penaltyId ? { penaltyId: body.penaltyId } : {}) }), 'send the request again');
    if (!started.duplicate) {
      await insertOperatorAction(db, { actor: operator, action: 'exit.force', targetType: 'merchant', targetId: merchantId, reason: body.reason, details: { workflowId: started.workflowId, penaltyId: body.penaltyId ?? null } });
    }
    res.status(202).json({ ...started, merchantId });
  });

  router.get('/v1/merchants/:merchantId/exit', async (req, res) => {
    await sendView(db, exits, parsePathId(req.params.merchantId, 'merchantId'), res);
  });

  router.post('/v1/merchants/:merchantId/exit/review', json, async (req, res) => {
    const merchantId = parsePathId(req.params.merchantId, 'merchantId');
    const body = parseRequestBody(exitReviewBodySchema, req.body ?? {});
    const operator = String(res.locals.operator);
    const result = await engine(exits.review(merchantId, { decision: body.decision, actor: operator, reason: body.reason }, `exit-review:${merchantId}:${body.decision}:${operator}:${body.reason}`), 'send the review again');
    if (result.kind === 'ended') throw new AppError(409, 'exit_not_running', `merchant ${merchantId} has no exit waiting for a review`);
    if (result.kind === 'refused') throw new AppError(409, 'exit_review_refused', result.reason);
    await insertOperatorAction(db, { actor: operator, action: `exit.${body.decision}`, targetType: 'merchant', targetId: merchantId, reason: body.reason });
    res.json({ merchantId, step: result.snapshot.step, review: result.snapshot.review, blocking: result.snapshot.blocking });
  });

  router.post('/v1/merchants/:merchantId/exit/recheck', json, async (req, res) => {
    const merchantId = parsePathId(req.params.merchantId, 'merchantId');
    const body = parseRequestBody(exitRecheckBodySchema, req.body ?? {});
    const running = await engine(exits.recheck(merchantId, { actor: String(res.locals.operator), reason: body.reason }), 'send the request again');
    if (!running) throw new AppError(409, 'exit_not_running', `merchant ${merchantId} has no exit running`);
    res.status(202).json({ merchantId, rechecking: true });
  });

  router.get('/v1/merchants/:merchantId/exit/record', async (req, res) => {
    const merchantId = parsePathId(req.params.merchantId, 'merchantId');
    const record = await latestExitRecord(db, merchantId);
    if (!record) throw new AppError(404, 'exit_record_not_found', `merchant ${merchantId} has no exit record (its exit has not ended)`);
    res.set('Content-Disposition', `attachment; filename="exit-record-${merchantId}.json"`).json(record);
  });

  return router;
}
