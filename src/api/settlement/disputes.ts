/**
 * Disputes of statement lines (spec §9.2: "Disputes go through tickets; confirmed differences
 * are adjusted in the next cycle").
 * Merchants (signed, under the settlement merchant router), each seeing only its own:
 *   POST /v1/settlement/merchant/statements/:statementNumber/disputes  { kind, orderId, orderLineId, productId, claimedAmount, reason }
 *   GET  /v1/settlement/merchant/statements/:statementNumber/disputes
 *   GET  /v1/settlement/merchant/disputes/:disputeId
 * Operators:
 *   GET  /v1/settlement/disputes?status=open|confirmed|rejected
 *   GET  /v1/settlement/disputes/:disputeId
 *   POST /v1/settlement/disputes/:disputeId/confirm  { difference, reason }
 *   POST /v1/settlement/disputes/:disputeId/reject   { reason }
 * A confirmation appends the difference to the settlement ledger as an adjustment line keyed by
 * the dispute, in the same transaction as the decision: it lands on the merchant's next
 * statement exactly once, and no statement already made changes.
 */
import express, { Router } from 'express';
import type { Db, Queryable } from '../../db/pool';
import { insertNotification } from '../../db/repositories/notices/notifications';
import { insertOperatorAction } from '../../db/repositories/operations/operator-actions';
import { decideDispute, findDispute, listDisputes, openDispute, statementHead, statementLine, type DisputeView } from '../../db/repositories/settlement/disputes';
import { appendLedgerFact } from '../../db/repositories/settlement/ledger';
import { AppError } from '../errors';
import { parsePathId, parseRequestBody, signedJsonBody } from '../request-body';
import { confirmedDifferenceRefusal, statementSent } from './dispute-rules';
import { units } from './invoice-rules';
import { confirmDisputeBodySchema, disputeBodySchema, disputeListQuerySchema, rejectDisputeBodySchema } from './schemas';

export interface DisputeRouterDeps {
  db: Db;
}

/** The most disputes one list answers. */
const LIST_LIMIT = 500;

const notFound = (disputeId: string): AppError => new AppError(404, 'dispute_not_found', `no dispute ${disputeId}`);

/** An in-site message, once per dispute and event. */
function notify(q: Queryable, d: DisputeView, event: 'opened' | 'decided', to: { type: 'merchant' | 'operator'; id: string }, subject: string, body: string) {
  return insertNotification(q, {
    idempotencyKey: `dispute:${d.disputeId}:${event}`,
    recipientType: to.type,
    recipientId: to.id,
    channel: 'in-site',
    subject,
    body,
    emailStatus: 'not-applicable',
  });
}

export function createDisputeMerchantRouter({ db }: DisputeRouterDeps): Router {
  const router = Router();

  router.post('/v1/settlement/merchant/statements/:statementNumber/disputes', async (req, res) => {
    const statementNumber = parsePathId(req.params.statementNumber, 'statementNumber');
    const merchantId = String(res.locals.merchantId);
    const body = parseRequestBody(disputeBodySchema, signedJsonBody(req.body));
    const dispute = await db.withTransaction(async (q) => {
      const statement = await statementHead(q, statementNumber, merchantId);
      if (!statement) throw new AppError(404, 'statement_not_found', `no statement ${statementNumber}`);
      if (!statementSent(statement.step)) {
        throw new AppError(409, 'statement_not_sent', `statement ${statementNumber} is at step ${statement.step}: it can be disputed once it was sent`);
      }
      const line = await statementLine(q, statementNumber, body);
      if (!line) throw new AppError(404, 'statement_line_not_found', `statement ${statementNumber} has no ${body.kind} line for order ${body.orderId} line ${body.orderLineId} product ${body.productId}`);
      if (units(body.claimedAmount) === units(line.amount)) {
        throw new AppError(422, 'claim_equals_line', `claimedAmount: the line is already ${line.amount}`, [{ field: 'claimedAmount', reason: `the line is already ${line.amount}` }]);
      }
      const opened = await openDispute(q, { statementNumber, period: statement.period, merchantId, line, claimedAmount: body.claimedAmount, reason: body.reason });
      if (!opened) throw new AppError(409, 'dispute_already_open', `the line already has an open dispute on statement ${statementNumber}`);
      await notify(q, opened, 'opened', { type: 'operator', id: 'settlement' }, `Statement ${statementNumber}: dispute ${opened.disputeId}`,
        `Merchant ${merchantId} disputes the ${line.kind} line of order ${line.orderId} (${line.amount} ${line.currency}), claiming ${opened.claimedAmount}: ${body.reason}`);
      return opened;
    });
    res.status(201).location(`/v1/settlement/merchant/disputes/${dispute.disputeId}`).json(dispute);
  });

  router.get('/v1/settlement/merchant/statements/:statementNumber/disputes', async (req, res) => {
    const statementNumber = parsePathId(req.params.statementNumber, 'statementNumber');
    const merchantId = String(res.locals.merchantId);
    if (!(await statementHead(db, statementNumber, merchantId))) throw new AppError(404, 'statement_not_found', `no statement ${statementNumber}`);
    res.json({ disputes: await listDisputes(db, { statementNumber, merchantId, limit: LIST_LIMIT }) });
  });

  // Another merchant's dispute is answered exactly like one that does not exist.
  router.get('/v1/settlement/merchant/disputes/:disputeId', async (req, res) => {
    const disputeId = parsePathId(req.params.disputeId, 'disputeId');
    const dispute = await findDispute(db, disputeId, { merchantId: String(res.locals.merchantId) });
    if (!dispute) throw notFound(disputeId);
    res.json(dispute);
  });

  return router;
}

