/**
 * The §9.4 preconditions of a merchant's exit, read from what the other capabilities record:
 * the products' listing states, the subscriptions' order lines, call attempts and pending
 * orders, and the settlement tables. Each precondition is one function, so a change in how a
 * capability records its facts (the settlement's scope becoming a ledger, say) changes one query.
 */
import type { Queryable } from '../../pool';
import type { BlockingOrder, ProductToDelist } from '../../../workflows/governance/exit/messages';

/** Products the exit still has to delist: any state but delisted and permanently delisted (a period delisting ends by itself). */
export async function productsNotDelisted(q: Queryable, merchantId: string): Promise<ProductToDelist[]> {
  const { rows } = await q.query<ProductToDelist>(
    `select product_id as "productId", product_listing_state(listing_state, delisted_until) as state
       from products
      where merchant_id = $1::text and listing_state not in ('delisted', 'permanently_delisted')
      order by product_id`,
    [merchantId],
  );
  return rows;
}

/**
 * Orders in fulfilment, from what the subscription workflows record: a line still
 * provisioning (its create runs or retries); a live subscription whose last merchant call
 * failed (it retries, or waits for a restart); a renewal, upgrade or unsubscription order
 * still pending on a live subscription.
 */
export async function ordersInFulfilment(q: Queryable, merchantId: string): Promise<BlockingOrder[]> {
  const { rows } = await q.query<BlockingOrder>(
    `with lines as (
       select l.* from order_lines l join orders o on o.order_id = l.order_id where o.merchant_id = $1::text
     ), last_attempts as (
       select distinct on (a.workflow_id) a.workflow_id, a.activity, a.scenario, a.outcome, a.started_at
         from call_attempts a where a.merchant_id = $1::text
        order by a.workflow_id, a.started_at desc, a.recorded_at desc
     )
     select order_id as "orderId", order_line_id as "orderLineId", product_id as "productId", why from (
       select l.order_id, l.order_line_id, l.product_id, 'subscription provisioning: its create runs or retries' as why
         from lines l where l.status = 'provisioning'
       union all
       select l.order_id, l.order_line_id, l.product_id,
              'its last merchant call (' || a.activity || ', ' || a.scenario || ') failed at '
                || to_char(a.started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ': retrying or waiting for a restart'
         from lines l join last_attempts a on a.workflow_id = l.workflow_id
        where l.status in ('active', 'frozen') and a.outcome <> 'success'
       union all
       select l.order_id, l.order_line_id, l.product_id, s.kind || ' order ' || s.order_id || ' still pending'
         from lines l join subscription_orders s on s.workflow_id = l.workflow_id
        where l.status in ('active', 'frozen') and s.status = 'pending'
     ) blocking
     order by "orderId", "orderLineId", "productId", why`,
    [merchantId],
  );
  return rows;
}

/**
 * Unsettled orders: what the bill run will still take (a candidate line of any kind not yet
 * on a statement), and what is on a statement that is not paid yet. The settlement's tables
 * as they are today; this is the one query to change when they change.
 */
export async function unsettledOrders(q: Queryable, merchantId: string): Promise<BlockingOrder[]> {
  const { rows } = await q.query<BlockingOrder>(
    `with candidates as (
       select kind, order_id, order_line_id, product_id from settlement_order_candidates where merchant_id = $1::text
       union all select kind, order_id, order_line_id, product_id from settlement_renewal_candidates where merchant_id = $1::text
       union all select kind, order_id, order_line_id, product_id from settlement_upgrade_candidates where merchant_id = $1::text
       union all select kind, order_id, order_line_id, product_id from settlement_refund_candidates where merchant_id = $1::text
     )
     select order_id as "orderId", order_line_id as "orderLineId", product_id as "productId", why from (
       select c.order_id, c.order_line_id, c.product_id, 'its ' || c.kind || ' line is not billed yet (no statement)' as why
         from candidates c
        where not exists (select 1 from statement_lines sl
                           where sl.kind = c.kind and sl.order_id = c.order_id and sl.order_line_id = c.order_line_id and sl.product_id = c.product_id)
       union all
       select sl.order_id, sl.order_line_id, sl.product_id, 'statement ' || s.statement_number || ' is at ' || s.step || ', not paid'
         from statements s join statement_lines sl on sl.statement_number = s.statement_number
        where s.merchant_id = $1::text and s.step <> 'paid'
     ) blocking
     order by "orderId", "orderLineId", "productId", why`,
    [merchantId],
  );
  return rows;
}

/**
 * Orders without an invoice: a paid, provisioned line carrying money whose statement has no
 * invoice on file against its payment request (or that is not billed yet), unless the
 * merchant uploaded the customer's agreement to go without an invoice for that order.
 */
export async function uninvoicedOrders(q: Queryable, merchantId: string): Promise<BlockingOrder[]> {
  const { rows } = await q.query<BlockingOrder>(
    `select c.order_id as "orderId", c.order_line_id as "orderLineId", c.product_id as "productId",
            case when sl.statement_number is null then 'not billed yet, so not invoiced'
                 else 'no invoice on file for statement ' || sl.statement_number end as why
       from settlement_order_candidates c
       left join statement_lines sl on sl.kind = 'order' and sl.order_id = c.order_id and sl.order_line_id = c.order_line_id and sl.product_id = c.product_id
       left join payment_requests pr on pr.statement_number = sl.statement_number
      where c.merchant_id = $1::text and c.amount > 0
        and not exists (select 1 from invoices i where i.request_number = pr.request_number)
        and not exists (select 1 from exit_no_invoice_proofs p where p.merchant_id = $1::text and p.order_id = c.order_id)
      order by c.order_id, c.order_line_id, c.product_id`,
    [merchantId],
  );
  return rows;
}
