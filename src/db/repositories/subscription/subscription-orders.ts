import type { Queryable } from '../../pool';

export interface SubscriptionOrderRecord {
  orderId: string;
  orderLineId: string;
  workflowId: string;
  kind: 'renewal' | 'upgrade' | 'unsubscribe';
  scene?: string;
  status: 'pending' | 'completed' | 'failed' | 'refunded';
  detail?: Record<string, unknown>;
}

/** Renewal, upgrade and unsubscribe orders of a subscription, one row per order line and subscription. */
export async function upsertSubscriptionOrder(q: Queryable, o: SubscriptionOrderRecord): Promise<void> {
  await q.query(
    `insert into subscription_orders (order_id, order_line_id, workflow_id, kind, scene, status, detail)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::jsonb)
     on conflict (order_id, order_line_id, workflow_id) do update
       set status = excluded.status, detail = subscription_orders.detail || excluded.detail, updated_at = now()`,
    [o.orderId, o.orderLineId, o.workflowId, o.kind, o.scene ?? null, o.status, JSON.stringify(o.detail ?? {})],
  );
}

export interface SubscriptionOrderView {
  orderId: string;
  orderLineId: string;
  kind: string;
  scene: string | null;
  status: string;
  updatedAt: string;
}

export async function listSubscriptionOrders(q: Queryable, workflowId: string): Promise<SubscriptionOrderView[]> {
  const { rows } = await q.query<SubscriptionOrderView>(
    `select order_id as "orderId", order_line_id as "orderLineId", kind, scene, status,
            to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt"
       from subscription_orders where workflow_id = $1::text order by created_at`,
    [workflowId],
  );
  return rows;
}
