import type { PaidOrder } from '../../../workflows/subscription/messages';
import type { Queryable } from '../../pool';
import type { FulfillmentStatus } from '../../../workflows/subscription/messages';

export interface OrderLineStatusUpdate {
  orderId: string;
  orderLineId: string;
  /** Pay-per-use items of one order may share a line; the product tells them apart. */
  productId: string;
  status: FulfillmentStatus;
  instanceId?: string;
  failureReason?: string;
}

/** Records a paid order line as provisioning; a repeat delivery leaves the first row as it is. */
export async function insertPaidOrderLine(q: Queryable, order: PaidOrder, workflowId: string, acceptedAt: Date): Promise<void> {
  // One statement, one round trip: the order (first line only) and the line. The line's
  // foreign key to the order is checked at the end of the statement, after both inserts.
  await q.query(
    `with new_order as (
       insert into orders (order_id, merchant_id, customer_id, customer_name, order_type, currency)
       values ($1::text, $14::text, $15::text, $16::text, $17::text, $18::text)
       on conflict (order_id) do nothing
     )
     insert into order_lines (order_id, order_line_id, product_id, sku_code, charging_mode, period_type, period_number,
                              expire_time, trial, amount, workflow_id, accepted_at, retention_days)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::int, $8::timestamptz, $9::boolean,
             $10::numeric, $11::text, $12::timestamptz, $13::int)
     on conflict (order_id, order_line_id, product_id) do nothing`,
    [
      order.orderId,
      order.orderLineId,
      order.productId,
      order.skuCode,
      order.chargingMode,
      order.periodType ?? null,
      order.periodNumber ?? null,
      order.expireTime ?? null,
      order.trialFlag,
      order.amount,
      workflowId,
      acceptedAt.toISOString(),
      order.retentionDays,
      order.merchantId,
      order.customer.customerId,
      order.customer.customerName ?? null,
      order.orderType,
      order.currency,
    ],
  );
}

/** The products already bought on an order line, with how each is charged. */
export async function productsOnOrderLine(
  q: Queryable,
  line: { orderId: string; orderLineId: string },
): Promise<Array<{ productId: string; chargingMode: string }>> {
  const { rows } = await q.query<{ productId: string; chargingMode: string }>(
    `select product_id as "productId", charging_mode as "chargingMode" from order_lines
      where order_id = $1::text and order_line_id = $2::text order by product_id`,
    [line.orderId, line.orderLineId],
  );
  return rows;
}

/** Moves an order line (for pay-per-use: one billing item of it) to a new status. */
export async function updateOrderLineStatus(q: Queryable, u: OrderLineStatusUpdate): Promise<void> {
  await q.query(
    `update order_lines
        set status = $4::text, instance_id = coalesce($5::text, instance_id), failure_reason = $6::text, updated_at = now()
      where order_id = $1::text and order_line_id = $2::text and product_id = $3::text`,
    [u.orderId, u.orderLineId, u.productId, u.status, u.instanceId ?? null, u.failureReason ?? null],
  );
}

export interface OrderLineView {
  orderLineId: string;
  productId: string;
  skuCode: string;
  chargingMode: string;
  status: string;
  instanceId: string | null;
  failureReason: string | null;
  workflowId: string;
  acceptedAt: string;
  expireTime: string | null;
}

export interface OrderView {
  orderId: string;
  merchantId: string;
  customerId: string;
  orderType: string;
  lines: OrderLineView[];
}

export async function findOrder(q: Queryable, orderId: string): Promise<OrderView | undefined> {
  const order = await q.query<Omit<OrderView, 'lines'>>(
    `select order_id as "orderId", merchant_id as "merchantId", customer_id as "customerId", order_type as "orderType"
       from orders where order_id = $1::text`,
    [orderId],
  );
  const head = order.rows[0];
  if (!head) return undefined;
  const lines = await q.query<OrderLineView>(
    `select order_line_id as "orderLineId", product_id as "productId", sku_code as "skuCode", charging_mode as "chargingMode",
            status, instance_id as "instanceId", failure_reason as "failureReason", workflow_id as "workflowId",
            to_char(accepted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "acceptedAt",
            to_char(expire_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "expireTime"
       from order_lines where order_id = $1::text order by order_line_id, product_id`,
    [orderId],
  );
  return { ...head, lines: lines.rows };
}
