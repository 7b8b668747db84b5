/**
 * The dial-test run (spec §4) on the time-skipping server, fake activities at the activity
 * boundary: the run pages the merchants to dial, runs one merchantDialTestsWorkflow per
 * merchant (its products one after another), tells the merchant of each failure and of a
 * freeze, and adds the run up. The days and the listing changes on real PostgreSQL and the
 * reference merchant are test/api/dial-tests-workflow.test.ts.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { dialTestRunKey, merchantDialTestsWorkflowId } from '../../src/workflows/governance/dial-tests/messages';
import { dialTestRunWorkflow } from '../../src/workflows/governance/dial-tests/workflow';
import { workflowSuite } from '../helpers/workflow-env';
import { recordHistory } from '../helpers/histories';

const suite = workflowSuite();

describe('dialTestRunWorkflow', () => {
  it('when one product of one merchant fails its fifth day, then that merchant is told of the failure and the freeze, and the run adds up every merchant', async () => {
    const h = suite.harness();
    const failing = { passed: false, results: [{ caseKind: 'create' as const, ok: true, resultCode: '000000', latencyMs: 12, error: null }, { caseKind: 'query' as const, ok: false, resultCode: '000005', latencyMs: 9, error: '000005: internal error' }, { caseKind: 'release' as const, ok: true, resultCode: '000000', latencyMs: 8, error: null }] };
    h.activities.dialTestTargets.mockImplementation(async ({ afterMerchantId }) =>
      afterMerchantId ? [] : [{ merchantId: 'M-A', productIds: ['P-1', 'P-2'] }, { merchantId: 'M-B', productIds: ['P-3'] }],
    );
    h.activities.dialProduct.mockImplementation(async (run) => (run.productId === 'P-2' ? failing : { passed: true, results: [] }));
    h.activities.judgeDialTests.mockImplementation(async (run) =>
      run.productId === 'P-2'
        ? { passed: false, failedDays: 5, action: 'frozen', productHidden: true, merchantFrozen: true }
        : { passed: true, failedDays: 0, action: 'none', productHidden: false, merchantFrozen: false },
    );
    const workflowId = `dial-tests-run-${Date.now()}`;
    suite.started.push(workflowId);

    const result = await h.run(async () => {
      const handle = await suite.client.workflow.start(dialTestRunWorkflow, { workflowId, taskQueue: h.taskQueue, args: [{ failedDaysToFreeze: 5 }] });
      return handle.result();
    });

    expect(result).toMatchObject({ merchants: 2, merchantRunsFailed: 0, products: 3, failed: 1, frozen: 1, lifted: 0 });
    const run = dialTestRunKey(result.runAtMs);
    const runIds = h.activities.dialProduct.mock.calls.map(([input]) => [input.runId, input.productId, input.runAtMs]);
    expect(runIds).toHaveLength(3);
    // Merchants run at once; each merchant's products one after another.
    expect(runIds.filter(([runId]) => runId !== merchantDialTestsWorkflowId('M-B', run))).toEqual([
      [merchantDialTestsWorkflowId('M-A', run), 'P-1', result.runAtMs],
      [merchantDialTestsWorkflowId('M-A', run), 'P-2', result.runAtMs],
    ]);
    expect(runIds).toContainEqual([merchantDialTestsWorkflowId('M-B', run), 'P-3', result.runAtMs]);
    expect(h.activities.judgeDialTests.mock.calls.every(([input]) => input.failedDaysToFreeze === 5)).toBe(true);
    const notices = h.activities.notifyMerchant.mock.calls.map(([n]) => [n.merchantId, n.idempotencyKey, n.subject]);
    expect(notices).toEqual([
      ['M-A', `${merchantDialTestsWorkflowId('M-A', run)}:P-2:failed`, expect.stringContaining('Dial test failed: product P-2 (day 5 of 5)')],
      ['M-A', `${merchantDialTestsWorkflowId('M-A', run)}:P-2:frozen`, expect.stringContaining('Trading frozen')],
    ]);
    expect(h.activities.notifyMerchant.mock.calls[0]?.[0].body).toContain('query: result code 000005, 000005: internal error');
    await recordHistory(suite.client, workflowId, 'one-frozen', 'dial-test-run');
  });

  it('when one merchant\'s run fails, then the other merchants are still dialled and the run says how many failed', async () => {
    const h = suite.harness();
    h.activities.dialTestTargets.mockImplementation(async ({ afterMerchantId }) =>
      afterMerchantId ? [] : [{ merchantId: 'M-BROKEN', productIds: ['P-9'] }, { merchantId: 'M-FINE', productIds: ['P-8'] }],
    );
    h.activities.dialProduct.mockImplementation(async (run) => {
      if (run.merchantId === 'M-BROKEN') throw ApplicationFailure.nonRetryable('the results could not be stored');
      return { passed: true, results: [] };
    });
    const workflowId = `dial-tests-run-partial-${Date.now()}`;
    suite.started.push(workflowId);

    const result = await h.run(async () => suite.client.workflow.execute(dialTestRunWorkflow, { workflowId, taskQueue: h.taskQueue, args: [{ failedDaysToFreeze: 5 }] }));

    expect(result).toMatchObject({ merchants: 2, merchantRunsFailed: 1, products: 1, failed: 0 });
    expect(h.activities.judgeDialTests.mock.calls.map(([run]) => run.productId)).toEqual(['P-8']);
  });

  it('when the freeze limit is not a positive integer, then the run fails as invalid input and dials no one', async () => {
    const h = suite.harness();
    const workflowId = `dial-tests-run-bad-${Date.now()}`;
    suite.started.push(workflowId);
    const failure = await h.run(async () =>
      suite.client.workflow.execute(dialTestRunWorkflow, { workflowId, taskQueue: h.taskQueue, args: [{ failedDaysToFreeze: 0 }] }).then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(((failure as WorkflowFailedError).cause as ApplicationFailure).type).toBe('InvalidInput');
    expect(h.activities.dialTestTargets).not.toHaveBeenCalled();
  });
});
