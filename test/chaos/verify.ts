/**
 * What the chaos run found, read from every place that keeps a trace of an order, and the
 * properties that must hold. Each failure names its order and the evidence.
 *
 *   every order active         order_lines: one row per order, status active
 *   the merchant's instance    order_lines.instance_id and the one instances row = the instance
 *                              the merchant's store holds for that order line
 *   one callback per order     the sink's raw deliveries of instance.provisioned: one per order
 *                              (a repeat passes only when it has the same webhook-id and bytes and
 *                              the history shows the delivering activity was tried that often);
 *                              one order_system_callbacks row, delivered; no refund requested
 *   no webhook-id twice        one inbound_events row per webhook-id (and no other), one
 *                              workflow execution per order, one merchant instance per order
 */
import type { Client as TemporalClient } from '@temporalio/client';
import type { Client as PgClient } from 'pg';
import type { CallbackDelivery, OrderSystemSink } from '../../src/dev/order-system-sink';
import type { MerchantSim } from '../../src/merchant-sim';
import { subscriptionWorkflowId } from '../../src/shared/ids';
import type { SentOrder } from './sender';

export interface HistoryFacts {
  /** orderPaid signals the workflow received (a repeat is one the API delivered again; the workflow ignores it). */
  orderPaidSignals: number;
  /** Activity types whose last attempt timed out (a merchant call lost with a killed worker; the workflow retries it), one entry each. */
  timedOut: string[];
  /** Activity types that succeeded only on a later attempt (one lost with a killed worker, or failed while PostgreSQL was down), one entry each. */
  retried: string[];
  /** Workflow tasks that timed out (taken by a worker that was then killed). */
  workflowTaskTimeouts: number;
  /** Attempts of the activity whose input carries `key`, if any: the highest attempt number started. */
  attemptsOfActivityCarrying(key: string): number | undefined;
}

export interface Evidence {
  sent: SentOrder[];
  lines: Map<string, Array<{ status: string; instanceId: string | null }>>;
  instances: Map<string, Array<{ instanceId: string; status: string }>>;
  inbound: Map<string, { count: number; responseStatus: number | null }>;
  inboundTotal: number;
  /** Orders whose instance is stored without app info: its one queryInstance after the create was lost or failed (by design, not retried). */
  withoutAppInfo: string[];
  callbackRows: Array<{ key: string; type: string; status: string; orderId: string }>;
  deliveries: readonly CallbackDelivery[];
  /** Workflow executions (runs) per workflow id, of this run's task queue. */
  runs: Map<string, number>;
  histories: Map<string, HistoryFacts>;
  merchant: MerchantSim;
}

/** A callback delivered more than once under one webhook-id, with the same bytes, by an activity tried at least that often. */
export interface ExplainedRepeat {
  orderId: string;
  webhookId: string;
  /** Epoch ms of each raw delivery. */
  receivedAt: number[];
  attempts: number;
}

export interface Verdict {
  failures: string[];
  explainedRepeats: ExplainedRepeat[];
}

/** The subscription workflow of a periodic order: keyed on its order line. */
const workflowIdOf = (order: { orderId: string; orderLineId: string }): string => subscriptionWorkflowId({ orderId: order.orderId, lineKey: order.orderLineId });

