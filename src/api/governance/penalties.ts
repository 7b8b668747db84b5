/**
 * Penalty routes (spec §9.5).
 * Operators (under /v1, the operator token; X-Operator names who acted):
 *   GET  /v1/governance/violations                          the catalogue, retired entries included
 *   POST /v1/governance/violations                          add an entry (201; a taken code: 409)
 *   POST /v1/governance/violations/:code/retire             { reason }: refused for new penalties, kept for the ledger
 *   POST /v1/merchants/:merchantId/penalties                { code, productId?, reason, evidence? } (Idempotency-Key);
 *                                                           the merchant is told in-site in the entry's transaction, by e-mail from the worker
 *   POST /v1/merchants/:merchantId/penalties/:entryId/forced-exit  start a termination's pending forced exit
 *   GET  /v1/merchants/:merchantId/penalties                the ledger, with the points in the window
 * Merchants (signed requests under their access key: api/auth.ts), their own ledger only:
 *   GET  /v1/governance/merchant/penalties
 */
import express, { Router, type Response } from 'express';
import type { Db } from '../../db/pool';
import { findPenaltyEntry, merchantLedger, type PenaltyEntry } from '../../db/repositories/governance/penalties';
import { findViolation, insertViolation, listViolations, retireViolation } from '../../db/repositories/governance/violations';
import type { PenaltySettings } from '../../platform/config';
import type { Encryptor } from '../../platform/security/encryption';
import { requireSignedMerchant } from '../auth';
import { AppError, invalidInput, WorkflowEngineUnavailable } from '../errors';
import { parsePathId, parseRequestBody } from '../request-body';
import type { ForcedExitStarter } from './penalties-exit';
import type { PenaltyNoticeGateway } from './penalties-gateway';
import { ensureForcedExit, recordViolation, sendPenaltyEmail } from './penalties-record';
import { idempotencyKeySchema, penaltyBodySchema, retireBodySchema, violationBodySchema } from './penalties-schemas';

export interface PenaltiesRouterDeps {
  db: Db;
  settings: PenaltySettings;
  exits: ForcedExitStarter;
  /** The entry's e-mail, sent from the worker (penaltyNoticeWorkflow). */
  notices: PenaltyNoticeGateway;
}

const json = express.json({ limit: '16kb' });

function idempotencyKeyOf(value: string | undefined): string | undefined {
  const parsed = idempotencyKeySchema.safeParse(value);
  if (!parsed.success) throw invalidInput(parsed.error, 'Idempotency-Key');
  return parsed.data;
}

/**
 * Starts the entry's forced exit if it terminates and that has not happened. The entry is on
 * record either way: when Temporal does not answer, 503 says how to repeat the start.
 */
async function withForcedExit(db: Db, exits: ForcedExitStarter, entry: PenaltyEntry): Promise<PenaltyEntry> {
  try {
    return await ensureForcedExit(db, exits, entry);
  } catch (error) {
    if (!(error instanceof WorkflowEngineUnavailable)) throw error;
    throw new AppError(
      503,
      'forced_exit_pending',
      `penalty ${entry.entryId} is recorded and terminates merchant ${entry.merchantId}, but its forced exit could not be started: ` +
        `repeat the request with the same Idempotency-Key, or POST /v1/merchants/${entry.merchantId}/penalties/${entry.entryId}/forced-exit`,
      undefined,
      error.cause,
    );
  }
}

/**
 * 202 for a termination (its forced exit runs on), 201 for a new entry, 200 for a retry of one
 * without termination; `noticeEmail` says whether the entry's e-mail was handed to the worker.
 */
function answerEntry(res: Response, entry: PenaltyEntry, replayed: boolean, noticeEmail?: 'started' | 'pending'): void {
  res.status(entry.termination ? 202 : replayed ? 200 : 201).json({ entry, replayed, ...(noticeEmail ? { noticeEmail } : {}) });
}

