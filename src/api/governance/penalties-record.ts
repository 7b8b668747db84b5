/**
 * Recording a violation (spec §9.5): the ledger entry and every state change it causes, in
 * one transaction; then, for a termination, the forced exit's start, which a retry of the
 * same entry repeats until it has happened.
 */
import type { Db, Queryable } from '../../db/pool';
import { setProductListing } from '../../db/repositories/governance/listing';
import {
  attributeListingChange,
  findPenaltyEntry,
  findPenaltyEntryByKey,
  freezePublishing,
  insertPenaltyEntry,
  lockMerchantForPenalty,
  markForcedExitStarted,
  pointsInWindow,
  productListingForPenalty,
  recordConsequences,
  type PenaltyEntry,
  type ProductListing,
} from '../../db/repositories/governance/penalties';
import { findViolation, type Violation } from '../../db/repositories/governance/violations';
import { insertNotification } from '../../db/repositories/notices/notifications';
import type { PenaltySettings } from '../../platform/config';
import { findMerchant } from '../../db/repositories/catalog/merchants';
import type { PenaltyNoticeInput } from '../../workflows/governance/penalties/messages';
import { AppError, invalidRequest, WorkflowEngineUnavailable } from '../errors';
import type { PenaltyNoticeGateway } from './penalties-gateway';
import { penaltyListing, terminationCause } from './penalties-consequences';
import type { ForcedExitStarter } from './penalties-exit';
import type { PenaltyBody } from './penalties-schemas';
import { productTransition, type MerchantState, type ProductState } from '../../shared/listing-transitions';

/** Who changes listings on a penalty's behalf, in listing_changes. */
export const PENALTIES_ACTOR = 'penalties';

export interface ViolationReport extends PenaltyBody {
  merchantId: string;
  actor: string;
  idempotencyKey: string | undefined;
}

/** The catalogue entry to apply: 422 when the code is unknown or retired. */
async function usableViolation(q: Queryable, code: string): Promise<Violation> {
  const violation = await findViolation(q, code, 'share');
  if (!violation) throw new AppError(422, 'unknown_violation_code', `code: no violation ${code} in the catalogue`, [{ field: 'code', reason: 'not in the catalogue' }]);
  if (violation.retiredAt) throw new AppError(422, 'violation_retired', `code: violation ${code} was retired: ${violation.retiredReason}`, [{ field: 'code', reason: 'retired' }]);
  return violation;
}

/** A penalty consequence that the listing rules refuse is a bug in penaltyListing, not the caller's fault. */
function assertAllowed(verdict: ReturnType<typeof productTransition>): void {
  if (!verdict.allowed) throw new Error(`penalty listing refused: ${verdict.code}: ${verdict.reason}`);
}

/** Changes the product's listing as the violation says, recorded under the entry; answers the end of a delisting for a period. */
async function applyProductAction(
  q: Queryable,
  r: ViolationReport,
  violation: Violation,
  entryId: string,
  product: ProductListing | undefined,
  merchantState: MerchantState,
): Promise<string | null> {
  if (!violation.productAction || !r.productId || !product) return null;
  const current = { state: product.state as ProductState, delistedUntil: product.delistedUntil };
  const listing = penaltyListing(violation.productAction, violation.productDelistDays, current, product.now);
  if (!listing) return null;
  assertAllowed(productTransition(current.state, listing.to, merchantState));
  const change = await setProductListing(q, {
    merchantId: r.merchantId,
    productId: r.productId,
    from: current.state,
    to: listing.to,
    until: listing.until,
    actor: PENALTIES_ACTOR,
    reason: `penalty ${entryId} (${violation.code}): ${r.reason}`,
  });
  await attributeListingChange(q, change.changeId, entryId);
  return listing.until;
}

/**
 * The entry and its consequences, in one transaction. Locks the merchant before the product,
 * the lock order of every listing change (db/repositories/governance/listing.ts), so none of
 * them deadlock.
 */