/** Reads every trace the run left. */
export async function gatherEvidence(deps: { sent: SentOrder[]; db: PgClient; temporal: TemporalClient; taskQueue: string; merchant: MerchantSim; sink: OrderSystemSink }): Promise<Evidence> {
  const { db } = deps;
  const group = <T>(rows: Array<{ order_id: string } & T>): Map<string, T[]> => {
    const map = new Map<string, T[]>();
    for (const row of rows) map.set(row.order_id, [...(map.get(row.order_id) ?? []), row]);
    return map;
  };
  const lines = await db.query<{ order_id: string; status: string; instance_id: string | null }>('select order_id, status, instance_id from order_lines');
  const instances = await db.query<{ order_id: string; instance_id: string; status: string; app_info: boolean }>(
    'select order_id, instance_id, status, app_info_enc is not null as app_info from instances',
  );
  const inbound = await db.query<{ event_id: string; response_status: number | null }>('select event_id, response_status from inbound_events');
  const callbacks = await db.query<{ idempotency_key: string; event_type: string; status: string; order_id: string }>(
    `select idempotency_key, event_type, status, payload->'data'->>'orderId' as order_id from order_system_callbacks`,
  );
  const inboundById = new Map<string, { count: number; responseStatus: number | null }>();
  for (const row of inbound.rows) {
    const seen = inboundById.get(row.event_id);
    inboundById.set(row.event_id, { count: (seen?.count ?? 0) + 1, responseStatus: row.response_status });
  }

  const runs = new Map<string, number>();
  for await (const execution of deps.temporal.workflow.list({ query: `TaskQueue = '${deps.taskQueue}'` })) {
    runs.set(execution.workflowId, (runs.get(execution.workflowId) ?? 0) + 1);
  }
  const histories = new Map<string, HistoryFacts>();
  const ids = [...runs.keys()];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let id = ids.shift(); id !== undefined; id = ids.shift()) histories.set(id, await historyFacts(deps.temporal, id));
    }),
  );

  return {
    sent: deps.sent,
    lines: new Map([...group(lines.rows)].map(([order, rows]) => [order, rows.map((r) => ({ status: r.status, instanceId: r.instance_id }))])),
    instances: new Map([...group(instances.rows)].map(([order, rows]) => [order, rows.map((r) => ({ instanceId: r.instance_id, status: r.status }))])),
    inbound: inboundById,
    inboundTotal: inbound.rows.length,
    withoutAppInfo: instances.rows.filter((r) => !r.app_info).map((r) => r.order_id),
    callbackRows: callbacks.rows.map((r) => ({ key: r.idempotency_key, type: r.event_type, status: r.status, orderId: r.order_id })),
    deliveries: deps.sink.deliveries(),
    runs,
    histories,
    merchant: deps.merchant,
  };
}

