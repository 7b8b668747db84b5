/**
 * The merchants' points ledgers (spec §9.5): one entry per recorded violation, with the
 * consequences it applied, and the merchants' publishing freezes.
 */
import type { Queryable } from '../../pool';
import { iso } from './violations';

export type Termination = 'violation' | 'points_threshold';

export interface PenaltyEntry {
  entryId: string;
  merchantId: string;
  violationCode: string;
  productId: string | null;
  points: number;
  /** What the merchant owes for it: the full deposit, and/or a fixed amount in yuan (decimal text). */
  owed: { fullDeposit: boolean; yuan: string | null };
  otherSanctions: string | null;
  reason: string;
  evidence: string | null;
  actor: string;
  recordedAt: string;
  delistedUntil: string | null;
  publishingFrozenUntil: string | null;
  termination: Termination | null;
  /** The forced exit of a termination: started (with its workflow), or pending a retry. */
  forcedExit: { status: 'started'; workflowId: string; startedAt: string } | { status: 'pending' } | null;
  /** The listing changes this entry made (actor 'penalties'). */
  changes: Array<{ kind: string; productId: string | null; from: string; to: string; until: string | null }>;
}

const entryColumns = `e.entry_id::text as "entryId", e.merchant_id as "merchantId", e.violation_code as "violationCode",
  e.product_id as "productId", e.points,
  jsonb_build_object('fullDeposit', e.deducts_full_deposit, 'yuan', e.penalty_yuan::text) as owed,
  e.other_sanctions as "otherSanctions", e.reason, e.evidence, e.actor, ${iso('e.recorded_at')} as "recordedAt",
  ${iso('e.delisted_until')} as "delistedUntil", ${iso('e.publishing_frozen_until')} as "publishingFrozenUntil",
  e.termination,
  case when e.termination is null then null
       when e.exit_started_at is null then jsonb_build_object('status', 'pending')
       else jsonb_build_object('status', 'started', 'workflowId', e.exit_workflow_id, 'startedAt', ${iso('e.exit_started_at')}) end as "forcedExit",
  coalesce((select jsonb_agg(jsonb_build_object('kind', c.change_kind, 'productId', c.product_id, 'from', c.from_state, 'to', c.to_state,
                                                'until', ${iso('c.until')}) order by c.change_id)
              from listing_changes c where c.penalty_entry_id = e.entry_id), '[]'::jsonb) as changes`;

export interface NewPenaltyEntry {
  merchantId: string;
  violationCode: string;
  productId: string | null;
  points: number;
  deductsFullDeposit: boolean;
  penaltyYuan: string | null;
  otherSanctions: string | null;
  reason: string;
  evidence: string | null;
  actor: string;
  idempotencyKey: string | null;
  termination: Termination | null;
}

/** Records the entry; its consequences are written to it afterwards (recordConsequences). Answers its id. */
export async function insertPenaltyEntry(q: Queryable, e: NewPenaltyEntry): Promise<string> {
  const { rows } = await q.query<{ entryId: string }>(
    `insert into penalty_entries
       (merchant_id, violation_code, product_id, points, deducts_full_deposit, penalty_yuan, other_sanctions,
        reason, evidence, actor, idempotency_key, termination)
     values ($1::text, $2::text, $3::text, $4::int, $5::boolean, $6::numeric, $7::text, $8::text, $9::text, $10::text, $11::text, $12::text)
     returning entry_id::text as "entryId"`,
    [e.merchantId, e.violationCode, e.productId, e.points, e.deductsFullDeposit, e.penaltyYuan, e.otherSanctions, e.reason, e.evidence, e.actor, e.idempotencyKey, e.termination],
  );
  return rows[0]!.entryId;
}

/** What the entry changed, for its ledger line. */
export async function recordConsequences(q: Queryable, entryId: string, c: { delistedUntil: string | null; publishingFrozenUntil: string | null }): Promise<void> {
  await q.query(`update penalty_entries set delisted_until = $2::timestamptz, publishing_frozen_until = $3::timestamptz where entry_id = $1::bigint`, [
    entryId,
    c.delistedUntil,
    c.publishingFrozenUntil,
  ]);
}

/** Names the entry on a listing change it made. */
export async function attributeListingChange(q: Queryable, changeId: string, entryId: string): Promise<void> {
  await q.query(`update listing_changes set penalty_entry_id = $2::bigint where change_id = $1::bigint`, [changeId, entryId]);
}

export async function findPenaltyEntry(q: Queryable, merchantId: string, entryId: string): Promise<PenaltyEntry | undefined> {
  if (!/^\d{1,18}$/.test(entryId)) return undefined;
  const { rows } = await q.query<PenaltyEntry>(`select ${entryColumns} from penalty_entries e where e.merchant_id = $1::text and e.entry_id = $2::bigint`, [merchantId, entryId]);
  return rows[0];
}

/** The entry an Idempotency-Key recorded, with what was asked, to tell a retry from a reuse of the key. */
export async function findPenaltyEntryByKey(q: Queryable, merchantId: string, idempotencyKey: string): Promise<PenaltyEntry | undefined> {
  const { rows } = await q.query<PenaltyEntry>(`select ${entryColumns} from penalty_entries e where e.merchant_id = $1::text and e.idempotency_key = $2::text`, [
    merchantId,
    idempotencyKey,
  ]);
  return rows[0];
}

/** Notes that the termination's forced exit was started (or found running): it is no longer pending. */
export async function markForcedExitStarted(q: Queryable, entryId: string, workflowId: string): Promise<void> {
  await q.query(
    `update penalty_entries set exit_workflow_id = $2::text, exit_started_at = now()
      where entry_id = $1::bigint and exit_started_at is null`,
    [entryId, workflowId],
  );
}

