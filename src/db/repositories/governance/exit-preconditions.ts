/**
 * The §9.4 preconditions of a merchant's exit, read from what the other capabilities record:
 * the products' listing states, the subscriptions' order lines, call attempts and pending
 * orders, the supervisions, and the settlement ledger. Each precondition is one function, so a change in how a
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
 * Orders in fulfilment, from what the subscription and supervision workflows record: a line
 * still provisioning (its create runs or retries); a live subscription whose last merchant
 * call failed (it retries, or waits for a restart); a renewal, upgrade or unsubscription order
 * still pending on a live subscription; a supervised delivery not accepted yet.
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
       union all
       select l.order_id, l.order_line_id, l.product_id, 'supervision open at ' || v.node || ': the delivery is not accepted yet'
         from lines l join supervisions v on v.order_id = l.order_id and v.order_line_id = l.order_line_id
        where l.status in ('active', 'frozen') and v.node not in ('completed', 'closed')
     ) blocking
     order by "orderId", "orderLineId", "productId", why`,
    [merchantId],
  );
  return rows;
}

/**
 * Unsettled orders, from the settlement ledger (migration 000012), where every settleable fact
 * (order, renewal, upgrade, refund, adjustment, usage) is appended when it happens: a row of
 * the merchant that no paid statement covers, either not billed yet or on a statement not paid.
 * This is the one query to change when the settlement's tables change.
 */
export async function unsettledOrders(q: Queryable, merchantId: string): Promise<BlockingOrder[]> {
  const { rows } = await q.query<BlockingOrder>(
    `select l.order_id as "orderId", l.order_line_id as "orderLineId", l.product_id as "productId",
            case when s.statement_number is null then 'its ' || l.kind || ' line is not billed yet (settles in ' || l.settle_period || ')'
                 else 'its ' || l.kind || ' line is on statement ' || s.statement_number || ' at ' || s.step || ', not paid' end as why
       from settlement_ledger l
       left join statement_lines sl on sl.line_id = l.ledger_id
       left join statements s on s.statement_number = sl.statement_number
      where l.merchant_id = $1::text and (s.step is null or s.step <> 'paid')
      order by l.order_id, l.order_line_id, l.product_id, l.kind`,
    [merchantId],
  );
  return rows;
}

/**
 * Orders without an invoice: an order line carrying money in the ledger whose statement has no
 * invoice on file against its payment request (or that is not billed yet), unless the merchant
 * uploaded the customer's agreement to go without an invoice for that order.
 */
export async function uninvoicedOrders(q: Queryable, merchantId: string): Promise<BlockingOrder[]> {
  const { rows } = await q.query<BlockingOrder>(
    `select l.order_id as "orderId", l.order_line_id as "orderLineId", l.product_id as "productId",
            case when sl.statement_number is null then 'not billed yet, so not invoiced'
                 else 'no invoice on file for statement ' || sl.statement_number end as why
       from settlement_ledger l
       left join statement_lines sl on sl.line_id = l.ledger_id
       left join payment_requests pr on pr.statement_number = sl.statement_number
      where l.merchant_id = $1::text and l.kind = 'order' and l.amount > 0
        and not exists (select 1 from invoices i where i.request_number = pr.request_number)
        and not exists (select 1 from exit_no_invoice_proofs p where p.merchant_id = $1::text and p.order_id = l.order_id)
      order by l.order_id, l.order_line_id, l.product_id`,
    [merchantId],
  );
  return rows;
}
