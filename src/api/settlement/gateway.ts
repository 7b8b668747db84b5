/**
 * How the API (and the worker, for the Schedule) talks to settlement workflows: the only file
 * of the capability under src/api that imports the Temporal SDK. It answers in domain terms,
 * or throws WorkflowEngineUnavailable when Temporal did not answer.
 *
 * The monthly bill run is a Temporal Schedule: billRunWorkflow on the configured day of the
 * month and hour in the configured time zone (default the 3rd, 01:00, Asia/Shanghai; the 7th
 * for general products). The worker registers it idempotently at start: the first start
 * creates it, later starts bring its calendar and action in line with the configuration.
 */
import {
  ScheduleOverlapPolicy,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import {
  businessInfoSignal,
  invoicesCompleteSignal,
  settlementWorkflowId,
  statementActionUpdate,
  statementWorkflowId,
  type BillRunInput,
  type StatementAction,
  type StatementSettings,
  type StatementStep,
} from '../../workflows/settlement/messages';
import type { billRunWorkflow, settlementWorkflow } from '../../workflows/settlement/workflow';
import { ensureSchedule } from '../../platform/temporal/schedules';
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

export const BILL_RUN_SCHEDULE_ID = 'settlement-bill-run';

export interface BillRunScheduleOptions {
  scheduleId?: string;
  taskQueue: string;
  billDay: number;
  billHour: number;
  timeZone: string;
  statement: StatementSettings;
}

/** Creates the schedule, or updates it to the options; answers which it did. */
export async function ensureBillRunSchedule(client: Client, options: BillRunScheduleOptions): Promise<'created' | 'updated'> {
  const scheduleId = options.scheduleId ?? BILL_RUN_SCHEDULE_ID;
  const input: BillRunInput = { statement: options.statement };
  const spec = { calendars: [{ dayOfMonth: options.billDay, hour: options.billHour, minute: 0 }], timezone: options.timeZone };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'billRunWorkflow',
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    args: [input] as Parameters<typeof billRunWorkflow>,
  };
  // Two bill runs never overlap; a run missed while the cluster was down is made up within a day.
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' };
  return ensureSchedule(client, { scheduleId, spec, action, policies });
}
