/**
 * How the API talks to settlement workflows: the only file of the capability under src/api
 * (with schedule.ts) that imports the Temporal SDK. It answers in domain terms, or throws
 * WorkflowEngineUnavailable when Temporal did not answer.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import {
  businessInfoSignal,
  invoicesCompleteSignal,
  settlementWorkflowId,
  statementActionUpdate,
  statementWorkflowId,
  type StatementAction,
  type StatementSettings,
  type StatementStep,
} from '../../workflows/settlement/messages';
import type { settlementWorkflow } from '../../workflows/settlement/workflow';
import { WorkflowEngineUnavailable } from '../errors';

export type ActionResult =
  | { kind: 'done'; step: StatementStep; paymentRequestNumber?: string }
  | { kind: 'refused'; reason: string }
  | { kind: 'not-running' };

export interface SettlementGateway {
  /** Starts a period's bill run; a period already run (or running) is a duplicate, not a second run. */
  startRun(period: string, startedBy: string): Promise<{ workflowId: string; duplicate: boolean }>;
  act(period: string, merchantId: string, action: StatementAction): Promise<ActionResult>;
  /** Tells held statements that the merchant's business information changed. */
  businessInfoUpdated(statements: { period: string; merchantId: string }[]): Promise<void>;
  invoicesComplete(period: string, merchantId: string): Promise<void>;
}

export function createSettlementGateway(client: Client, options: { taskQueue: string; statement: StatementSettings }): SettlementGateway {
  /** A signal to a statement; one that has ended needs none. */
  async function signalStatement(period: string, merchantId: string, signal: typeof businessInfoSignal | typeof invoicesCompleteSignal): Promise<void> {
    try {
      await client.workflow.getHandle(statementWorkflowId(period, merchantId)).signal(signal);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return;
      throw new WorkflowEngineUnavailable(error);
    }
  }

  return {
    async startRun(period, startedBy) {
      const workflowId = settlementWorkflowId(period);
      try {
        await client.workflow.start<typeof settlementWorkflow>('settlementWorkflow', {
          workflowId,
          taskQueue: options.taskQueue,
          args: [{ period, startedBy, statement: options.statement }],
          // A period runs once: a second start, even after the first finished, is refused.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
        return { workflowId, duplicate: false };
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, duplicate: true };
        throw new WorkflowEngineUnavailable(error);
      }
    },

    async act(period, merchantId, action) {
      try {
        const answer = await client.workflow.getHandle(statementWorkflowId(period, merchantId)).executeUpdate(statementActionUpdate, { args: [action] });
        return { kind: 'done', ...answer };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { kind: 'not-running' };
        if (error instanceof WorkflowUpdateFailedError) return { kind: 'refused', reason: error.cause?.message ?? error.message };
        throw new WorkflowEngineUnavailable(error);
      }
    },

    async businessInfoUpdated(statements) {
      for (const s of statements) await signalStatement(s.period, s.merchantId, businessInfoSignal);
    },

    invoicesComplete: (period, merchantId) => signalStatement(period, merchantId, invoicesCompleteSignal),
  };
}
