import type { Queryable } from '../../pool';

/** The workflow of the subscription that owns an instance. */
export async function workflowIdByInstance(q: Queryable, instanceId: string): Promise<string | undefined> {
  const { rows } = await q.query<{ workflowId: string }>(`select workflow_id as "workflowId" from instances where instance_id = $1::text`, [instanceId]);
  return rows[0]?.workflowId ?? undefined;
}

/**
 * The workflows of the subscriptions bought by an order line: one, except for pay-per-use
 * billing items that share a line, which `productId` then tells apart. Each workflow once:
 * rows of other products keyed to the same subscription (stored before the API refused them)
 * do not make a line ambiguous.
 */
export async function workflowIdsByOrderLine(q: Queryable, line: { orderId: string; orderLineId: string; productId?: string }): Promise<string[]> {
  const { rows } = await q.query<{ workflowId: string }>(
    `select distinct workflow_id as "workflowId" from order_lines
      where order_id = $1::text and order_line_id = $2::text and ($3::text is null or product_id = $3::text)
      order by "workflowId"`,
    [line.orderId, line.orderLineId, line.productId ?? null],
  );
  return rows.map((r) => r.workflowId);
}
