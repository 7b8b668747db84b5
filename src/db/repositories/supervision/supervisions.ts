/** Supervisions, their timelines, the stuck list operators read, and the settlement gate. */
import type { Queryable } from '../../pool';

/**
 * A paid order line of a supervised product, with its parties: who may act on it and read its
 * documents.
 */
export interface SupervisedLine {
  orderId: string;
  orderLineId: string;
  merchantId: string;
  customerId: string;
  productId: string;
  variant: 'service' | 'licence';
}

export interface SupervisionStep extends SupervisedLine {
  workflowId: string;
  node: string;
  frozenNode?: string;
  nodeSinceMs: number;
  acceptedAtMs?: number;
  validity?: { startMs: number; endMs: number };
  completedAtMs?: number;
  /** The timeline entry this step adds, if any. */
  entry?: { seq: number; node: string; action: string; actorType: string; actorId: string; atMs: number; detail: Record<string, unknown> };
}

const ts = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * Writes where the supervision stands and the entry of the step that brought it there, in one
 * transaction; a repeated step (an activity retried) changes nothing twice: the entry is keyed
 * by its sequence number.
 */
export async function saveSupervisionStep(tx: Queryable, s: SupervisionStep): Promise<void> {
  await tx.query(
    `insert into supervisions (workflow_id, order_id, order_line_id, merchant_id, customer_id, product_id, variant, node, frozen_node, node_since,
                               accepted_at, validity_start, validity_end, completed_at)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, $10::timestamptz,
             $11::timestamptz, $12::timestamptz, $13::timestamptz, $14::timestamptz)
     on conflict (workflow_id) do update
       set node = excluded.node, frozen_node = excluded.frozen_node, node_since = excluded.node_since,
           accepted_at = coalesce(excluded.accepted_at, supervisions.accepted_at),
           validity_start = coalesce(excluded.validity_start, supervisions.validity_start),
           validity_end = coalesce(excluded.validity_end, supervisions.validity_end),
           completed_at = coalesce(supervisions.completed_at, excluded.completed_at),
           updated_at = now()`,
    [
      s.workflowId,
      s.orderId,
      s.orderLineId,
      s.merchantId,
      s.customerId,
      s.productId,
      s.variant,
      s.node,
      s.frozenNode ?? null,
      ts(s.nodeSinceMs),
      ts(s.acceptedAtMs),
      ts(s.validity?.startMs),
      ts(s.validity?.endMs),
      ts(s.completedAtMs),
    ],
  );
  if (s.entry) {
    await tx.query(
      `insert into supervision_events (workflow_id, seq, node, action, actor_type, actor_id, detail, at)
       values ($1::text, $2::int, $3::text, $4::text, $5::text, $6::text, $7::jsonb, $8::timestamptz)
       on conflict (workflow_id, seq) do nothing`,
      [s.workflowId, s.entry.seq, s.entry.node, s.entry.action, s.entry.actorType, s.entry.actorId, JSON.stringify(s.entry.detail), ts(s.entry.atMs)],
    );
  }
}

export interface SupervisionRow extends SupervisedLine {
  workflowId: string;
  node: string;
  frozenNode: string | null;
  nodeSince: string;
  acceptedAt: string | null;
  validityStart: string | null;
  validityEnd: string | null;
  completedAt: string | null;
}

const SUPERVISION_COLUMNS = `workflow_id as "workflowId", order_id as "orderId", order_line_id as "orderLineId", merchant_id as "merchantId",
  customer_id as "customerId", product_id as "productId", variant, node, frozen_node as "frozenNode",
  to_char(node_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "nodeSince",
  to_char(accepted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "acceptedAt",
  to_char(validity_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "validityStart",
  to_char(validity_end at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "validityEnd",
  to_char(completed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "completedAt"`;

export async function findSupervision(q: Queryable, orderId: string, orderLineId: string): Promise<SupervisionRow | undefined> {
  const { rows } = await q.query<SupervisionRow>(`select ${SUPERVISION_COLUMNS} from supervisions where order_id = $1::text and order_line_id = $2::text`, [orderId, orderLineId]);
  return rows[0];
}

export interface TimelineRow {
  seq: number;
  node: string;
  action: string;
  actorType: string;
  actorId: string;
  detail: Record<string, unknown>;
  at: string;
}

