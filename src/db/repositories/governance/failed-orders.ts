/**
 * Orders whose create failed because of the merchant's interface (spec §4), counted from the
 * facts the subscription workflows record: an order line reaches status 'failed' only when its
 * create window ran out, as the order system is asked to unsubscribe and refund it; its updated_at, set by that
 * write, is taken as the time it failed. No second counter is kept: failed_order_sanctions
 * (migration 000018) records only the delisting taken, once per product and month.
 */
import type { Queryable } from '../../pool';

/** Spec §4: more than 5 orders in one calendar month failed because of interface errors → delisted. */
export const FAILED_ORDERS_MONTHLY_LIMIT = 5;

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
 * in Beijing time), with those lines, most failures first; only `productId` when it is given.
 */
export async function productsOverFailedOrderLimit(q: Queryable, month: string, limit: number, productId?: string): Promise<ProductFailures[]> {
  const { rows } = await q.query<ProductFailures>(
    `with bounds as (
       select ($1::text || '-01')::timestamp at time zone 'Asia/Shanghai' as starts,
              (($1::text || '-01')::timestamp + interval '1 month') at time zone 'Asia/Shanghai' as ends
     ), failed as (
       select l.product_id, l.order_id, l.order_line_id, l.failure_reason, l.updated_at
         from order_lines l, bounds b
        where l.status = 'failed' and l.updated_at >= b.starts and l.updated_at < b.ends
          and ($3::text is null or l.product_id = $3::text)
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
    [month, limit, productId ?? null],
  );
  return rows;
}

/** The Beijing calendar month (YYYY-MM) a failed order line failed in; undefined when the line is not failed. */
export async function failedLineMonth(q: Queryable, line: { orderId: string; orderLineId: string; productId: string }): Promise<string | undefined> {
  const { rows } = await q.query<{ month: string }>(
    `select to_char(updated_at at time zone 'Asia/Shanghai', 'YYYY-MM') as month from order_lines
      where order_id = $1::text and order_line_id = $2::text and product_id = $3::text and status = 'failed'`,
    [line.orderId, line.orderLineId, line.productId],
  );
  return rows[0]?.month;
}

export interface FailedOrderSanction {
  productId: string;
  month: string;
  merchantId: string;
  failedCount: number;
  orders: FailedOrder[];
  changeId: string | null;
}

const SANCTION_COLUMNS = `product_id as "productId", month, merchant_id as "merchantId", failed_count as "failedCount", orders, change_id::text as "changeId"`;

/** Records the month's sanction of a product once; undefined when it was already recorded. */
export async function insertFailedOrderSanction(q: Queryable, s: Omit<FailedOrderSanction, 'changeId'>): Promise<FailedOrderSanction | undefined> {
  const { rows } = await q.query<FailedOrderSanction>(
    `insert into failed_order_sanctions (product_id, month, merchant_id, failed_count, orders) values ($1::text, $2::text, $3::text, $4::int, $5::jsonb)
     on conflict (product_id, month) do nothing returning ${SANCTION_COLUMNS}`,
    [s.productId, s.month, s.merchantId, s.failedCount, JSON.stringify(s.orders)],
  );
  return rows[0];
}

export async function findFailedOrderSanction(q: Queryable, productId: string, month: string): Promise<FailedOrderSanction | undefined> {
  const { rows } = await q.query<FailedOrderSanction>(`select ${SANCTION_COLUMNS} from failed_order_sanctions where product_id = $1::text and month = $2::text`, [productId, month]);
  return rows[0];
}

export async function setFailedOrderSanctionChange(q: Queryable, s: { productId: string; month: string; changeId: string }): Promise<void> {
  await q.query(`update failed_order_sanctions set change_id = $3::bigint where product_id = $1::text and month = $2::text`, [s.productId, s.month, s.changeId]);
}
