/**
 * Refund routes. Merchants (signed requests under their access key, as for settlement and
 * supervision: api/auth.ts), each answering only its own order lines' refunds:
 *   POST /v1/refunds/merchant/orders/:orderId/lines/:orderLineId/answer  { approved, reason? }
 */
import express, { Router } from 'express';
import type { Db } from '../../db/pool';
import { findRefundableLine } from '../../db/repositories/refunds/order-lines';
import type { Encryptor } from '../../platform/security/encryption';
import { refundWorkflowId } from '../../workflows/refunds/messages';
import { requireSignedMerchant } from '../auth';
import { AppError, WorkflowEngineUnavailable, workflowEngineUnavailable } from '../errors';
import { parsePathId, parseRequestBody } from '../request-body';
import type { RefundGateway } from './gateway';
import { merchantAnswerBodySchema } from './schemas';

function bodyOf(raw: unknown): unknown {
  if (!Buffer.isBuffer(raw) || raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new AppError(400, 'invalid_json', 'request body is not valid JSON');
  }
}

export function createRefundMerchantRouter({ db, gateway, encryptor }: { db: Db; gateway: RefundGateway; encryptor: Encryptor }): Router {
  const router = Router();
  const signedByMerchant = requireSignedMerchant(db, encryptor);
  // Raw, so the signature covers the bytes sent; these routes never reach the operator fence.
  router.use('/v1/refunds/merchant', express.raw({ type: () => true, limit: '16kb' }), signedByMerchant);

  router.post('/v1/refunds/merchant/orders/:orderId/lines/:orderLineId/answer', async (req, res) => {
    const merchantId = String(res.locals.merchantId);
    const orderId = parsePathId(req.params.orderId, 'orderId');
    const orderLineId = parsePathId(req.params.orderLineId, 'orderLineId');
    const body = parseRequestBody(merchantAnswerBodySchema, bodyOf(req.body));
    // Another merchant's order line is answered exactly like one that does not exist.
    const line = await findRefundableLine(db, orderId, orderLineId, merchantId);
    if (!line) throw new AppError(404, 'refund_not_found', `no refund of ${orderId}/${orderLineId}`);
    const workflowId = refundWorkflowId(orderId, orderLineId);
    let result;
    try {
      // One answer per refund: a repeated request gets the first answer's result.
      result = await gateway.answer(workflowId, { approved: body.approved, actor: merchantId, ...(body.reason ? { reason: body.reason } : {}) }, `merchant-answer:${workflowId}`);
    } catch (error) {
      if (error instanceof WorkflowEngineUnavailable) throw workflowEngineUnavailable('send the answer again', error.cause);
      throw error;
    }
    if (result.kind === 'ended') throw new AppError(409, 'refund_not_awaiting_merchant', `no refund ${workflowId} is running`);
    if (result.kind === 'not-awaiting') throw new AppError(409, 'refund_not_awaiting_merchant', result.reason);
    // A repeat carries the first answer's update id and gets its result: the same answer is 200 again, another one is refused.
    const recorded = result.snapshot.merchant;
    if (recorded && recorded.approved !== body.approved) {
      throw new AppError(409, 'refund_already_answered', `refund ${workflowId} was already ${recorded.approved ? 'approved' : 'rejected'} by ${recorded.actor}`);
    }
    // The verdict follows in the workflow (and to the order system); the answer is on record now.
    res.json({ workflowId, answer: result.snapshot.merchant });
  });

  return router;
}
