/**
 * order.refund_requested: the order system asks, for a customer, for a refund of an order
 * line. The line's facts (charging mode, trial, amount, when it was paid, its merchant,
 * customer and subscription, and what its supervision recorded) come from our rows; the
 * request's from the event. The request is written as a pending `refunds` row with the stored
 * event, so one live refund per line holds even for concurrent requests (409
 * `refund_already_live`); the refund workflow, `refund:<refundOrderId>`, decides by the rules
 * of spec §9.3.
 *
 * order.invoice_requested: the customer asked for an invoice of an order line. When the line
 * has a pending negotiated refund, its workflow is told; under the merchant's review it fails
 * the refund as `invoice_requested_during_review` (§9.3). Otherwise the event is stored and
 * changes nothing.
 */
import type { Db, Queryable } from '../../db/pool';
import { findRefundableLine, supervisionRecordOfLine, type RefundableLine } from '../../db/repositories/refunds/order-lines';
import { insertRefundRequest, latestRefundOfLine, type RefundRow } from '../../db/repositories/refunds/refunds';
import { refundRequestRow, refundWorkflowId, type RefundWorkflowInput } from '../../workflows/refunds/messages';
import type { RefundChargingMode, RefundOrder } from '../../workflows/refunds/rules';
import { AppError } from '../errors';
import { eventHandler, type EventTable } from '../ingress/handlers';
import type { RefundGateway } from './gateway';
import { invoiceRequestedDataSchema, refundRequestedDataSchema, type RefundRequestedData } from './schemas';

/** The order's facts as the rules read them; a supervised line adds what its supervision recorded. */
async function orderFacts(db: Queryable, line: RefundableLine, data: RefundRequestedData): Promise<RefundOrder> {
  const base: RefundOrder = {
    chargingMode: line.chargingMode as RefundChargingMode,
    trial: line.trial,
    paidAt: line.paidAt.getTime(),
    paidAmount: line.amount,
    invoiceOutstanding: data.invoiceOutstanding,
    ...(data.goodsInTransit ? { goodsInTransit: true } : {}),
  };
  if (!line.supervision) return base;
  const record = await supervisionRecordOfLine(db, line.orderId, line.orderLineId);
  if (line.supervision === 'licence') return { ...base, licenceClaimed: record.licenceClaimed };
  return {
    ...base,
    manualService: { ...(record.requirementSubmittedAt !== undefined ? { requirementSubmittedAt: record.requirementSubmittedAt } : {}), customerWaits: record.customerWaits },
  };
}

/** Writes the request as pending with the event; 409 when the line has another live refund or the refund order is another line's. */
async function storeRequest(tx: Queryable, input: Omit<RefundWorkflowInput, 'policy' | 'merchantDecisionTimeoutMs'>): Promise<void> {
  const result = await insertRefundRequest(tx, refundRequestRow({ ...input, origin: 'customer' }));
  if (result.kind === 'line-has-live-refund') {
    throw new AppError(409, 'refund_already_live', `order line ${input.orderId}/${input.orderLineId} already has refund ${result.liveRefundOrderId} pending or approved`, [
      { field: 'data.orderLineId', reason: `refund ${result.liveRefundOrderId} is pending or approved` },
    ]);
  }
  if (result.kind === 'exists' && (result.orderId !== input.orderId || result.orderLineId !== input.orderLineId)) {
    throw new AppError(409, 'refund_order_id_reused', `refund order ${input.refundOrderId} refunds ${result.orderId}/${result.orderLineId}`, [
      { field: 'data.refundOrderId', reason: 'already used for another order line' },
    ]);
  }
}

/** The paid line the event names; 404 when no order.paid brought it. */
async function paidLine(db: Db, data: { orderId: string; orderLineId: string }): Promise<RefundableLine> {
  const line = await findRefundableLine(db, data.orderId, data.orderLineId);
  if (!line) throw new AppError(404, 'order_line_not_found', `no paid order line ${data.orderId}/${data.orderLineId}`);
  return line;
}

export function refundEvents({ db, gateway }: { db: Db; gateway: RefundGateway }): EventTable {
  return {
    'order.refund_requested': eventHandler(refundRequestedDataSchema, async (data) => {
      const line = await paidLine(db, data);
      const order = await orderFacts(db, line, data);
      const workflowId = refundWorkflowId(data.refundOrderId);
      const inputFor = (eventId: string): Omit<RefundWorkflowInput, 'policy' | 'merchantDecisionTimeoutMs'> => ({
        eventId,
        orderId: line.orderId,
        orderLineId: line.orderLineId,
        refundOrderId: data.refundOrderId,
        merchantId: line.merchantId,
        customerId: line.customerId,
        currency: line.currency,
        subscriptionWorkflowId: line.workflowId,
        order,
        request: {
          requestedAt: Date.parse(data.requestedAt),
          ...(data.proposedAmount !== undefined ? { proposedAmount: data.proposedAmount } : {}),
          earlierSelfServiceRefunds: data.earlierSelfServiceRefunds.map((t) => Date.parse(t)),
        },
      });
      return {
        workflowId,
        location: `/v1/refunds/${encodeURIComponent(data.refundOrderId)}`,
        async store(tx, { eventId, firstTime }) {
          if (firstTime) await storeRequest(tx, inputFor(eventId));
        },
        async deliver({ eventId }) {
          const started = await gateway.startRefund(inputFor(eventId));
          return { status: 202, body: { eventId, workflowId, refundOrderId: data.refundOrderId, status: 'accepted', duplicate: started.duplicate } };
        },
      };
    }),

    'order.invoice_requested': eventHandler(invoiceRequestedDataSchema, async (data) => {
      const line = await paidLine(db, data);
      // Only a negotiated refund has a review; its workflow decides whether it is still under it.
      const latest = await latestRefundOfLine(db, line.orderId, line.orderLineId, line.merchantId);
      const inReview = latest?.status === 'pending' && latest.kind === 'negotiated' ? latest : undefined;
      const answer = (eventId: string, told?: RefundRow) => ({
        status: 202,
        body: { eventId, orderId: line.orderId, orderLineId: line.orderLineId, status: 'accepted', refundTold: told !== undefined, ...(told ? { refundOrderId: told.refundOrderId, workflowId: told.workflowId } : {}) },
      });
      if (!inReview) return { workflowId: line.workflowId, deliver: async ({ eventId }) => answer(eventId) };
      return {
        workflowId: inReview.workflowId,
        location: `/v1/refunds/${encodeURIComponent(inReview.refundOrderId)}`,
        async deliver({ eventId }) {
          // The refund decides: under the merchant's review it fails, and its verdict goes to the order system.
          const told = await gateway.tellInvoiceRequested(inReview.workflowId, { eventId, requestedAt: Date.parse(data.requestedAt) });
          return answer(eventId, told === 'told' ? inReview : undefined);
        },
      };
    }),
  };
}
