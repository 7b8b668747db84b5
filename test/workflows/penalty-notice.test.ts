/**
 * The penalty notice (spec §9.5) on the time-skipping server, fake activities at the activity
 * boundary: the entry's message, composed by the API, goes to the notices capability's
 * notifyMerchant under the entry's key (which sends the e-mail of the in-site message the
 * entry's transaction wrote); a notice without its fields fails as invalid input. The route's
 * start and the message on PostgreSQL are test/api/governance-guards.test.ts.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { penaltyNoticeWorkflowId } from '../../src/workflows/governance/penalties/messages';
import { penaltyNoticeWorkflow } from '../../src/workflows/governance/penalties/workflow';
import { recordHistory } from '../helpers/histories';
import { workflowSuite } from '../helpers/workflow-env';

const suite = workflowSuite();

describe('penaltyNoticeWorkflow', () => {
  it('when an entry is recorded, then its notice goes to notifyMerchant once under the entry\'s key', async () => {
    const h = suite.harness();
    h.activities.notifyMerchant.mockImplementation(async () => ({ notificationId: '42', email: 'sent' }));
    const notice = { idempotencyKey: 'penalty:7', merchantId: 'M-1', subject: 'Penalty 7: outdated_product_content (10 points)', body: 'Reason: stale pricing' };
    const workflowId = `${penaltyNoticeWorkflowId('7')}-${Date.now()}`;
    suite.started.push(workflowId);

    const result = await h.run(async () => suite.client.workflow.execute(penaltyNoticeWorkflow, { workflowId, taskQueue: h.taskQueue, args: [{ notice }] }));

    expect(result).toEqual({ notificationId: '42', email: 'sent' });
    expect(h.activities.notifyMerchant.mock.calls).toEqual([[notice]]);
    await recordHistory(suite.client, workflowId, 'sent', 'penalty-notice');
  });

  it('when the notice lacks its fields, then the workflow fails as invalid input and tells no one', async () => {
    const h = suite.harness();
    const workflowId = `penalty-notice-bad-${Date.now()}`;
    suite.started.push(workflowId);

    const failure = await h.run(async () =>
      suite.client.workflow.execute(penaltyNoticeWorkflow, { workflowId, taskQueue: h.taskQueue, args: [{ notice: { idempotencyKey: 'penalty:8', merchantId: 'M-1', subject: '', body: 'x' } }] }).catch((e: unknown) => e),
    );

    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(String((failure as WorkflowFailedError).cause?.message)).toContain('notice with idempotencyKey, merchantId, subject and body is required');
    expect(h.activities.notifyMerchant).not.toHaveBeenCalled();
  });
});
