/**
 * How the penalty routes hand an entry's notice to the worker (spec §9.5): the e-mail of the
 * in-site message the entry's transaction wrote, sent by `penalty-notice:<entryId>` through the
 * notices capability. One start per entry: a repeat (a retry of the request) finds it started.
 * Throws WorkflowEngineUnavailable when Temporal did not answer.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { MerchantIdAttribute } from '../../shared/search-attributes';
import { penaltyNoticeWorkflowId, type PenaltyNoticeInput } from '../../workflows/governance/penalties/messages';
import type { penaltyNoticeWorkflow } from '../../workflows/governance/penalties/workflow';
import { WorkflowEngineUnavailable } from '../errors';

export interface PenaltyNoticeGateway {
  /** Starts the entry's notice unless it was started before. */
  sendPenaltyNotice(entryId: string, notice: PenaltyNoticeInput['notice']): Promise<void>;
}

export function createPenaltyNoticeGateway(client: Client, options: { taskQueue: string }): PenaltyNoticeGateway {
  return {
    async sendPenaltyNotice(entryId, notice) {
      try {
        await client.workflow.start<typeof penaltyNoticeWorkflow>('penaltyNoticeWorkflow', {
          workflowId: penaltyNoticeWorkflowId(entryId),
          taskQueue: options.taskQueue,
          args: [{ notice }],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [{ key: MerchantIdAttribute, value: notice.merchantId }],
        });
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return;
        throw new WorkflowEngineUnavailable(error);
      }
    },
  };
}
