/**
 * The settlement ledger (migration 000012): every settleable fact, appended once when it
 * happens, with the period it settles in fixed then. Order lines, renewals, upgrades and
 * refunds are appended by triggers where they are recorded; other facts come through here.
 */
import type { Queryable } from '../../pool';

/** A fact given whole. Its settle period is computed by the database, never by the caller. */
export interface LedgerFact {
  /**
   * The fact's own key: a second append under it is a no-op. Adjustments use
   * `adjustment:<disputeId>`, usage `usage:<instanceId>:<window>`.
   */
  factKey: string;
  kind: 'adjustment' | 'usage';
  merchantId: string;
  orderId: string;
  orderLineId: string;
  productId: string;
  skuCode: string;
  /** Decimal string; negative for money owed back by the merchant. */
  amount: string;
  currency: string;
  taxRate: string;
  /** ISO time the fact takes effect: a confirmed dispute's confirmation, a usage window's end. */
  effectiveAt: string;
  refundOrderId?: string;
  quantity?: string;
  unit?: string;
  usageFrom?: string;
  usageTo?: string;
  /** What the line refers to beyond the order: the dispute, the usage record. */
  reference?: string;
}

export interface AppendedFact {
  /** False when the fact key was already in the ledger (then the first row is returned). */
  appended: boolean;
  ledgerId: string;
  /** YYYYMM: the statement period the fact settles in. */
  settlePeriod: string;
}

/**
 * Appends one fact (spec §9.2's later lines): a dispute's confirmed difference is appended
 * here with kind 'adjustment' and its confirmation time as `effectiveAt`, so it lands on the
 * merchant's next statement (the month it was confirmed, or after the latest statement made)
 * and never edits a statement already sent. Rated usage will come the same way, kind 'usage'.
 *
 * One statement, its own transaction when `q` is the pool: the database function holds the
 * ledger's shared lock while it writes, so a bill run never misses or splits it. Inside a
 * caller's transaction, that transaction must be READ COMMITTED (the default).
 */
export async function appendLedgerFact(q: Queryable, fact: LedgerFact): Promise<AppendedFact> {
  const { rows } = await q.query<AppendedFact>(
    `select appended, ledger_id::text as "ledgerId", settle_period as "settlePeriod" from settlement_append_fact($1::jsonb)`,
    [JSON.stringify(fact)],
  );
  const row = rows[0];
  if (!row) throw new Error(`ledger fact ${fact.factKey} was neither appended nor found`);
  return row;
}
