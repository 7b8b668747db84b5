/**
 * What a refund needs to know about the order line it refunds: the rows order.paid wrote, and
 * what the supervision recorded of a supervised line (spec §9.3's manual-service and licence
 * conditions read it).
 */
import type { Queryable } from '../../pool';

export interface RefundableLine {
  orderId: string;
  orderLineId: string;
  merchantId: string;
  customerId: string;
  chargingMode: string;
  trial: boolean;
  /** Exact decimal text, as numeric(20, 4) prints it. */
  amount: string;
  currency: string;
  /** When our API accepted the order.paid event: the payment time the 5-day rule counts from. */
  paidAt: Date;
  /** The subscription workflow holding the line's instance. */
  workflowId: string;
  /** The product's supervision (spec §9.1): a manual service, a licence code, or none. */
  supervision: 'service' | 'licence' | null;
}

/** The order line, or undefined when no order.paid brought it; with `merchantId`, only that merchant's. */
export async function findRefundableLine(q: Queryable, orderId: string, orderLineId: string, merchantId?: string): Promise<RefundableLine | undefined> {
  const { rows } = await q.query<RefundableLine>(
    `select l.order_id as "orderId", l.order_line_id as "orderLineId", o.merchant_id as "merchantId", o.customer_id as "customerId",
            l.charging_mode as "chargingMode", l.trial, l.amount::text as amount, o.currency,
            l.accepted_at as "paidAt", l.workflow_id as "workflowId",
            case when p.supervised then p.supervision_variant end as supervision
       from order_lines l
       join orders o on o.order_id = l.order_id
       join products p on p.product_id = l.product_id
      where l.order_id = $1::text and l.order_line_id = $2::text
        and ($3::text is null or o.merchant_id = $3::text)`,
    [orderId, orderLineId, merchantId ?? null],
  );
  return rows[0];
}

export interface SupervisionRecordOfLine {
  /** When the customer first submitted its requirements, epoch ms. */
  requirementSubmittedAt?: number;
  /** Each stretch the requirement stood returned to the customer for edits; `to` absent while it still does. */
  customerWaits: { from: number; to?: number }[];
  /** The customer claimed the licence code. */
  licenceClaimed: boolean;
}

/** What the line's supervision timeline says of the customer, from its nodes passed (supervision_events). */
export async function supervisionRecordOfLine(q: Queryable, orderId: string, orderLineId: string): Promise<SupervisionRecordOfLine> {
  const { rows } = await q.query<{ action: string; node: string; at: Date; nextAt: Date | null }>(
    `select e.action, e.node, e.at, lead(e.at) over (order by e.seq) as "nextAt"
       from supervision_events e join supervisions s on s.workflow_id = e.workflow_id
      where s.order_id = $1::text and s.order_line_id = $2::text
      order by e.seq`,
    [orderId, orderLineId],
  );
  const submitted = rows.find((r) => r.action === 'requirement.submitted');
  return {
    ...(submitted ? { requirementSubmittedAt: submitted.at.getTime() } : {}),
    // The node an entry reached stands until the next entry.
    customerWaits: rows.filter((r) => r.node === 'requirement-returned').map((r) => ({ from: r.at.getTime(), ...(r.nextAt ? { to: r.nextAt.getTime() } : {}) })),
    licenceClaimed: rows.some((r) => r.action === 'licence.claimed'),
  };
}
