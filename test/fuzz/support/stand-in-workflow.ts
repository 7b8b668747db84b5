/**
 * A stand-in for the subscription workflow, registered under its name, for the operator
 * routes' fuzz: it takes every signal the API sends and answers the status query at once,
 * so GET /v1/orders/:orderId and GET /v1/instances/:instanceId show a live step instead of
 * waiting 2 s for a worker that is not there. The real workflow is tested in the workflow
 * suites.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { lifecycleEventSignal, orderPaidSignal, restartSignal, statusQuery, type SubscriptionWorkflowInput } from '../../../src/workflows/subscription/messages';

export async function subscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<void> {
  const sinceMs = Date.now();
  let events = 0;
  let restarts = 0;
  setHandler(orderPaidSignal, () => void (events += 1));
  setHandler(lifecycleEventSignal, () => void (events += 1));
  setHandler(restartSignal, () => void (restarts += 1));
  setHandler(statusQuery, () => ({
    workflowId: input.workflowId,
    status: 'provisioning',
    step: { name: 'waiting-for-restart', sinceMs, reason: `stand-in: ${events} events, ${restarts} restarts` },
    attempts: restarts,
    runs: 1,
    pendingEvents: events,
  }));
  await condition(() => false);
}
