/**
 * settlementWorkflow: the bill run of one period, `settlement:<YYYYMM>`. It computes the
 * period's scope in PostgreSQL (one activity, once per bill run), then starts one
 * statementWorkflow per merchant, a page at a time in merchant id order, and continues as new
 * after a batch of them carrying the cursor, so a period of ten thousand merchants never nears
 * the history limit. Statements are abandoned to live on their own (weeks, past this run and
 * its continues-as-new); their id reuse policy makes each start once per period, so a
 * restarted run finds those already started running and starts only the rest.
 *
 * billRunWorkflow: what the monthly Schedule starts. It waits for a working day (the bill
 * run moves to the next working day on holidays), names the previous month, starts that
 * period's settlement and waits until it has started every statement; a period already run
 * is left as it is.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ApplicationFailure, continueAsNew, sleep, startChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../../shared/errors';
import { FulfillmentStatusAttribute, SettlementPeriodAttribute } from '../../shared/search-attributes';
import {
  DEFAULT_STATEMENT_BATCHING,
  settlementWorkflowId,
  statementWorkflowId,
  type BillRunInput,
  type BillRunResult,
  type SettlementProgress,
  type SettlementResult,
  type SettlementWorkflowInput,
} from './messages';
import { records, scope } from './proxies';
import { statementWorkflow } from './statement';
import { nextWorkingMoment, previousPeriod } from './working-days';

/** Starts a child once per id: undefined when one of that id already ran. */
async function startOnce<T>(start: () => Promise<T>): Promise<T | undefined> {
  try {
    return await start();
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return undefined;
    throw error;
  }
}

/** Where a run stands, for the Web UI: `SettlementPeriod = '202611' AND FulfillmentStatus = 'settlement:starting-statements'`. */
function showStep(period: string, step: string): void {
  upsertSearchAttributes([
    { key: SettlementPeriodAttribute, value: period },
    { key: FulfillmentStatusAttribute, value: step },
  ]);
}

export async function settlementWorkflow(input: SettlementWorkflowInput): Promise<SettlementResult> {
  const { period } = input ?? {};
  if (!/^\d{4}(0[1-9]|1[0-2])$/.test(period ?? '')) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'period must be YYYYMM', nonRetryable: true });
  }
  const batching = input.batching ?? DEFAULT_STATEMENT_BATCHING;
  let progress: SettlementProgress;
  if (input.progress) {
    // A continued run: the scope was computed by the first run of this bill run, once; the
    // search attributes came along with the continue-as-new.
    progress = { ...input.progress, runs: input.progress.runs + 1 };
  } else {
    showStep(period, 'settlement:computing');
    const computed = await scope.computeSettlementScope({ period, startedBy: input.startedBy });
    progress = { added: computed.added, statements: computed.statements, started: 0, afterMerchantId: '', runs: 1 };
    showStep(period, 'settlement:starting-statements');
  }

  let startedThisRun = 0;
  for (;;) {
    const page = await records.statementPage({ period, afterMerchantId: progress.afterMerchantId, limit: batching.pageSize });
    const fresh = await Promise.all(
      page.map((s) =>
        startOnce(() =>
          startChild(statementWorkflow, {
            workflowId: statementWorkflowId(period, s.merchantId),
            args: [{ period, merchantId: s.merchantId, statementNumber: s.statementNumber, settings: input.statement }],
            // A statement waits weeks for people; the run (and each of its continues-as-new) closes in minutes.
            parentClosePolicy: 'ABANDON',
            // One statement per merchant and period, ever: a second run of the period never makes another.
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          }),
        ),
      ),
    );
    progress.started += fresh.filter((child) => child !== undefined).length;
    startedThisRun += page.length;
    if (page.length < batching.pageSize) break;
    progress.afterMerchantId = page[page.length - 1]!.merchantId;
    if (startedThisRun >= batching.statementsPerRun || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof settlementWorkflow>({ ...input, batching, progress });
    }
  }
  showStep(period, 'settlement:statements-started');
  return { period, statements: progress.statements, started: progress.started, added: progress.added, runs: progress.runs };
}

export async function billRunWorkflow(input: BillRunInput): Promise<BillRunResult> {
  const startMs = nextWorkingMoment(Date.now(), input.statement.holidays);
  if (startMs > Date.now()) {
    upsertSearchAttributes([{ key: FulfillmentStatusAttribute, value: 'bill-run:waiting-for-working-day' }]);
    await sleep(startMs - Date.now());
  }
  const period = previousPeriod(Date.now());
  const settlement = await startOnce(() =>
    startChild(settlementWorkflow, {
      workflowId: settlementWorkflowId(period),
      args: [{ period, startedBy: 'schedule', statement: input.statement }],
      // An operator who ends the bill run does not end the period's settlement.
      parentClosePolicy: 'ABANDON',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    }),
  );
  if (!settlement) {
    showStep(period, 'bill-run:period-already-run');
    return { period, started: false };
  }
  showStep(period, 'bill-run:settling');
  // Waiting for the settlement (it has started every statement) keeps the Schedule's overlap
  // policy meaningful for the whole run. It also never leaves a child that completes after its
  // parent closed, which the time-skipping test server answers by keeping its clock locked.
  const result = await settlement.result();
  showStep(period, 'bill-run:statements-started');
  return { period, started: true, statements: result.statements };
}
