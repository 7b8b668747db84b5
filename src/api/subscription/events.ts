/**
 * The subscription's marketplace events, one handler per type: order.paid starts (or
 * reaches) the subscription's workflow; later events find their subscription by what they
 * name and are signalled to it; a change check asks it and waits for the verdict.
 */
import type { z } from 'zod';
import type { Db } from '../../db/pool';
import { acceptOrderPaid } from '../../db/repositories/subscription/orders';
import { subscriptionKey, subscriptionWorkflowId } from '../../shared/ids';
import type { ProductRow } from '../../db/repositories/catalog/merchants';
import type { LifecycleEvent, PaidOrder } from '../../workflows/subscription/messages';
import { productOnSale } from '../catalog/catalogue';
import { eventHandler, type Answer, type DeliveryContext, type EventHandler, type EventTable } from '../ingress/handlers';
import type { SubscriptionGateway } from './gateway';
import { orderLineConflict } from './order-lines';
import { toPaidOrder } from './paid-order';
import {
  changeRequestedDataSchema,
  orderPaidDataSchema,
  orderRenewedDataSchema,
  orderUnsubscribedDataSchema,
  orderUpgradedDataSchema,
  violationDataSchema,
  type OrderPaidData,
  type SubscriptionTarget,
} from './schemas';
import { subscriptionNamedBy } from './targets';

/** A paid order as the subscription took it in, for capabilities that start beside it (supervision). */
export interface PaidOrderAccepted {
  data: OrderPaidData;
  order: PaidOrder;
  product: ProductRow;
  subscriptionWorkflowId: string;
  acceptedAtMs: number;
}

export interface SubscriptionEventDeps {
  db: Db;
  gateway: SubscriptionGateway;
  /**
   * Called once order.paid reached its subscription, on every delivery (a redelivery too), so
   * what it starts must be idempotent; a WorkflowEngineUnavailable leaves the event unanswered.
   */
  afterOrderPaid?: (paid: PaidOrderAccepted) => Promise<void>;
  /** Called once a later event reached its running subscription (an unsubscription closes an open supervision); the same rules. */
  afterLifecycleEvent?: (delivered: { subscriptionWorkflowId: string; event: LifecycleEvent }) => Promise<void>;
}

const accepted = (eventId: string, workflowId: string, extra: Record<string, unknown> = {}): Answer => ({
  status: 202,
  body: { eventId, workflowId, status: 'accepted', ...extra },
});

const conflict = (code: string, message: string): Answer => ({ status: 409, body: { error: { code, message } } });

const ended = (workflowId: string): Answer => conflict('subscription_ended', `subscription ${workflowId} is no longer running`);

export function subscriptionEvents({ db, gateway, afterOrderPaid, afterLifecycleEvent }: SubscriptionEventDeps): EventTable {
  /** A later event for a running subscription, delivered as the workflow's lifecycle signal. */
  function signalled<S extends z.ZodType<SubscriptionTarget>>(schema: S, toEvent: (data: z.output<S>, context: DeliveryContext) => LifecycleEvent): EventHandler {
    return eventHandler(schema, async (data) => {
      const workflowId = await subscriptionNamedBy(db, data);
      return {
        workflowId,
        async deliver(context) {
          const event = toEvent(data, context);
          const delivery = await gateway.deliverLifecycleEvent(workflowId, event);
          if (delivery === 'ended') return ended(workflowId);
          await afterLifecycleEvent?.({ subscriptionWorkflowId: workflowId, event });
          return accepted(context.eventId, workflowId);
        },
      };
    });
  }

  return {
    'order.paid': eventHandler(orderPaidDataSchema, async (data) => {
      const product = await productOnSale(db, data);
      const order = toPaidOrder(data, product);
      const workflowId = subscriptionWorkflowId(subscriptionKey(order));
      return {
        workflowId,
        location: `/v1/orders/${encodeURIComponent(order.orderId)}`,
        // Orders come in bursts: the line's check, the event and the line in one statement.
        async storeWithEvent(q, event) {
          const acceptance = await acceptOrderPaid(q, event, order);
          if (acceptance.clashingProduct !== undefined) throw orderLineConflict(order, acceptance.clashingProduct);
          return acceptance;
        },
        async deliver({ eventId, acceptedAtMs }) {
          const { duplicate } = await gateway.deliverOrderPaid({ eventId, acceptedAtMs, order });
          await afterOrderPaid?.({ data, order, product, subscriptionWorkflowId: workflowId, acceptedAtMs });
          return accepted(eventId, workflowId, { duplicate });
        },
      };
    }),

    'order.renewed': signalled(orderRenewedDataSchema, (d, context) => ({
      ...context,
      kind: 'order.renewed',
      scene: d.scene,
      orderId: d.orderId,
      orderLineId: d.orderLineId,
      expireTime: new Date(d.expireTime).toISOString(),
      productId: d.productId,
    })),

    'order.upgraded': signalled(orderUpgradedDataSchema, (d, context) => ({
      ...context,
      kind: 'order.upgraded',
      orderId: d.orderId,
      orderLineId: d.orderLineId,
      skuCode: d.skuCode,
      amount: d.amount,
      currency: d.currency,
    })),

    'order.unsubscribed': signalled(orderUnsubscribedDataSchema, (d, context) => ({ ...context, kind: 'order.unsubscribed', orderId: d.orderId, orderLineId: d.orderLineId })),

    'instance.violation': signalled(violationDataSchema, (d, context) => ({ ...context, kind: 'instance.violation', reason: d.reason })),

    'instance.violation_lifted': signalled(violationDataSchema, (d, context) => ({ ...context, kind: 'instance.violation_lifted', reason: d.reason })),

    'order.change_requested': eventHandler(changeRequestedDataSchema, async (data) => {
      const workflowId = await subscriptionNamedBy(db, data);
      return {
        workflowId,
        async deliver({ eventId }) {
          const result = await gateway.checkChange(workflowId, { eventId, ...data.productInfo });
          switch (result.kind) {
            case 'verdict':
              return { status: 200, body: { eventId, workflowId, allowed: result.allowed, reason: result.reason, resultCode: result.resultCode } };
            case 'not-checkable':
              return conflict('not_checkable', result.reason);
            case 'ended':
              return ended(workflowId);
          }
        },
      };
    }),
  };
}