export async function supervisionTimeline(q: Queryable, workflowId: string): Promise<TimelineRow[]> {
  const { rows } = await q.query<TimelineRow>(
    `select seq, node, action, actor_type as "actorType", actor_id as "actorId", detail,
            to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at
       from supervision_events where workflow_id = $1::text order by seq`,
    [workflowId],
  );
  return rows;
}

/** Open supervisions (neither completed nor closed) that have stood at their node since before `beforeMs` (optionally at one node), oldest first. */
export async function stuckSupervisions(q: Queryable, filter: { beforeMs: number; node?: string; limit: number }): Promise<SupervisionRow[]> {
  const { rows } = await q.query<SupervisionRow>(
    `select ${SUPERVISION_COLUMNS} from supervisions
      where node not in ('completed', 'closed') and node_since <= $1::timestamptz and ($2::text is null or node = $2::text)
      order by node_since, workflow_id limit $3::int`,
    [new Date(filter.beforeMs).toISOString(), filter.node ?? null, filter.limit],
  );
  return rows;
}

export interface SettleableLine {
  orderId: string;
  orderLineId: string;
  productId: string;
  merchantId: string;
  supervised: boolean;
  settleableSince: string;
}

/** What the settlement bill run reads: the order lines of one order that may be billed. */
export async function settleableLines(q: Queryable, orderId: string): Promise<SettleableLine[]> {
  const { rows } = await q.query<SettleableLine>(
    `select order_id as "orderId", order_line_id as "orderLineId", product_id as "productId", merchant_id as "merchantId", supervised,
            to_char(settleable_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "settleableSince"
       from settleable_order_lines where order_id = $1::text order by order_line_id`,
    [orderId],
  );
  return rows;
}

/**
 * The supervised line the ids name. Read from the order tables (written when order.paid was accepted), so it does not
 * wait for the workflow's first record.
 */
export async function findSupervisedLine(q: Queryable, orderId: string, orderLineId: string): Promise<SupervisedLine | undefined> {
  const { rows } = await q.query<SupervisedLine>(
    `select l.order_id as "orderId", l.order_line_id as "orderLineId", o.merchant_id as "merchantId", o.customer_id as "customerId",
            l.product_id as "productId", p.supervision_variant as variant
       from order_lines l
       join orders o on o.order_id = l.order_id
       join products p on p.product_id = l.product_id
      where l.order_id = $1::text and l.order_line_id = $2::text and p.supervised
      limit 1`,
    [orderId, orderLineId],
  );
  return rows[0];
}

export interface OrderLineSupervision {
  orderLineId: string;
  node: string;
  frozenNode: string | null;
  /** Each node passed, with who acted and when. */
  timeline: Array<{ node: string; action: string; actor: { type: string; id: string }; at: string }>;
}

/** The supervisions of an order's lines with their timelines, in one query: the order view shows them beside the merchant calls. */
export async function supervisionsOfOrder(q: Queryable, orderId: string): Promise<OrderLineSupervision[]> {
  const { rows } = await q.query<OrderLineSupervision>(
    `select s.order_line_id as "orderLineId", s.node, s.frozen_node as "frozenNode",
            coalesce(json_agg(json_build_object('node', e.node, 'action', e.action, 'actor', json_build_object('type', e.actor_type, 'id', e.actor_id),
                                                'at', to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) order by e.seq)
                     filter (where e.seq is not null), '[]'::json) as timeline
       from supervisions s left join supervision_events e on e.workflow_id = s.workflow_id
      where s.order_id = $1::text
      group by s.workflow_id, s.order_line_id, s.node, s.frozen_node
      order by s.order_line_id`,
    [orderId],
  );
  return rows;
}

/** The supervised order line a subscription workflow was started for, if its product is supervised. */
export async function supervisedLineOfSubscription(q: Queryable, subscriptionWorkflowId: string): Promise<{ orderId: string; orderLineId: string } | undefined> {
  const { rows } = await q.query<{ orderId: string; orderLineId: string }>(
    `select l.order_id as "orderId", l.order_line_id as "orderLineId"
       from order_lines l join products p on p.product_id = l.product_id
      where l.workflow_id = $1::text and p.supervised
      limit 1`,
    [subscriptionWorkflowId],
  );
  return rows[0];
}
