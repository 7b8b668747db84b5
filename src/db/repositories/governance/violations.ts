/** The violation catalogue (spec §9.5): data, seeded by migration 000014, extended by operators. */
import type { Queryable } from '../../pool';

export type ProductAction = 'delist' | 'delist_for_period' | 'delist_permanently';

/** What an operator gives to add an entry. */
export interface NewViolation {
  code: string;
  description: string;
  points: number;
  productAction: ProductAction | null;
  productDelistDays: number | null;
  publishingFreezeDays: number | null;
  terminates: boolean;
  deductsFullDeposit: boolean;
  /** Decimal yuan as text (e.g. "5000.00"), exact. */
  penaltyYuan: string | null;
  otherSanctions: string | null;
}

export interface Violation extends NewViolation {
  source: 'spec_table' | 'spec_published_sanction' | 'operator';
  createdBy: string;
  createdAt: string;
  retiredAt: string | null;
  retiredBy: string | null;
  retiredReason: string | null;
}

/** A timestamp expression as ISO 8601 in UTC with milliseconds, the API's format (the whole expression is converted). */
export const iso = (column: string): string => `to_char((${column}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const columns = `code, description, points, product_action as "productAction", product_delist_days as "productDelistDays",
  publishing_freeze_days as "publishingFreezeDays", terminates, deducts_full_deposit as "deductsFullDeposit",
  penalty_yuan::text as "penaltyYuan", other_sanctions as "otherSanctions", source, created_by as "createdBy",
  ${iso('created_at')} as "createdAt", ${iso('retired_at')} as "retiredAt", retired_by as "retiredBy", retired_reason as "retiredReason"`;

/** Every entry, retired ones included (the ledger may name them), in the order they were added. */
export async function listViolations(q: Queryable): Promise<Violation[]> {
  const { rows } = await q.query<Violation>(`select ${columns} from violation_catalogue order by created_at, code`);
  return rows;
}

/**
 * One entry. `lock` (inside a transaction): 'share' while a ledger entry applies it, so it is
 * not retired meanwhile; 'update' to retire it.
 */
export async function findViolation(q: Queryable, code: string, lock?: 'share' | 'update'): Promise<Violation | undefined> {
  const { rows } = await q.query<Violation>(`select ${columns} from violation_catalogue where code = $1::text ${lock ? `for ${lock}` : ''}`, [code]);
  return rows[0];
}

/** Adds an operator's entry; undefined when the code is taken. */
export async function insertViolation(q: Queryable, v: NewViolation, createdBy: string): Promise<Violation | undefined> {
  const { rows } = await q.query<Violation>(
    `insert into violation_catalogue
       (code, description, points, product_action, product_delist_days, publishing_freeze_days, terminates,
        deducts_full_deposit, penalty_yuan, other_sanctions, source, created_by)
     values ($1::text, $2::text, $3::int, $4::text, $5::int, $6::int, $7::boolean, $8::boolean, $9::numeric, $10::text, 'operator', $11::text)
     on conflict (code) do nothing
     returning ${columns}`,
    [v.code, v.description, v.points, v.productAction, v.productDelistDays, v.publishingFreezeDays, v.terminates, v.deductsFullDeposit, v.penaltyYuan, v.otherSanctions, createdBy],
  );
  return rows[0];
}

/** Retires an entry: kept for the ledger entries that name it, refused for new ones. */
export async function retireViolation(q: Queryable, code: string, retiredBy: string, reason: string): Promise<Violation> {
  const { rows } = await q.query<Violation>(
    `update violation_catalogue set retired_at = now(), retired_by = $2::text, retired_reason = $3::text
      where code = $1::text returning ${columns}`,
    [code, retiredBy, reason],
  );
  return rows[0]!;
}
