/**
 * A paid statement re-checks its merchant's running exit at once (spec §9.4: no unsettled
 * order), instead of waiting for the hourly re-check. Called by the settlement's activity that
 * records a statement's step, so the statement workflow (and its recorded histories) does not
 * change; the signal goes through the worker's own client.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Queryable } from '../../db/pool';
import { runningExitOfStatement } from '../../db/repositories/governance/exit';
import { exitRecheckSignal } from '../../workflows/governance/exit/messages';

/** Signals exit:<merchantId> when the statement's merchant has an exit running; answers the workflow signalled. */
export async function recheckExitOnStatementPaid(db: Queryable, statementNumber: string): Promise<string | undefined> {
  const exit = await runningExitOfStatement(db, statementNumber);
  if (!exit) return undefined;
  try {
    await Context.current().client.workflow.getHandle(exit.workflowId).signal(exitRecheckSignal, { actor: 'settlement', reason: `statement ${statementNumber} paid` });
    return exit.workflowId;
  } catch (error) {
    // The exit ended between the read and the signal: nothing to re-check. Anything else fails the activity, which retries.
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}
