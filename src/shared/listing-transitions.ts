/**
 * Which listing changes are allowed (pure, sandbox-safe): the operator routes, penalties, dial
 * tests and failed-order sanctions all ask here, so it lives in shared/ where every layer may
 * import it. A product's `from` is its state as read now, so a delisting for a period that has
 * ended is `on_sale`. Same-state changes are refused, except a new end for a delisting for a period.
 */
export const productStates = ['on_sale', 'hidden', 'delisted', 'delisted_until', 'permanently_delisted'] as const;
export type ProductState = (typeof productStates)[number];

export const merchantStates = ['active', 'trading_frozen', 'exiting', 'removed'] as const;
export type MerchantState = (typeof merchantStates)[number];

/** A change that is allowed, or the code and reason it is not. */
export type Verdict = { allowed: true } | { allowed: false; code: string; reason: string };

const allowed: Verdict = { allowed: true };

const productMoves: Record<ProductState, readonly ProductState[]> = {
  // Hidden: off the shelf while its interface is fixed (spec §4, dial tests); it can go back on sale.
  on_sale: ['hidden', 'delisted', 'delisted_until', 'permanently_delisted'],
  hidden: ['on_sale', 'delisted', 'delisted_until', 'permanently_delisted'],
  delisted: ['on_sale', 'delisted_until', 'permanently_delisted'],
  // Lifted early, made open-ended or permanent, or given a new end.
  delisted_until: ['on_sale', 'delisted', 'delisted_until', 'permanently_delisted'],
  permanently_delisted: [],
};

/**
 * Whether a product may go from `from` to `to`; `merchant` is its merchant's state, and
 * `publishingFrozenUntil` the end of the merchant's publishing freeze (a penalty, spec §9.5)
 * while one runs.
 */
export function productTransition(from: ProductState, to: ProductState, merchant: MerchantState, publishingFrozenUntil: string | null = null): Verdict {
  if (from === 'permanently_delisted') return { allowed: false, code: 'permanently_delisted', reason: 'a permanently delisted product does not change state again' };
  if (to === 'on_sale' && merchant === 'removed') return { allowed: false, code: 'merchant_removed', reason: 'a removed merchant\'s products cannot go on sale' };
  if (to === 'on_sale' && publishingFrozenUntil) return { allowed: false, code: 'publishing_frozen', reason: `the merchant's publishing rights are frozen until ${publishingFrozenUntil}` };
  if (!productMoves[from].includes(to)) {
    return from === to
      ? { allowed: false, code: 'listing_unchanged', reason: `the product is already ${from}` }
      : { allowed: false, code: 'transition_not_allowed', reason: `a product cannot go from ${from} to ${to}` };
  }
  return allowed;
}

const merchantMoves: Record<MerchantState, readonly MerchantState[]> = {
  active: ['trading_frozen', 'exiting'],
  trading_frozen: ['active', 'exiting'],
  // An exit withdrawn or rejected goes back to active.
  exiting: ['active'],
  removed: [],
};

/** Whether a merchant may go from `from` to `to` through an operator's change. */
export function merchantTransition(from: MerchantState, to: MerchantState): Verdict {
  if (from === 'removed') return { allowed: false, code: 'merchant_removed', reason: 'a removed merchant does not change state again' };
  // Removal (清退) is the last step of the exit workflow (exit:<merchantId>), once its preconditions held and an operator approved it (spec §9.4).
  if (to === 'removed') return { allowed: false, code: 'exit_workflow_required', reason: 'a merchant is removed only by its exit workflow: request or force an exit (POST /v1/merchants/:merchantId/exit)' };
  if (from === to) return { allowed: false, code: 'listing_unchanged', reason: `the merchant is already ${from}` };
  if (!merchantMoves[from].includes(to)) return { allowed: false, code: 'transition_not_allowed', reason: `a merchant cannot go from ${from} to ${to}` };
  return allowed;
}
