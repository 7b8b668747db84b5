/**
 * How the API talks to exit workflows (`exit:<merchantId>`, spec §9.4): the start (the
 * merchant's request or an operator's forced exit), the status, the operator's review and a
 * re-check of the preconditions. Answers in domain terms, or throws WorkflowEngineUnavailable
 * when Temporal did not answer.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ExitStepAttribute, MerchantIdAttribute } from '../../shared/search-attributes';
import { exitRecheckSignal, exitReviewUpdate, exitStatusQuery, exitWorkflowId, type ExitKind, type ExitRecheck, type ExitReview, type ExitSnapshot } from '../../workflows/governance/exit/messages';
import type { exitWorkflow } from '../../workflows/governance/exit/workflow';
import { WorkflowEngineUnavailable } from '../errors';

export interface ExitStart {
  /** Who asks: the merchant's id for its own request, the operator's name for a forced exit. */
  requestedBy: string;
  reason: string;
  penaltyId?: string;
}

export type ExitReviewResult = { kind: 'decided'; snapshot: ExitSnapshot } | { kind: 'refused'; reason: string } | { kind: 'ended' };

export interface ExitGateway {
  /** Starts the merchant's exit; while one runs, the running one answers (`duplicate: true`). */
  startExit(merchantId: string, kind: ExitKind, start: ExitStart): Promise<{ workflowId: string; duplicate: boolean }>;
  /** A forced exit (a termination penalty, or an operator): the same workflow, idempotent by its id. */
  startForcedExit(merchantId: string, options: { reason: string; penaltyId?: string; actor?: string }): Promise<{ workflowId: string; duplicate: boolean }>;
  /** The running exit's status; undefined when none runs. */
  status(merchantId: string, options?: { timeoutMs?: number }): Promise<ExitSnapshot | undefined>;
  review(merchantId: string, review: ExitReview, updateId: string): Promise<ExitReviewResult>;
  /** Asks the running exit to check its preconditions again now; false when none runs. */
  recheck(merchantId: string, recheck: ExitRecheck): Promise<boolean>;
}

export function createExitGateway(client: Client, options: { taskQueue: string }): ExitGateway {
  const startExit: ExitGateway['startExit'] = async (merchantId, kind, start) => {
    const workflowId = exitWorkflowId(merchantId);
    try {
      await client.workflow.start<typeof exitWorkflow>('exitWorkflow', {
        workflowId,
        taskQueue: options.taskQueue,
        args: [{ merchantId, kind, requestedBy: start.requestedBy, reason: start.reason, ...(start.penaltyId ? { penaltyId: start.penaltyId } : {}) }],
        // One exit at a time; after a rejected (or withdrawn) one the merchant may ask again.
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        typedSearchAttributes: [
          { key: MerchantIdAttribute, value: merchantId },
          { key: ExitStepAttribute, value: 'checking' },
        ],
      });
      return { workflowId, duplicate: false };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, duplicate: true };
      throw new WorkflowEngineUnavailable(error);
    }
  };

  return {
    startExit,

    startForcedExit: (merchantId, { reason, penaltyId, actor }) =>
      startExit(merchantId, 'forced', { requestedBy: actor ?? (penaltyId ? `penalty:${penaltyId}` : 'operator'), reason, ...(penaltyId ? { penaltyId } : {}) }),

    async status(merchantId, { timeoutMs } = {}) {
      const handle = client.workflow.getHandle(exitWorkflowId(merchantId));
      try {
        const description = await handle.describe();
        if (description.status.name !== 'RUNNING') return undefined;
        const query = handle.query(exitStatusQuery);
        if (timeoutMs === undefined) return await query;
        return await Promise.race([query, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref())]);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw new WorkflowEngineUnavailable(error);
      }
    },

    async review(merchantId, review, updateId) {
      try {
        const snapshot = await client.workflow.getHandle(exitWorkflowId(merchantId)).executeUpdate(exitReviewUpdate, { args: [review], updateId });
        return { kind: 'decided', snapshot };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { kind: 'ended' };
        if (error instanceof WorkflowUpdateFailedError) return { kind: 'refused', reason: error.cause?.message ?? error.message };
        throw new WorkflowEngineUnavailable(error);
      }
    },

    async recheck(merchantId, recheck) {
      try {
        await client.workflow.getHandle(exitWorkflowId(merchantId)).signal(exitRecheckSignal, recheck);
        return true;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw new WorkflowEngineUnavailable(error);
      }
    },
  };
}
