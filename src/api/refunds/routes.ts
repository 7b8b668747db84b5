/**
 * Refund routes.
 *
 * Merchants (signed requests under their access key, as for settlement and supervision:
 * api/auth.ts), each seeing and answering only its own refunds (another's is a 404):
 *   GET  /v1/refunds/merchant/refunds/:refundOrderId
 *   POST /v1/refunds/merchant/refunds/:refundOrderId/answer                 { approved, reason? }
 *   POST /v1/refunds/merchant/orders/:orderId/lines/:orderLineId/answer     { approved, reason? }  (the line's latest refund)
 *
 * Operators (behind the operator token; who acted is X-Operator):
 *   GET  /v1/refunds/:refundOrderId
 *   GET  /v1/orders/:orderId/refunds
 *   POST /v1/refunds/:refundOrderId/answer                                  { approved, reason }  (for the merchant)
 */
import express, { Router } from 'express';
import type { Db } from '../../db/pool';
import { insertOperatorAction } from '../../db/repositories/operations/operator-actions';
import { findRefund, latestRefundOfLine, orderExists, refundsOfOrder, withDecisions, type RefundRow } from '../../db/repositories/refunds/refunds';
import type { Encryptor } from '../../platform/security/encryption';
import type { MerchantRefundAnswer, RefundAnswerRecord } from '../../workflows/refunds/messages';
import { requireSignedMerchant } from '../auth';
import { AppError, WorkflowEngineUnavailable, workflowEngineUnavailable } from '../errors';
import { parsePathId, parseRequestBody, signedJsonBody } from '../request-body';
import type { RefundGateway } from './gateway';
import { merchantAnswerBodySchema, operatorAnswerBodySchema } from './schemas';


const notFound = (what: string): AppError => new AppError(404, 'refund_not_found', `no refund ${what}`);

/** One refund with its decisions. */
async function refundView(db: Db, refund: RefundRow) {
  const [view] = await withDecisions(db, [refund]);
  return view;
}

/**
 * Hands an answer to the refund's workflow and answers the request: 200 with the answer on
 * record, 409 when the refund is not awaiting one (or another answer was given), 503 when
 * Temporal does not answer. One answer per refund: a repeat (same update id) gets the first
 * answer's result, so the same answer is 200 again and a contrary one is refused.
 */
async function answerRefund(gateway: RefundGateway, refund: RefundRow, answer: MerchantRefundAnswer): Promise<{ refundOrderId: string; workflowId: string; answer: RefundAnswerRecord | undefined }> {
  const workflowId = refund.workflowId;
  let result;
  try {
    result = await gateway.answer(workflowId, answer, `merchant-answer:${workflowId}`);
  } catch (error) {
    if (error instanceof WorkflowEngineUnavailable) throw workflowEngineUnavailable('send the answer again', error.cause);
    throw error;
  }
  if (result.kind === 'ended') throw new AppError(409, 'refund_not_awaiting_merchant', `refund ${refund.refundOrderId} is ${refund.status}: no answer is awaited`);
  if (result.kind === 'not-awaiting') throw new AppError(409, 'refund_not_awaiting_merchant', result.reason);
  const recorded = result.snapshot.merchant;
  if (recorded && recorded.approved !== answer.approved) {
    throw new AppError(409, 'refund_already_answered', `refund ${refund.refundOrderId} was already ${recorded.approved ? 'approved' : 'rejected'} by ${recorded.actor}`);
  }
  // The verdict follows in the workflow (and to the order system); the answer is on record now.
  return { refundOrderId: refund.refundOrderId, workflowId, answer: recorded };
}