async function recordInTransaction(q: Queryable, r: ViolationReport, settings: PenaltySettings): Promise<PenaltyEntry> {
  const violation = await usableViolation(q, r.code);
  if (violation.productAction && !r.productId) throw invalidRequest([{ field: 'productId', reason: `required: ${violation.code} delists the product concerned` }]);
  const merchant = await lockMerchantForPenalty(q, r.merchantId);
  if (!merchant) throw new AppError(404, 'merchant_not_found', `merchant ${r.merchantId} is not registered`);
  // Another merchant's product is answered exactly like one that does not exist.
  const product = r.productId ? await productListingForPenalty(q, r.merchantId, r.productId) : undefined;
  if (r.productId && !product) {
    throw new AppError(404, 'product_not_found', `product ${r.productId} is not registered for merchant ${r.merchantId}`);
  }
  if (merchant.state === 'removed') throw new AppError(409, 'merchant_removed', `merchant ${r.merchantId} was removed; no penalty applies any more`);
  const termination = terminationCause(violation, await pointsInWindow(q, r.merchantId, settings.windowDays), settings.terminationPoints);
  const entryId = await insertPenaltyEntry(q, {
    merchantId: r.merchantId,
    violationCode: violation.code,
    productId: r.productId ?? null,
    points: violation.points,
    deductsFullDeposit: violation.deductsFullDeposit,
    penaltyYuan: violation.penaltyYuan,
    otherSanctions: violation.otherSanctions,
    reason: r.reason,
    evidence: r.evidence ?? null,
    actor: r.actor,
    idempotencyKey: r.idempotencyKey ?? null,
    termination,
  });
  const delistedUntil = await applyProductAction(q, r, violation, entryId, product, merchant.state as MerchantState);
  const publishingFrozenUntil = violation.publishingFreezeDays
    ? await freezePublishing(q, { merchantId: r.merchantId, days: violation.publishingFreezeDays, entryId, reason: `penalty ${entryId} (${violation.code}): ${r.reason}` })
    : null;
  await recordConsequences(q, entryId, { delistedUntil, publishingFrozenUntil });
  const entry = (await findPenaltyEntry(q, r.merchantId, entryId))!;
  await tellMerchant(q, entry);
  return entry;
}

/** The merchant's message of an entry (pure): the violation, the points, what is owed, and every consequence applied. */
export function penaltyNotice(entry: PenaltyEntry): PenaltyNoticeInput['notice'] {
  const owed = [entry.owed.fullDeposit ? 'your full deposit' : null, entry.owed.yuan ? `${entry.owed.yuan} yuan` : null].filter(Boolean).join(' and ');
  const consequences = [
    ...entry.changes.filter((c) => c.kind === 'listing' && c.productId).map((c) => `- product ${c.productId}: ${c.from} → ${c.to}${c.until ? ` until ${c.until}` : ''}`),
    ...(entry.publishingFrozenUntil ? [`- your publishing rights are frozen until ${entry.publishingFrozenUntil}: no product goes on sale until then`] : []),
    ...(entry.termination ? ['- termination: the marketplace starts your exit (you will be told of each step)'] : []),
    ...(entry.otherSanctions ? [`- also: ${entry.otherSanctions}`] : []),
  ];
  return {
    idempotencyKey: `penalty:${entry.entryId}`,
    merchantId: entry.merchantId,
    subject: `Penalty ${entry.entryId}: ${entry.violationCode} (${entry.points} points)`,
    body:
      `The marketplace recorded a violation against you (KooGallery rules, penalties): ${entry.violationCode}${entry.productId ? `, product ${entry.productId}` : ''}.\n` +
      `Reason: ${entry.reason}\nPoints: ${entry.points}${owed ? `\nOwed: ${owed}` : ''}\n` +
      (consequences.length ? `Consequences:\n${consequences.join('\n')}\n` : '') +
      'Your ledger: GET /v1/governance/merchant/penalties.',
  };
}

