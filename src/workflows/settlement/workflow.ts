/**
 * settlementWorkflow: the bill run of one period, `settlement:<YYYYMM>`. It computes the
 * period's scope in PostgreSQL (one activity) and starts one statementWorkflow per merchant,
 * abandoned to live on their own. A restarted run recomputes (settling nothing twice) and
 * finds its statements already running.
 *
 * billRunWorkflow: what the monthly Schedule starts. It waits for a working day (the bill
 * run moves to the next working day on holidays), names the previous month, and starts that
 * period's settlement; a period already run is left as it is.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ApplicationFailure, sleep, startChild } from '@temporalio/workflow';
import { ErrorType } from '../../shared/errors';
import {
  settlementWorkflowId,
  statementWorkflowId,
  type BillRunInput,
  type SettlementResult,
  type SettlementWorkflowInput,
} from './messages';
import { scope } from './proxies';
import { statementWorkflow } from './statement';
import { nextWorkingMoment, previousPeriod } from './working-days';

/** Starts a child that lives on after its parent; false when one of that id already ran. */
async function startAbandoned(start: () => Promise<unknown>): Promise<boolean> {
  try {
    await start();
    return true;
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw error;
  }
}

export async function settlementWorkflow(input: SettlementWorkflowInput): Promise<SettlementResult> {
  if (!/^\d{4}(0[1-9]|1[0-2])$/.test(input?.period ?? '')) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'period must be YYYYMM', nonRetryable: true });
  }
  const computed = await scope.computeSettlementScope({ period: input.period, startedBy: input.startedBy });
  let started = 0;
  for (const s of computed.statements) {
    const fresh = await startAbandoned(() =>
      startChild(statementWorkflow, {
        workflowId: statementWorkflowId(input.period, s.merchantId),
        args: [{ period: input.period, merchantId: s.merchantId, statementNumber: s.statementNumber, settings: input.statement }],
        parentClosePolicy: 'ABANDON',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      }),
    );
    if (fresh) started += 1;
  }
  return { period: input.period, statements: computed.statements.length, started, added: computed.added };
}

export async function billRunWorkflow(input: BillRunInput): Promise<{ period: string; started: boolean }> {
  const startMs = nextWorkingMoment(Date.now(), input.statement.holidays);
  if (startMs > Date.now()) await sleep(startMs - Date.now());
  const period = previousPeriod(Date.now());
  const started = await startAbandoned(() =>
    startChild(settlementWorkflow, {
      workflowId: settlementWorkflowId(period),
      args: [{ period, startedBy: 'schedule', statement: input.statement }],
      parentClosePolicy: 'ABANDON',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    }),
  );
  return { period, started };
}