export function createRefundMerchantRouter({ db, gateway, encryptor }: { db: Db; gateway: RefundGateway; encryptor: Encryptor }): Router {
  const router = Router();
  const signedByMerchant = requireSignedMerchant(db, encryptor);
  // Raw, so the signature covers the bytes sent; these routes never reach the operator fence.
  router.use('/v1/refunds/merchant', express.raw({ type: () => true, limit: '16kb' }), signedByMerchant);

  router.get('/v1/refunds/merchant/refunds/:refundOrderId', async (req, res) => {
    const refundOrderId = parsePathId(req.params.refundOrderId, 'refundOrderId');
    // Another merchant's refund is answered exactly like one that does not exist.
    const refund = await findRefund(db, refundOrderId, String(res.locals.merchantId));
    if (!refund) throw notFound(refundOrderId);
    res.json(await refundView(db, refund));
  });

  router.post('/v1/refunds/merchant/refunds/:refundOrderId/answer', async (req, res) => {
    const merchantId = String(res.locals.merchantId);
    const refundOrderId = parsePathId(req.params.refundOrderId, 'refundOrderId');
    const body = parseRequestBody(merchantAnswerBodySchema, signedJsonBody(req.body));
    const refund = await findRefund(db, refundOrderId, merchantId);
    if (!refund) throw notFound(refundOrderId);
    res.json(await answerRefund(gateway, refund, { approved: body.approved, actorType: 'merchant', actor: merchantId, ...(body.reason ? { reason: body.reason } : {}) }));
  });

  router.post('/v1/refunds/merchant/orders/:orderId/lines/:orderLineId/answer', async (req, res) => {
    const merchantId = String(res.locals.merchantId);
    const orderId = parsePathId(req.params.orderId, 'orderId');
    const orderLineId = parsePathId(req.params.orderLineId, 'orderLineId');
    const body = parseRequestBody(merchantAnswerBodySchema, signedJsonBody(req.body));
    // The line's latest request: at most one is live, and an older one has its verdict.
    const refund = await latestRefundOfLine(db, orderId, orderLineId, merchantId);
    if (!refund) throw notFound(`of ${orderId}/${orderLineId}`);
    res.json(await answerRefund(gateway, refund, { approved: body.approved, actorType: 'merchant', actor: merchantId, ...(body.reason ? { reason: body.reason } : {}) }));
  });

  return router;
}

export function createRefundOperatorRouter({ db, gateway }: { db: Db; gateway: RefundGateway }): Router {
  const router = Router();

  router.get('/v1/refunds/:refundOrderId', async (req, res) => {
    const refundOrderId = parsePathId(req.params.refundOrderId, 'refundOrderId');
    const refund = await findRefund(db, refundOrderId);
    if (!refund) throw notFound(refundOrderId);
    res.json(await refundView(db, refund));
  });

  router.get('/v1/orders/:orderId/refunds', async (req, res) => {
    const orderId = parsePathId(req.params.orderId, 'orderId');
    const refunds = await refundsOfOrder(db, orderId);
    if (refunds.length === 0 && !(await orderExists(db, orderId))) throw new AppError(404, 'order_not_found', `order ${orderId} is unknown`);
    res.json({ orderId, refunds: await withDecisions(db, refunds) });
  });

  router.post('/v1/refunds/:refundOrderId/answer', express.json({ limit: '16kb' }), async (req, res) => {
    const refundOrderId = parsePathId(req.params.refundOrderId, 'refundOrderId');
    const body = parseRequestBody(operatorAnswerBodySchema, req.body ?? {});
    const refund = await findRefund(db, refundOrderId);
    if (!refund) throw notFound(refundOrderId);
    const operator = String(res.locals.operator);
    const answered = await answerRefund(gateway, refund, { approved: body.approved, actorType: 'operator', actor: operator, reason: body.reason });
    // The operator's answer goes on the operators' record too, when it is the one the refund took (not a repeat of another's).
    const recorded = answered.answer;
    if (recorded?.actorType === 'operator' && recorded.actor === operator) {
      await insertOperatorAction(db, {
        actor: operator,
        action: body.approved ? 'refund.approve' : 'refund.reject',
        targetType: 'refund',
        targetId: refundOrderId,
        reason: body.reason,
        details: { orderId: refund.orderId, orderLineId: refund.orderLineId, merchantId: refund.merchantId },
      });
    }
    res.json(answered);
  });

  return router;
}
