import type { PaidOrder } from '../../../workflows/subscription/messages';
import type { Queryable } from '../../pool';
import { KEYED_BY_PRODUCT } from '../../../shared/ids';
import { INBOUND_EVENT_COLUMNS, splitInserted, type InboundEventInsert, type InboundEventRow } from '../ingress/inbound-events';
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
  await q.query('select insert_paid_order_line($1::jsonb, $2::text, $3::timestamptz)', [JSON.stringify(order), workflowId, acceptedAt.toISOString()]);
}

/** What `acceptOrderPaid` did: the event's row, or the product that holds the line (nothing written). */
export type OrderPaidAcceptance = { clashingProduct: string } | { clashingProduct?: undefined; inserted: boolean; row: InboundEventRow };

/**
 * order.paid in one statement: the order line's clash check under its lock, the inbound
 * event, and (when the event is new) the order line. Nothing is written on a clash.
 */
export async function acceptOrderPaid(q: Queryable, event: InboundEventInsert, order: PaidOrder): Promise<OrderPaidAcceptance> {
  const { rows } = await q.query<Omit<InboundEventRow, 'eventId'> & { inserted: boolean; clashingProduct: string | null }>(
    `select ${INBOUND_EVENT_COLUMNS}, clashing_product as "clashingProduct"
       from accept_order_paid($1::text, $2::jsonb, $3::text, $4::text, $5::jsonb, $6::text[])`,
    [event.eventId, JSON.stringify(event.payload), event.payloadSha256, event.workflowId, JSON.stringify(order), KEYED_BY_PRODUCT],
  );
  const row = rows[0];
  if (!row) return splitInserted(undefined, event.eventId); // throws: the statement returns one row
  const { clashingProduct, ...stored } = row;
  return clashingProduct ? { clashingProduct } : splitInserted(stored, event.eventId);
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