export function createPenaltiesOperatorRouter({ db, settings, exits, notices }: PenaltiesRouterDeps): Router {
  const router = Router();

  router.get('/v1/governance/violations', async (_req, res) => {
    res.json({ violations: await listViolations(db) });
  });

  router.post('/v1/governance/violations', json, async (req, res) => {
    const body = parseRequestBody(violationBodySchema, req.body ?? {});
    const violation = await insertViolation(
      db,
      {
        code: body.code,
        description: body.description,
        points: body.points,
        productAction: body.productAction ?? null,
        productDelistDays: body.productDelistDays ?? null,
        publishingFreezeDays: body.publishingFreezeDays ?? null,
        terminates: body.terminates,
        deductsFullDeposit: body.deductsFullDeposit,
        penaltyYuan: body.penaltyYuan ?? null,
        otherSanctions: body.otherSanctions ?? null,
      },
      String(res.locals.operator),
    );
    if (!violation) throw new AppError(409, 'violation_code_taken', `code: ${body.code} is already in the catalogue`, [{ field: 'code', reason: 'already in the catalogue' }]);
    res.status(201).json({ violation });
  });

  router.post('/v1/governance/violations/:code/retire', json, async (req, res) => {
    const code = parsePathId(req.params.code, 'code');
    const { reason } = parseRequestBody(retireBodySchema, req.body ?? {});
    const violation = await db.withTransaction(async (q) => {
      const found = await findViolation(q, code, 'update');
      if (!found) throw new AppError(404, 'violation_not_found', `no violation ${code} in the catalogue`);
      if (found.retiredAt) throw new AppError(409, 'violation_already_retired', `violation ${code} was retired at ${found.retiredAt}`);
      return retireViolation(q, code, String(res.locals.operator), reason);
    });
    res.json({ violation });
  });

  router.post('/v1/merchants/:merchantId/penalties', json, async (req, res) => {
    const merchantId = parsePathId(req.params.merchantId, 'merchantId');
    const idempotencyKey = idempotencyKeyOf(req.get('idempotency-key'));
    const body = parseRequestBody(penaltyBodySchema, req.body ?? {});
    const { entry, replayed } = await recordViolation(db, { ...body, merchantId, idempotencyKey, actor: String(res.locals.operator) }, settings);
    // Before the forced exit, whose failure answers 503: a repeat of the request starts both.
    const noticeEmail = await sendPenaltyEmail(notices, entry);
    answerEntry(res, await withForcedExit(db, exits, entry), replayed, noticeEmail);
  });

  router.post('/v1/merchants/:merchantId/penalties/:entryId/forced-exit', async (req, res) => {
    const merchantId = parsePathId(req.params.merchantId, 'merchantId');
    const entryId = parsePathId(req.params.entryId, 'entryId');
    const entry = await findPenaltyEntry(db, merchantId, entryId);
    if (!entry) throw new AppError(404, 'penalty_not_found', `no penalty ${entryId} of merchant ${merchantId}`);
    if (!entry.termination) throw new AppError(409, 'penalty_does_not_terminate', `penalty ${entryId} does not terminate the merchant`);
    answerEntry(res, await withForcedExit(db, exits, entry), true);
  });

  router.get('/v1/merchants/:merchantId/penalties', async (req, res) => {
    const merchantId = parsePathId(req.params.merchantId, 'merchantId');
    const ledger = await merchantLedger(db, merchantId, settings);
    if (!ledger) throw new AppError(404, 'merchant_not_found', `merchant ${merchantId} is not registered`);
    res.json(ledger);
  });

  return router;
}

export function createPenaltiesMerchantRouter({ db, settings, encryptor }: { db: Db; settings: PenaltySettings; encryptor: Encryptor }): Router {
  const router = Router();
  // Raw, so the signature covers the bytes sent (none for a read); this path never reaches the operator fence.
  router.use('/v1/governance/merchant/penalties', express.raw({ type: () => true, limit: '1kb' }), requireSignedMerchant(db, encryptor));

  router.get('/v1/governance/merchant/penalties', async (_req, res) => {
    // The signature named the merchant: there is no way to ask for another one's ledger.
    const ledger = await merchantLedger(db, String(res.locals.merchantId), settings);
    if (!ledger) throw new AppError(404, 'merchant_not_found', 'merchant not registered');
    // Which operator recorded an entry is the marketplace's business.
    res.json({ ...ledger, entries: ledger.entries.map(({ actor: _actor, ...entry }) => entry) });
  });

  return router;
}