/** The merchant's state and publishing freeze, locked for a penalty (call inside a transaction). */
export async function lockMerchantForPenalty(q: Queryable, merchantId: string): Promise<{ state: string; publishingFrozenUntil: string | null } | undefined> {
  const { rows } = await q.query<{ state: string; publishingFrozenUntil: string | null }>(
    `select listing_state as state, ${iso('publishing_frozen_until')} as "publishingFrozenUntil" from merchants where merchant_id = $1::text for update`,
    [merchantId],
  );
  return rows[0];
}

/**
 * When the merchant's publishing freeze ends, if it lies ahead; undefined for an unknown
 * merchant. Share-locked inside a transaction, so a freeze being recorded is waited for.
 */
export async function publishingFreeze(q: Queryable, merchantId: string): Promise<{ frozenUntil: string | null } | undefined> {
  const { rows } = await q.query<{ frozenUntil: string | null }>(
    `select case when publishing_frozen_until > now() then ${iso('publishing_frozen_until')} end as "frozenUntil"
       from merchants where merchant_id = $1::text for share`,
    [merchantId],
  );
  return rows[0];
}

/**
 * Freezes the merchant's publishing for `days` from now, never shortening a freeze already
 * running, and records it in listing_changes under the entry. Answers when the freeze ends.
 */
export async function freezePublishing(q: Queryable, f: { merchantId: string; days: number; entryId: string; reason: string }): Promise<string> {
  const { rows } = await q.query<{ until: string }>(
    `with before as (
       select publishing_frozen_until > now() as frozen from merchants where merchant_id = $1::text
     ), frozen as (
       update merchants set publishing_frozen_until = greatest(publishing_frozen_until, now() + make_interval(days => $2::int)), updated_at = now()
        where merchant_id = $1::text
       returning publishing_frozen_until as until
     ), change as (
       insert into listing_changes (target_type, merchant_id, from_state, to_state, until, actor, reason, penalty_entry_id, change_kind)
       select 'merchant', $1::text, case when b.frozen then 'publishing_frozen' else 'publishing_allowed' end, 'publishing_frozen', f.until,
              'penalties', $4::text, $3::bigint, 'publishing_freeze'
         from before b, frozen f
     )
     select ${iso('until')} as until from frozen`,
    [f.merchantId, f.days, f.entryId, f.reason],
  );
  return rows[0]!.until;
}

/** A product's listing as read now, with the end of a running delisting for a period, and the database's clock. */
export interface ProductListing {
  state: string;
  delistedUntil: string | null;
  now: string;
}

/** The merchant's product, locked for a penalty (call inside a transaction); undefined for another merchant's. */
export async function productListingForPenalty(q: Queryable, merchantId: string, productId: string): Promise<ProductListing | undefined> {
  const { rows } = await q.query<ProductListing>(
    `select product_listing_state(listing_state, delisted_until) as state,
            case when product_listing_state(listing_state, delisted_until) = 'delisted_until' then ${iso('delisted_until')} end as "delistedUntil",
            ${iso('now()')} as now
       from products where product_id = $2::text and merchant_id = $1::text for update`,
    [merchantId, productId],
  );
  return rows[0];
}

export interface Ledger {
  merchantId: string;
  window: { days: number; since: string };
  pointsInWindow: number;
  terminationThreshold: number;
  publishingFrozenUntil: string | null;
  /** Sum of the fixed amounts owed in yuan (decimal text), and whether any entry takes the full deposit. */
  owed: { fullDeposit: boolean; yuan: string };
  entries: PenaltyEntry[];
}

/** Points recorded in the window ending now (the last `windowDays` days). */
export async function pointsInWindow(q: Queryable, merchantId: string, windowDays: number): Promise<number> {
  const { rows } = await q.query<{ points: number }>(
    `select coalesce(sum(points), 0)::int as points from penalty_entries
      where merchant_id = $1::text and recorded_at > now() - make_interval(days => $2::int)`,
    [merchantId, windowDays],
  );
  return rows[0]!.points;
}

/** The merchant's ledger, newest entry first, with its points in the window; undefined for an unknown merchant. */
export async function merchantLedger(q: Queryable, merchantId: string, settings: { windowDays: number; terminationPoints: number }): Promise<Ledger | undefined> {
  const { rows: heads } = await q.query<{ since: string; points: number; frozenUntil: string | null; fullDeposit: boolean; yuan: string }>(
    `select ${iso("now() - make_interval(days => $2::int)")} as since,
            (select coalesce(sum(points), 0)::int from penalty_entries
              where merchant_id = m.merchant_id and recorded_at > now() - make_interval(days => $2::int)) as points,
            case when m.publishing_frozen_until > now() then ${iso('m.publishing_frozen_until')} end as "frozenUntil",
            coalesce((select bool_or(deducts_full_deposit) from penalty_entries where merchant_id = m.merchant_id), false) as "fullDeposit",
            (select coalesce(sum(penalty_yuan), 0)::numeric(14, 2)::text from penalty_entries where merchant_id = m.merchant_id) as yuan
       from merchants m where m.merchant_id = $1::text`,
    [merchantId, settings.windowDays],
  );
  const head = heads[0];
  if (!head) return undefined;
  const { rows: entries } = await q.query<PenaltyEntry>(`select ${entryColumns} from penalty_entries e where e.merchant_id = $1::text order by e.entry_id desc`, [merchantId]);
  return {
    merchantId,
    window: { days: settings.windowDays, since: head.since },
    pointsInWindow: head.points,
    terminationThreshold: settings.terminationPoints,
    publishingFrozenUntil: head.frozenUntil,
    owed: { fullDeposit: head.fullDeposit, yuan: head.yuan },
    entries,
  };
}
