/**
 * Listing guards other routes share (spec §9.4, §9.5): nothing goes on sale, or trades, once a
 * merchant's exit is approved; a new product is not registered on sale while the merchant is
 * leaving or its publishing rights are frozen. Call each inside the transaction, after the
 * merchant's row lock (the lock order of db/repositories/governance/listing.ts).
 */
import type { Queryable } from '../../db/pool';
import { approvedExitStep } from '../../db/repositories/governance/listing';
import { publishingFreeze } from '../../db/repositories/governance/penalties';
import { AppError } from '../errors';

/** 409 exit_approved while the merchant's approved exit runs: the exit delists, freezes and removes; an operator's change would undo it. */
export async function refuseDuringApprovedExit(q: Queryable, merchantId: string): Promise<void> {
  const step = await approvedExitStep(q, merchantId);
  if (step) throw new AppError(409, 'exit_approved', `merchant ${merchantId}'s exit is approved and at step ${step}: its listings change only through the exit`);
}

/**
 * A new product would go on sale at once (the default state), so it is refused while its
 * merchant is removed (merchant_removed), leaving (merchant_exiting, or exit_approved once the
 * approval froze its trading), or under a publishing freeze (publishing_frozen).
 */
export async function refuseNewProduct(q: Queryable, merchant: { merchantId: string; state: string }): Promise<void> {
  const { merchantId, state } = merchant;
  if (state === 'removed') throw new AppError(409, 'merchant_removed', `merchant ${merchantId} was removed: it registers no products`);
  if (state === 'exiting') throw new AppError(409, 'merchant_exiting', `merchant ${merchantId} is leaving the marketplace (its exit runs): it registers no new products`);
  await refuseDuringApprovedExit(q, merchantId);
  const freeze = await publishingFreeze(q, merchantId);
  if (freeze?.frozenUntil) throw new AppError(409, 'publishing_frozen', `merchant ${merchantId}'s publishing rights are frozen until ${freeze.frozenUntil} (a penalty): it registers no new products`);
}
