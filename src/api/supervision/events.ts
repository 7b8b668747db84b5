/**
 * The supervision's marketplace events: what the customer does in Buyer Centre, sent by the
 * order system (spec §9.1) — the requirement with its attachments, acceptance, rejection, an
 * appeal, and the claim of a licence code. Each is handed to the order line's supervision as
 * an action (the webhook-id is the action's id); an action that does not fit the node is a
 * 409 naming the node, stored like every answer so a redelivery gets it again.
 * `startSupervision` is what order.paid calls for a supervised product.
 */
import { z } from 'zod';
import type { Db } from '../../db/pool';
import { postgresDocumentStore } from '../../db/repositories/supervision/documents';
import { findSupervisedLine, supervisedLineOfSubscription } from '../../db/repositories/supervision/supervisions';
import type { LifecycleEvent } from '../../workflows/subscription/messages';
import type { SupervisionActionBody } from '../../workflows/supervision/messages';
import { eventHandler, type Answer, type EventTable } from '../ingress/handlers';
import type { PaidOrderAccepted } from '../subscription/events';
import { AppError } from '../errors';
import { supervisionWorkflowId, type ActionResult, type SupervisionGateway } from './gateway';
import { checkDocumentIds } from './documents-of-line';

export interface SupervisionEventDeps {
  db: Db;
  gateway: SupervisionGateway;
}

const id64 = z.string().trim().min(1).max(64);
const text = (max: number) => z.string().trim().min(1).max(max);
const line = { orderId: id64, orderLineId: id64 };
const documentIds = z.array(z.string().min(1).max(64)).max(20).default([]);

const requirementSchema = z.object({ ...line, requirement: text(20_000), documentIds }).strict();
const lineOnlySchema = z.object(line).strict();
const rejectionSchema = z.object({ ...line, reason: text(2_000) }).strict();
const appealSchema = z.object({ ...line, reason: text(2_000), documentIds }).strict();

/** How an action's result is answered, to the order system and to the parties' routes alike. */
export function actionAnswer(result: ActionResult, ids: { workflowId: string; actionId: string }): Answer {
  switch (result.kind) {
    case 'done':
      return { status: 202, body: { actionId: ids.actionId, workflowId: ids.workflowId, node: result.answer.node, ...(result.answer.frozenNode ? { frozenNode: result.answer.frozenNode } : {}) } };
    case 'refused':
      return { status: 409, body: { error: { code: 'not_at_node', message: result.reason } } };
    case 'ended':
      return { status: 409, body: { error: { code: 'supervision_ended', message: `supervision ${ids.workflowId} has ended` } } };
  }
}

/** The supervised line an event names, or a 422 naming its orderLineId. */
async function supervisedLine(db: Db, data: { orderId: string; orderLineId: string }) {
  const found = await findSupervisedLine(db, data.orderId, data.orderLineId);
  if (!found) {
    throw new AppError(422, 'unknown_supervision', `order line ${data.orderId}/${data.orderLineId} has no supervision`, [
      { field: 'data.orderLineId', reason: 'not a paid line of a supervised product' },
    ]);
  }
  return found;
}

export function supervisionEvents({ db, gateway }: SupervisionEventDeps): EventTable {
  const documents = postgresDocumentStore(db);

  /** A customer's action on the line the event names, once its documents are checked. */
  function customerAction<S extends z.ZodType<{ orderId: string; orderLineId: string }>>(schema: S, toAction: (data: z.output<S>) => SupervisionActionBody, documentField?: (data: z.output<S>) => string[]) {
    return eventHandler(schema, async (data) => {
      const found = await supervisedLine(db, data);
      if (documentField) await checkDocumentIds(documents, found, documentField(data), { uploader: 'customer', field: 'data.documentIds' });
      const workflowId = supervisionWorkflowId(found.orderId, found.orderLineId);
      return {
        workflowId,
        location: `/v1/supervision/customer/${encodeURIComponent(found.orderId)}/${encodeURIComponent(found.orderLineId)}`,
        async deliver({ eventId }) {
          const result = await gateway.act(workflowId, { ...toAction(data), actionId: eventId, actor: { type: 'customer', id: found.customerId } });
          return actionAnswer(result, { workflowId, actionId: eventId });
        },
      };
    });
  }

  return {
    'supervision.requirement_submitted': customerAction(
      requirementSchema,
      (d) => ({ kind: 'requirement.submitted', requirement: d.requirement, documentIds: d.documentIds }),
      (d) => d.documentIds,
    ),
    'supervision.accepted': customerAction(lineOnlySchema, () => ({ kind: 'accepted' })),
    'supervision.rejected': customerAction(rejectionSchema, (d) => ({ kind: 'rejected', reason: d.reason })),
    'supervision.appealed': customerAction(appealSchema, (d) => ({ kind: 'appealed', reason: d.reason, documentIds: d.documentIds }), (d) => d.documentIds),
    'licence.claimed': customerAction(lineOnlySchema, () => ({ kind: 'licence.claimed' })),
  };
}

/**
 * What order.paid does for a supervised product: starts its supervision (once per line, ever).
 * Renewals start none (spec §9.1): they arrive as order.renewed, and an order.paid whose
 * orderType is RENEW is skipped too.
 */
export function startSupervision(gateway: SupervisionGateway): (paid: PaidOrderAccepted) => Promise<void> {
  return async ({ data, order, product, subscriptionWorkflowId, acceptedAtMs }) => {
    if (!product.supervised || order.orderType.toUpperCase() === 'RENEW') return;
    await gateway.start({
      variant: product.supervisionVariant ?? 'service',
      subscriptionWorkflowId,
      order: {
        orderId: order.orderId,
        orderLineId: order.orderLineId,
        merchantId: order.merchantId,
        productId: order.productId,
        customerId: order.customer.customerId,
        chargingMode: order.chargingMode,
        ...(order.periodType ? { periodType: order.periodType } : {}),
        ...(order.periodNumber ? { periodNumber: order.periodNumber } : {}),
        ...(data.expireTime ? { expireTime: new Date(data.expireTime).toISOString() } : {}),
        paidAtMs: acceptedAtMs,
      },
    });
  };
}

/**
 * What an unsubscription of a supervised line does (it reached the subscription first): the
 * open supervision closes. A supervision that had finished already is left as it is.
 */
export function closeOnUnsubscription(db: Db, gateway: SupervisionGateway): (delivered: { subscriptionWorkflowId: string; event: LifecycleEvent }) => Promise<void> {
  return async ({ subscriptionWorkflowId, event }) => {
    if (event.kind !== 'order.unsubscribed') return;
    const line = await supervisedLineOfSubscription(db, subscriptionWorkflowId);
    if (!line) return;
    await gateway.close(supervisionWorkflowId(line.orderId, line.orderLineId), { eventId: event.eventId, orderId: event.orderId });
  };
}
