/**
 * How the API talks to refund workflows: their ids, task queue, start options and messages.
 * Answers in domain terms, or throws WorkflowEngineUnavailable when Temporal did not answer.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { FulfillmentStatusAttribute, MerchantIdAttribute, OrderIdAttribute } from '../../shared/search-attributes';
import {
  invoiceRequestedSignal,
  merchantRefundAnswerUpdate,
  refundWorkflowId,
  type InvoiceRequestDuringReview,
  type MerchantRefundAnswer,
  type RefundSnapshot,
  type RefundWorkflowInput,
} from '../../workflows/refunds/messages';
import type { RefundPolicy } from '../../workflows/refunds/rules';
import type { refundWorkflow } from '../../workflows/refunds/workflow';
import { WorkflowEngineUnavailable } from '../errors';

export interface RefundGatewayOptions {
  taskQueue: string;
  policy: RefundPolicy;
  /** How long a merchant has to answer a negotiated refund. */
  merchantDecisionTimeoutMs: number;
}

export type MerchantAnswerResult = { kind: 'answered'; snapshot: RefundSnapshot } | { kind: 'not-awaiting'; reason: string } | { kind: 'ended' };

export interface RefundGateway {
  /** Starts `refund:<refundOrderId>`; a second start of the same refund order is a duplicate. */
  startRefund(input: Omit<RefundWorkflowInput, 'policy' | 'merchantDecisionTimeoutMs'>): Promise<{ workflowId: string; duplicate: boolean }>;
  /** The merchant's answer to a negotiated refund. */
  answer(workflowId: string, answer: MerchantRefundAnswer, updateId: string): Promise<MerchantAnswerResult>;
  /** Tells the refund the customer asked for an invoice of its line (spec §9.3); `ended` when it has its verdict already. */
  tellInvoiceRequested(workflowId: string, request: InvoiceRequestDuringReview): Promise<'told' | 'ended'>;
}

export function createRefundGateway(client: Client, options: RefundGatewayOptions): RefundGateway {
  return {
    async startRefund(input) {
      const workflowId = refundWorkflowId(input.refundOrderId);
      try {
        await client.workflow.start<typeof refundWorkflow>('refundWorkflow', {
          workflowId,
          taskQueue: options.taskQueue,
          args: [{ ...input, policy: options.policy, merchantDecisionTimeoutMs: options.merchantDecisionTimeoutMs }],
          // One workflow per refund order, even after it ended: a redelivery never refunds twice.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: OrderIdAttribute, value: input.orderId },
            { key: MerchantIdAttribute, value: input.merchantId },
            { key: FulfillmentStatusAttribute, value: 'refund:deciding' },
          ],
        });
        return { workflowId, duplicate: false };
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, duplicate: true };
        throw new WorkflowEngineUnavailable(error);
      }
    },

    async answer(workflowId, answer, updateId) {
      try {
        const snapshot = await client.workflow.getHandle(workflowId).executeUpdate(merchantRefundAnswerUpdate, { args: [answer], updateId });
        return { kind: 'answered', snapshot };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { kind: 'ended' };
        if (error instanceof WorkflowUpdateFailedError) return { kind: 'not-awaiting', reason: error.cause?.message ?? error.message };
        throw new WorkflowEngineUnavailable(error);
      }
    },

    async tellInvoiceRequested(workflowId, request) {
      try {
        await client.workflow.getHandle(workflowId).signal(invoiceRequestedSignal, request);
        return 'told';
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return 'ended';
        throw new WorkflowEngineUnavailable(error);
      }
    },
  };
}
