/** What a refund needs to know about the order line it refunds, from the rows order.paid wrote. */
import type { Queryable } from '../../pool';

export interface RefundableLine {
  orderId: string;
  orderLineId: string;
  merchantId: string;
  chargingMode: string;
  trial: boolean;
  /** Exact decimal text, as numeric(20, 4) prints it. */
  amount: string;
  currency: string;
  /** When our API accepted the order.paid event: the payment time the 5-day rule counts from. */
  paidAt: Date;
  /** The subscription workflow holding the line's instance. */
  workflowId: string;
}

/** The order line, or undefined when no order.paid brought it; with `merchantId`, only that merchant's. */
export async function findRefundableLine(q: Queryable, orderId: string, orderLineId: string, merchantId?: string): Promise<RefundableLine | undefined> {
  const { rows } = await q.query<RefundableLine>(
    `select l.order_id as "orderId", l.order_line_id as "orderLineId", o.merchant_id as "merchantId",
            l.charging_mode as "chargingMode", l.trial, l.amount::text as amount, o.currency,
            l.accepted_at as "paidAt", l.workflow_id as "workflowId"
       from order_lines l
       join orders o on o.order_id = l.order_id
      where l.order_id = $1::text and l.order_line_id = $2::text
        and ($3::text is null or o.merchant_id = $3::text)`,
    [orderId, orderLineId, merchantId ?? null],
  );
  return rows[0];
}
