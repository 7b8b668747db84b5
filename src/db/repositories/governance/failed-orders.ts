/**
 * Orders whose create failed because of the merchant's interface (spec §4), counted from the
 * facts the subscription workflows record: an order line reaches status 'failed' only when its
 * create window ran out, as the order system is asked to unsubscribe and refund it; its updated_at, set by that
 * write, is taken as the time it failed. No second counter is kept.
 */
import type { Queryable } from '../../pool';

export interface FailedOrder {
  orderId: string;
  orderLineId: string;
  failureReason: string | null;
  failedAt: string;
}

export interface ProductFailures {
  productId: string;
  merchantId: string;
  productName: string;
  /** The product's listing state as it reads now. */
  listingState: string;
  failedCount: number;
  orders: FailedOrder[];
}

/**
 * Products with more than `limit` order lines failed in `month` (YYYY-MM, a calendar month
 * in Beijing time), with those lines, most failures first.
 */
export async function productsOverFailedOrderLimit(q: Queryable, month: string, limit: number): Promise<ProductFailures[]> {
  const { rows } = await q.query<ProductFailures>(
    `with bounds as (
       select ($1::text || '-01')::timestamp at time zone 'Asia/Shanghai' as starts,
              (($1::text || '-01')::timestamp + interval '1 month') at time zone 'Asia/Shanghai' as ends
     ), failed as (
       select l.product_id, l.order_id, l.order_line_id, l.failure_reason, l.updated_at
         from order_lines l, bounds b
        where l.status = 'failed' and l.updated_at >= b.starts and l.updated_at < b.ends
     )
     select f.product_id as "productId", p.merchant_id as "merchantId", p.name as "productName",
            product_listing_state(p.listing_state, p.delisted_until) as "listingState",
            count(*)::int as "failedCount",
            jsonb_agg(jsonb_build_object(
              'orderId', f.order_id, 'orderLineId', f.order_line_id, 'failureReason', f.failure_reason,
              'failedAt', to_char(f.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
              order by f.updated_at, f.order_id, f.order_line_id) as orders
       from failed f join products p on p.product_id = f.product_id
      group by f.product_id, p.merchant_id, p.name, p.listing_state, p.delisted_until
     having count(*) > $2::int
      order by count(*) desc, f.product_id`,
    [month, limit],
  );
  return rows;
}