/** The facts of one workflow's history (its latest run) that the checks and the counts use. */
async function historyFacts(temporal: TemporalClient, workflowId: string): Promise<HistoryFacts> {
  const events = (await temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Map<number, { type: string; input: string }>();
  const started = new Map<number, number>();
  let orderPaidSignals = 0;
  let workflowTaskTimeouts = 0;
  const timedOut: string[] = [];
  const retried: string[] = [];
  for (const event of events) {
    const id = Number(event.eventId);
    const s = event.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(id, { type: s.activityType?.name ?? '?', input: (s.input?.payloads ?? []).map((p) => Buffer.from(p.data ?? []).toString('utf8')).join('\n') });
    const st = event.activityTaskStartedEventAttributes;
    if (st) started.set(Number(st.scheduledEventId), st.attempt ?? 1);
    if (st && (st.attempt ?? 1) > 1) retried.push(scheduled.get(Number(st.scheduledEventId))?.type ?? '?');
    if (event.workflowTaskTimedOutEventAttributes) workflowTaskTimeouts += 1;
    const t = event.activityTaskTimedOutEventAttributes;
    if (t) timedOut.push(scheduled.get(Number(t.scheduledEventId))?.type ?? '?');
    if (event.workflowExecutionSignaledEventAttributes?.signalName === 'orderPaid') orderPaidSignals += 1;
  }
  return {
    orderPaidSignals,
    timedOut,
    retried,
    workflowTaskTimeouts,
    attemptsOfActivityCarrying(key) {
      const attempts = [...scheduled].filter(([, s]) => s.input.includes(key)).map(([id]) => started.get(id) ?? 0);
      return attempts.length ? Math.max(...attempts) : undefined;
    },
  };
}

export function verify(e: Evidence): Verdict {
  const failures: string[] = [];
  const explainedRepeats: ExplainedRepeat[] = [];
  const fail = (orderId: string, what: string): void => void failures.push(`${orderId}: ${what}`);
  const orderIds = new Set(e.sent.map((s) => s.orderId));

  for (const sent of e.sent) {
    const { orderId } = sent;
    if (sent.finalStatus !== 202) fail(orderId, `order.paid ${sent.webhookId} not accepted: last answer ${sent.finalStatus ?? 'none before the deadline'} ${JSON.stringify(sent.finalBody ?? sent.retriedFor.slice(-3))}`);

    // Every order active.
    const lines = e.lines.get(orderId) ?? [];
    const line = lines[0];
    if (lines.length !== 1 || line?.status !== 'active') fail(orderId, `order_lines ${JSON.stringify(lines)}, expected one row, active`);

    // Every instance the one the merchant issued.
    const issued = e.merchant.store.findByOrder(orderId, sent.orderLineId)?.instanceId;
    const stored = e.instances.get(orderId) ?? [];
    if (!issued) fail(orderId, 'the merchant holds no instance for the order line');
    else if (line?.instanceId !== issued) fail(orderId, `order_lines.instance_id ${line?.instanceId ?? 'null'} ≠ ${issued}, the instance the merchant issued`);
    if (stored.length !== 1 || stored[0]?.instanceId !== issued || stored[0]?.status !== 'active') fail(orderId, `instances rows ${JSON.stringify(stored)}, expected one, ${issued ?? '?'}, active`);

    // Exactly one instance.provisioned callback.
    checkCallbacks(e, sent, fail, explainedRepeats);

    // No webhook-id applied twice.
    const inbound = e.inbound.get(sent.webhookId);
    if (inbound?.count !== 1 || inbound.responseStatus !== 202) fail(orderId, `inbound_events for ${sent.webhookId}: ${JSON.stringify(inbound ?? null)}, expected one row answered 202`);
    const workflowId = workflowIdOf(sent);
    const runs = e.runs.get(workflowId) ?? 0;
    if (runs !== 1) fail(orderId, `${runs} executions of ${workflowId}, expected 1`);
    const atMerchant = e.merchant.store.list().filter((i) => i.orderId === orderId);
    if (atMerchant.length !== 1) fail(orderId, `${atMerchant.length} instances at the merchant (${atMerchant.map((i) => i.instanceId).join(', ')}), expected 1`);
  }

  // Nothing beyond the orders sent.
  if (e.inboundTotal !== e.sent.length) failures.push(`inbound_events holds ${e.inboundTotal} rows for ${e.sent.length} webhook-ids sent`);
  const strangers = [...e.runs.keys()].filter((id) => !e.sent.some((s) => workflowIdOf(s) === id));
  if (strangers.length) failures.push(`workflows for no order sent: ${strangers.join(', ')}`);
  if (e.merchant.createdCount() !== e.sent.length) failures.push(`the merchant created ${e.merchant.createdCount()} instances for ${e.sent.length} orders`);
  for (const delivery of e.deliveries) {
    const orderId = String(delivery.data.orderId);
    if (delivery.type !== 'instance.provisioned') failures.push(`${orderId}: the order system received ${delivery.type} (${delivery.webhookId})`);
    else if (!orderIds.has(orderId)) failures.push(`${orderId}: instance.provisioned for an order never sent`);
  }
  for (const row of e.callbackRows) {
    if (row.type !== 'instance.provisioned') failures.push(`${row.orderId}: order_system_callbacks holds ${row.type} (${row.key})`);
  }
  return { failures, explainedRepeats };
}

function checkCallbacks(e: Evidence, sent: SentOrder, fail: (orderId: string, what: string) => void, explainedRepeats: ExplainedRepeat[]): void {
  const { orderId } = sent;
  const deliveries = e.deliveries.filter((d) => d.type === 'instance.provisioned' && d.data.orderId === orderId);
  const webhookIds = [...new Set(deliveries.map((d) => d.webhookId))];
  const rows = e.callbackRows.filter((r) => r.orderId === orderId && r.type === 'instance.provisioned');
  if (rows.length !== 1 || rows[0]?.status !== 'delivered') fail(orderId, `order_system_callbacks ${JSON.stringify(rows)}, expected one row, delivered`);
  const first = deliveries[0];
  if (!first) {
    fail(orderId, 'no instance.provisioned callback reached the order system');
    return;
  }
  if (webhookIds.length !== 1) {
    fail(orderId, `${webhookIds.length} different instance.provisioned callbacks: ${webhookIds.join(', ')}`);
    return;
  }
  if (deliveries.some((d) => d.body !== first.body)) fail(orderId, `instance.provisioned ${first.webhookId} delivered with different bodies: ${deliveries.map((d) => d.body).join(' | ')}`);
  if (deliveries.length === 1) return;
  // A repeat of the same webhook-id and bytes is the order system's to drop, and is what a
  // delivery retried after a crash between sending and recording it looks like. It passes
  // only when the history shows the activity that sends it was tried at least that often.
  const attempts = e.histories.get(workflowIdOf(sent))?.attemptsOfActivityCarrying(first.webhookId);
  const receivedAt = deliveries.map((d) => d.receivedAt);
  if (attempts !== undefined && attempts >= deliveries.length) explainedRepeats.push({ orderId, webhookId: first.webhookId, receivedAt, attempts });
  else fail(orderId, `instance.provisioned ${first.webhookId} delivered ${deliveries.length} times (at ${receivedAt.map((t) => new Date(t).toISOString()).join(', ')}) but its activity was tried ${attempts ?? 'an unknown number of'} times`);
}
