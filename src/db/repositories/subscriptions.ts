import type { Queryable } from '../pool';

/** The workflow of the subscription that owns an instance. */
export async function workflowIdByInstance(q: Queryable, instanceId: string): Promise<string | undefined> {
  const { rows } = await q.query<{ workflowId: string }>(
    `select l.workflow_id as "workflowId"
       from instances i join order_lines l on l.order_id = i.order_id and l.order_line_id = i.order_line_id
      where i.instance_id = $1::text`,
    [instanceId],
  );
  return rows[0]?.workflowId;
}

/** The workflow of the subscription bought by an order line. */
export async function workflowIdByOrderLine(q: Queryable, orderId: string, orderLineId: string): Promise<string | undefined> {
  const { rows } = await q.query<{ workflowId: string }>(
    `select workflow_id as "workflowId" from order_lines where order_id = $1::text and order_line_id = $2::text`,
    [orderId, orderLineId],
  );
  return rows[0]?.workflowId;
}
