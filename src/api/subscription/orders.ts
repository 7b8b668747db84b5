/**
 * Operator routes on orders: the order's state with the timeline of every merchant call,
 * and the manual restart that makes a waiting subscription try again now.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import type { Db } from '../../db/pool';
import { listCallAttempts } from '../../db/repositories/subscription/call-attempts';
import { insertOperatorAction } from '../../db/repositories/operations/operator-actions';
import { findOrder, type OrderLineView } from '../../db/repositories/subscription/orders';
import { supervisionsOfOrder } from '../../db/repositories/supervision/supervisions';
import { refundsOfOrder, withDecisions } from '../../db/repositories/refunds/refunds';
import type { SubscriptionSnapshot } from '../../workflows/subscription/messages';
import type { SubscriptionGateway } from './gateway';
import { AppError, WorkflowEngineUnavailable, workflowEngineUnavailable } from '../errors';
import { parsePathId, parseRequestBody } from '../request-body';
import { id64 } from './schemas';

export interface OrderRouterDeps {
  db: Db;
  gateway: SubscriptionGateway;
}

const restartBodySchema = z
  .object({
    reason: z.string().trim().min(3, 'say why (at least 3 characters)').max(1000),
    orderLineId: id64.optional(),
  })
  .strict();

/** One status for the whole order: still provisioning while any line is, failed if any line failed. */
function orderStatus(lines: OrderLineView[]): string {
  const statuses = new Set(lines.map((l) => l.status));
  if (statuses.size === 1) return lines[0]!.status;
  if (statuses.has('provisioning')) return 'provisioning';
  if (statuses.has('failed')) return 'failed';
  return [...statuses].sort().join(',');
}

/** The workflow's own view (current step), when it is still running; the row stands otherwise. */
async function liveStep(gateway: SubscriptionGateway, workflowId: string): Promise<SubscriptionSnapshot['step'] | undefined> {
  try {
    // A query needs a worker; when none answers soon the stored row is the answer.
    return (await gateway.status(workflowId, { timeoutMs: 2000 })).step;
  } catch {
    return undefined;
  }
}

export function createOrderRouter({ db, gateway }: OrderRouterDeps): Router {
  const router = Router();

  router.get('/v1/orders/:orderId', async (req, res) => {
    const orderId = parsePathId(req.params.orderId, 'orderId');
    const order = await findOrder(db, orderId);
    if (!order) throw new AppError(404, 'order_not_found', `order ${orderId} is unknown`);
    const [attempts, steps, supervisions, refunds] = await Promise.all([
      listCallAttempts(db, orderId),
      Promise.all(order.lines.map((l) => liveStep(gateway, l.workflowId))),
      supervisionsOfOrder(db, orderId),
      refundsOfOrder(db, orderId).then((rows) => withDecisions(db, rows)),
    ]);
    const lineRefunds = (orderLineId: string) => refunds.filter((r) => r.orderLineId === orderLineId);
    const lines = order.lines.map((line, i) => {
      const step = steps[i];
      // A supervised line also shows its supervision: the node, and each node passed with who acted and when.
      const supervision = supervisions.find((s) => s.orderLineId === line.orderLineId);
      return {
        ...line,
        ...(step ? { step: { name: step.name, since: new Date(step.sinceMs).toISOString(), reason: step.reason } } : {}),
        ...(supervision ? { supervision: { node: supervision.node, frozenNode: supervision.frozenNode, timeline: supervision.timeline } } : {}),
        // Each refund of the line with every decision taken on it: its reason, who took it and when.
        ...(lineRefunds(line.orderLineId).length > 0 ? { refunds: lineRefunds(line.orderLineId) } : {}),
      };
    });
    res.json({
      orderId: order.orderId,
      merchantId: order.merchantId,
      customerId: order.customerId,
      orderType: order.orderType,
      status: orderStatus(order.lines),
      instanceId: order.lines.find((l) => l.instanceId)?.instanceId ?? null,
      lines,
      attempts,
    });
  });

  router.post('/v1/orders/:orderId/restart', express.json({ limit: '16kb' }), async (req, res) => {
    const orderId = parsePathId(req.params.orderId, 'orderId');
    const { reason, orderLineId } = parseRequestBody(restartBodySchema, req.body ?? {});
    const order = await findOrder(db, orderId);
    if (!order) throw new AppError(404, 'order_not_found', `order ${orderId} is unknown`);
    const lines = orderLineId ? order.lines.filter((l) => l.orderLineId === orderLineId) : order.lines;
    if (lines.length === 0) throw new AppError(404, 'order_line_not_found', `order ${orderId} has no line ${orderLineId}`);

    const operator = String(res.locals.operator);
    const restarted: string[] = [];
    let unreachable: { cause: unknown } | undefined;
    for (const line of lines) {
      try {
        if ((await gateway.restart(line.workflowId, { requestedBy: operator, reason })) === 'restarted') restarted.push(line.workflowId);
      } catch (error) {
        if (!(error instanceof WorkflowEngineUnavailable)) throw error;
        // Temporal did not answer: the other lines would wait for the same timeout.
        unreachable = { cause: error.cause };
        break;
      }
    }
    // Restarts that were signalled happened, whatever comes next: they go on record.
    const actionId =
      restarted.length > 0
        ? await insertOperatorAction(db, { actor: operator, action: 'restart', targetType: 'order', targetId: orderId, reason, details: { workflowIds: restarted } })
        : undefined;
    if (unreachable) {
      // Restarting a line twice only makes it try once more, so the whole request may be repeated.
      throw workflowEngineUnavailable(`restarted ${restarted.length} of ${lines.length} order lines; retry the restart`, unreachable.cause);
    }
    if (actionId === undefined) {
      throw new AppError(409, 'not_restartable', `order ${orderId} has no running subscription to restart (status ${orderStatus(lines)})`);
    }
    res.status(202).json({ orderId, restarted, actionId });
  });

  return router;
}