export function createDisputeOperatorRouter({ db }: DisputeRouterDeps): Router {
  const router = Router();
  const json = express.json({ limit: '16kb' });

  router.get('/v1/settlement/disputes', async (req, res) => {
    const { status } = parseRequestBody(disputeListQuerySchema, { ...req.query });
    res.json({ disputes: await listDisputes(db, { ...(status ? { status } : {}), limit: LIST_LIMIT }) });
  });

  router.get('/v1/settlement/disputes/:disputeId', async (req, res) => {
    const disputeId = parsePathId(req.params.disputeId, 'disputeId');
    const dispute = await findDispute(db, disputeId);
    if (!dispute) throw notFound(disputeId);
    res.json(dispute);
  });

  /** Locks an open dispute, or answers why it cannot be decided. */
  async function openForDecision(q: Queryable, disputeId: string): Promise<DisputeView> {
    const dispute = await findDispute(q, disputeId, { lock: true });
    if (!dispute) throw notFound(disputeId);
    if (dispute.status !== 'open') throw new AppError(409, 'dispute_decided', `dispute ${disputeId} was already ${dispute.status} by ${dispute.decidedBy}`);
    return dispute;
  }

  router.post('/v1/settlement/disputes/:disputeId/confirm', json, async (req, res) => {
    const disputeId = parsePathId(req.params.disputeId, 'disputeId');
    const { difference, reason } = parseRequestBody(confirmDisputeBodySchema, req.body ?? {});
    const actor = String(res.locals.operator);
    const decided = await db.withTransaction(async (q) => {
      const dispute = await openForDecision(q, disputeId);
      const refusal = confirmedDifferenceRefusal(dispute.claimedDifference, difference);
      if (refusal) throw new AppError(422, refusal.rule, `${refusal.field}: ${refusal.reason}`, [{ field: refusal.field, reason: refusal.reason }]);
      const { line } = dispute;
      const fact = await appendLedgerFact(q, {
        factKey: `adjustment:${disputeId}`,
        kind: 'adjustment',
        merchantId: dispute.merchantId,
        orderId: line.orderId,
        orderLineId: line.orderLineId,
        productId: line.productId,
        skuCode: line.skuCode,
        amount: difference,
        currency: line.currency,
        taxRate: line.taxRate,
        effectiveAt: new Date().toISOString(),
        reference: disputeId,
      });
      const adjustment = { ledgerId: fact.ledgerId, period: fact.settlePeriod };
      await decideDispute(q, disputeId, { status: 'confirmed', difference, reason, actor, adjustment });
      await insertOperatorAction(q, { actor, action: 'dispute-confirm', targetType: 'dispute', targetId: disputeId, reason, details: { statementNumber: dispute.statementNumber, difference, adjustment } });
      await notify(q, dispute, 'decided', { type: 'merchant', id: dispute.merchantId }, `Dispute ${disputeId} confirmed`,
        `Your dispute of statement ${dispute.statementNumber} is confirmed: ${difference} ${line.currency} is adjusted on your statement for ${fact.settlePeriod}. ${reason}`);
      return findDispute(q, disputeId);
    });
    res.json(decided);
  });

  router.post('/v1/settlement/disputes/:disputeId/reject', json, async (req, res) => {
    const disputeId = parsePathId(req.params.disputeId, 'disputeId');
    const { reason } = parseRequestBody(rejectDisputeBodySchema, req.body ?? {});
    const actor = String(res.locals.operator);
    const decided = await db.withTransaction(async (q) => {
      const dispute = await openForDecision(q, disputeId);
      await decideDispute(q, disputeId, { status: 'rejected', reason, actor });
      await insertOperatorAction(q, { actor, action: 'dispute-reject', targetType: 'dispute', targetId: disputeId, reason, details: { statementNumber: dispute.statementNumber } });
      await notify(q, dispute, 'decided', { type: 'merchant', id: dispute.merchantId }, `Dispute ${disputeId} rejected`,
        `Your dispute of statement ${dispute.statementNumber} is rejected: ${reason}`);
      return findDispute(q, disputeId);
    });
    res.json(decided);
  });

  return router;
}
