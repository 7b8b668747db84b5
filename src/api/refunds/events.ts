/**
 * order.refund_requested: the order system asks, for a customer, for a refund of an order
 * line. The line's facts (charging mode, trial, amount, when it was paid, its merchant and
 * subscription) come from the rows order.paid wrote; the request's from the event. The
 * refund workflow, `refund:<orderId>:<orderLineId>`, decides by the rules of spec §9.3.
 */
import type { Db } from '../../db/pool';
import { findRefundableLine } from '../../db/repositories/refunds/order-lines';
import { refundWorkflowId } from '../../workflows/refunds/messages';
import type { RefundChargingMode } from '../../workflows/refunds/rules';
import { AppError } from '../errors';
import { eventHandler, type EventTable } from '../ingress/handlers';
import type { RefundGateway } from './gateway';
import { refundRequestedDataSchema } from './schemas';

export function refundEvents({ db, gateway }: { db: Db; gateway: RefundGateway }): EventTable {
  return {
    'order.refund_requested': eventHandler(refundRequestedDataSchema, async (data) => {
      const line = await findRefundableLine(db, data.orderId, data.orderLineId);
      if (!line) throw new AppError(404, 'order_line_not_found', `no paid order line ${data.orderId}/${data.orderLineId}`);
      const workflowId = refundWorkflowId(line.orderId, line.orderLineId);
      return {
        workflowId,
        async deliver({ eventId }) {
          const started = await gateway.startRefund({
            eventId,
            orderId: line.orderId,
            orderLineId: line.orderLineId,
            refundOrderId: data.refundOrderId,
            merchantId: line.merchantId,
            currency: line.currency,
            subscriptionWorkflowId: line.workflowId,
            order: {
              chargingMode: line.chargingMode as RefundChargingMode,
              trial: line.trial,
              paidAt: line.paidAt.getTime(),
              paidAmount: line.amount,
              invoiceOutstanding: data.invoiceOutstanding,
            },
            request: {
              requestedAt: Date.parse(data.requestedAt),
              ...(data.proposedAmount !== undefined ? { proposedAmount: data.proposedAmount } : {}),
              earlierSelfServiceRefunds: data.earlierSelfServiceRefunds.map((t) => Date.parse(t)),
            },
          });
          return { status: 202, body: { eventId, workflowId, status: 'accepted', duplicate: started.duplicate } };
        },
      };
    }),
  };
}