/**
 * The merchant's in-site message of the entry, in the entry's transaction (one per entry, by
 * its key), its e-mail pending when the merchant has a contact address: penaltyNoticeWorkflow
 * sends it from the worker (sendPenaltyEmail).
 */
async function tellMerchant(q: Queryable, entry: PenaltyEntry): Promise<void> {
  const contactEmail = (await findMerchant(q, entry.merchantId))?.contactEmail;
  await insertNotification(q, { ...penaltyNotice(entry), recipientType: 'merchant', recipientId: entry.merchantId, channel: 'in-site', emailStatus: contactEmail ? 'pending' : 'not-applicable' });
}

/**
 * Hands the entry's e-mail to the worker. Answers `started`, or `pending` when Temporal did not
 * answer: the in-site message stands, and repeating the request with its Idempotency-Key starts it.
 */
export async function sendPenaltyEmail(notices: PenaltyNoticeGateway, entry: PenaltyEntry): Promise<'started' | 'pending'> {
  try {
    await notices.sendPenaltyNotice(entry.entryId, penaltyNotice(entry));
    return 'started';
  } catch (error) {
    if (error instanceof WorkflowEngineUnavailable) return 'pending';
    throw error;
  }
}

const sameReport = (entry: PenaltyEntry, r: ViolationReport): boolean =>
  entry.violationCode === r.code && entry.productId === (r.productId ?? null) && entry.reason === r.reason && entry.evidence === (r.evidence ?? null);

const isKeyClash = (error: unknown): boolean => (error as { code?: unknown; constraint?: unknown }).code === '23505' && (error as { constraint?: unknown }).constraint === 'penalty_entries_merchant_id_idempotency_key_key';

/** The entry an Idempotency-Key already recorded, if any; 409 when the key was used for another report. */
async function earlierEntry(db: Db, r: ViolationReport): Promise<PenaltyEntry | undefined> {
  if (!r.idempotencyKey) return undefined;
  const entry = await findPenaltyEntryByKey(db, r.merchantId, r.idempotencyKey);
  if (entry && !sameReport(entry, r)) {
    throw new AppError(409, 'idempotency_key_reused', `Idempotency-Key was used for entry ${entry.entryId}, a different report`, [{ field: 'Idempotency-Key', reason: 'already used for another report' }]);
  }
  return entry;
}

/**
 * Records the violation, or finds the entry a retry with the same Idempotency-Key recorded
 * (`replayed`). Concurrent first attempts with one key record one entry: the loser of the
 * unique key reads the winner's.
 */
export async function recordViolation(db: Db, r: ViolationReport, settings: PenaltySettings): Promise<{ entry: PenaltyEntry; replayed: boolean }> {
  const earlier = await earlierEntry(db, r);
  if (earlier) return { entry: earlier, replayed: true };
  try {
    return { entry: await db.withTransaction((q) => recordInTransaction(q, r, settings)), replayed: false };
  } catch (error) {
    if (!isKeyClash(error)) throw error;
    return { entry: (await earlierEntry(db, r))!, replayed: true };
  }
}

/**
 * Starts the termination's forced exit unless that has happened, and notes it on the entry.
 * Safe to repeat: the exit is one workflow per merchant, and a start while it runs answers it.
 * Throws WorkflowEngineUnavailable when Temporal did not answer; the entry stays pending.
 */
export async function ensureForcedExit(db: Db, exits: ForcedExitStarter, entry: PenaltyEntry): Promise<PenaltyEntry> {
  if (!entry.termination || entry.forcedExit?.status === 'started') return entry;
  const why = entry.termination === 'violation' ? `violation ${entry.violationCode}` : `penalty points reached the termination threshold with ${entry.violationCode}`;
  const { workflowId } = await exits.startForcedExit(entry.merchantId, { reason: `termination (penalty ${entry.entryId}): ${why}: ${entry.reason}`, penaltyId: entry.entryId, actor: entry.actor });
  await markForcedExitStarted(db, entry.entryId, workflowId);
  return (await findPenaltyEntry(db, entry.merchantId, entry.entryId))!;
}
