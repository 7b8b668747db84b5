/** A period's statements in pages, for a bill run that starts them in batches. */
import type { Queryable } from '../../pool';

export interface StatementRef {
  statementNumber: string;
  merchantId: string;
}

/** Up to `limit` statements of the period whose merchant id sorts after `afterMerchantId`, in that order. */
export async function statementsAfter(q: Queryable, period: string, afterMerchantId: string, limit: number): Promise<StatementRef[]> {
  const { rows } = await q.query<StatementRef>(
    `select statement_number as "statementNumber", merchant_id as "merchantId" from statements
      where period = $1::text and merchant_id > $2::text order by merchant_id limit $3::int`,
    [period, afterMerchantId, limit],
  );
  return rows;
}
