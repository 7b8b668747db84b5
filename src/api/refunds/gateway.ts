/**
 * How the API talks to refund workflows: their ids, task queue, start options and messages.
 * Answers in domain terms, or throws WorkflowEngineUnavailable when Temporal did not answer.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { FulfillmentStatusAttribute, MerchantIdAttribute, OrderIdAttribute } from '../../shared/search-attributes';
import {
  invoiceRequestedUpdate,
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
/** `failed`: the refund took the invoice request and fails; otherwise it was not under the merchant's review. */
export type InvoiceRequestResult = { kind: 'failed'; snapshot: RefundSnapshot } | { kind: 'not-awaiting'; reason: string } | { kind: 'ended' };

export interface RefundGateway {
  /** Starts `refund:<refundOrderId>`; a second start of the same refund order is a duplicate. */
  startRefund(input: Omit<RefundWorkflowInput, 'policy' | 'merchantDecisionTimeoutMs'>): Promise<{ workflowId: string; duplicate: boolean }>;
  /** The merchant's answer to a negotiated refund. */
  answer(workflowId: string, answer: MerchantRefundAnswer, updateId: string): Promise<MerchantAnswerResult>;
  /** The customer asked for an invoice of the refunded line (spec §9.3). */
  invoiceRequested(workflowId: string, request: InvoiceRequestDuringReview, updateId: string): Promise<InvoiceRequestResult>;
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
      const result = await reviewUpdate(() => client.workflow.getHandle(workflowId).executeUpdate(merchantRefundAnswerUpdate, { args: [answer], updateId }));
      return result.kind === 'taken' ? { kind: 'answered', snapshot: result.snapshot } : result;
    },

    async invoiceRequested(workflowId, request, updateId) {
      const result = await reviewUpdate(() => client.workflow.getHandle(workflowId).executeUpdate(invoiceRequestedUpdate, { args: [request], updateId }));
      return result.kind === 'taken' ? { kind: 'failed', snapshot: result.snapshot } : result;
    },
  };
}

/** An update of the merchant's review: taken, refused by its validator (not under review), or the refund has ended. */
async function reviewUpdate(
  execute: () => Promise<RefundSnapshot>,
): Promise<{ kind: 'taken'; snapshot: RefundSnapshot } | { kind: 'not-awaiting'; reason: string } | { kind: 'ended' }> {
  try {
    return { kind: 'taken', snapshot: await execute() };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return { kind: 'ended' };
    if (error instanceof WorkflowUpdateFailedError) return { kind: 'not-awaiting', reason: error.cause?.message ?? error.message };
    throw new WorkflowEngineUnavailable(error);
  }
}
