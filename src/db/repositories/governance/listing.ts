/**
 * Listing states of merchants and products, and their history (listing_changes).
 *
 * Lock order: every path that changes listings (the listing routes, product registration,
 * penalties, dial tests, failed-order sanctions, the exit) takes the merchant's row lock first,
 * then its products'. lockProductListing does so itself; a path that locks products on its own
 * calls lockMerchantListing before. (A listing change's insert into listing_changes takes a key
 * share on the merchant row by its foreign key, so product-then-merchant would deadlock against
 * merchant-then-product.)
 */
import type { Queryable } from '../../pool';

export interface ListingChange {
  changeId: string;
  from: string;
  to: string;
  until: string | null;
  actor: string;
  reason: string;
  changedAt: string;
}

/** A merchant's state, locked for the change (call inside a transaction). */
export async function lockMerchantListing(q: Queryable, merchantId: string): Promise<{ state: string } | undefined> {
  const { rows } = await q.query<{ state: string }>(`select listing_state as state from merchants where merchant_id = $1::text for update`, [merchantId]);
  return rows[0];
}

/**
 * A product of this merchant, locked for the change, its merchant's row locked before it (the
 * lock order above): its state as read now (a delisting whose period has ended reads on_sale),
 * its merchant's state, and whether `until` lies ahead of the database's clock, the clock that
 * ends the period.
 */
export async function lockProductListing(
  q: Queryable,
  ids: { merchantId: string; productId: string; until?: string },
): Promise<{ state: string; merchantState: string; untilAhead: boolean | null } | undefined> {
  if (!(await lockMerchantListing(q, ids.merchantId))) return undefined;
  const { rows } = await q.query<{ state: string; merchantState: string; untilAhead: boolean | null }>(
    `select product_listing_state(p.listing_state, p.delisted_until) as state, m.listing_state as "merchantState",
            $3::timestamptz > now() as "untilAhead"
       from products p join merchants m on m.merchant_id = p.merchant_id
      where p.product_id = $2::text and p.merchant_id = $1::text
        for update of p`,
    [ids.merchantId, ids.productId, ids.until ?? null],
  );
  return rows[0];
}

/** Exit steps after an operator's approval: from then on the exit alone changes the merchant's listings. */
export const APPROVED_EXIT_STEPS = ['delisting', 'freezing', 'releasing', 'awaiting-releases', 'revoking', 'recording'] as const;

/** The step of the merchant's running exit when it is past its approval; undefined otherwise. */
export async function approvedExitStep(q: Queryable, merchantId: string): Promise<string | undefined> {
  const { rows } = await q.query<{ step: string }>(
    `select step from merchant_exits where merchant_id = $1::text and ended_at is null and step = any($2::text[]) order by started_at desc limit 1`,
    [merchantId, APPROVED_EXIT_STEPS],
  );
  return rows[0]?.step;
}

interface Change {
  merchantId: string;
  from: string;
  to: string;
  actor: string;
  reason: string;
}

/** Sets the merchant's state and records the change; answers the recorded change. */
export async function setMerchantListing(q: Queryable, c: Change): Promise<ListingChange> {
  await q.query(`update merchants set listing_state = $2::text, updated_at = now() where merchant_id = $1::text`, [c.merchantId, c.to]);
  return recordChange(q, { ...c, targetType: 'merchant', productId: null, until: null });
}

/** Sets the product's state (and the end of a delisting for a period) and records the change. */
export async function setProductListing(q: Queryable, c: Change & { productId: string; until: string | null }): Promise<ListingChange> {
  await q.query(`update products set listing_state = $2::text, delisted_until = $3::timestamptz, updated_at = now() where product_id = $1::text`, [
    c.productId,
    c.to,
    c.until,
  ]);
  return recordChange(q, { ...c, targetType: 'product' });
}

async function recordChange(q: Queryable, c: Change & { targetType: 'merchant' | 'product'; productId: string | null; until: string | null }): Promise<ListingChange> {
  const { rows } = await q.query<ListingChange>(
    `insert into listing_changes (target_type, merchant_id, product_id, from_state, to_state, until, actor, reason)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::timestamptz, $7::text, $8::text)
     returning change_id::text as "changeId", from_state as "from", to_state as "to",
               to_char(until at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as until, actor, reason,
               to_char(changed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "changedAt"`,
    [c.targetType, c.merchantId, c.productId, c.from, c.to, c.until, c.actor, c.reason],
  );
  return rows[0]!;
}
