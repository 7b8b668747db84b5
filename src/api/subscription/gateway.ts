/**
 * How the API (and anything else) talks to subscription workflows: one place that knows
 * their ids, task queue, start options and messages, and the only file under src/api that
 * imports the Temporal SDK. It answers in domain terms: what the subscription said ("ended",
 * "not checkable", a verdict), or WorkflowEngineUnavailable when Temporal did not answer.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { subscriptionKey, subscriptionWorkflowId } from '../../shared/ids';
import type { PolicyTable } from '../../workflows/windows/policy';
import { FulfillmentStatusAttribute, MerchantIdAttribute, OrderIdAttribute } from '../../shared/search-attributes';
import {
  changeCheckUpdate,
  lifecycleEventSignal,
  orderPaidSignal,
  restartSignal,
  statusQuery,
  type ChangeCheckAnswer,
  type ChangeCheckRequest,
  type LifecycleEvent,
  type LifecycleSettings,
  type OrderPaidEvent,
  type RestartRequest,
  type SubscriptionSnapshot,
} from '../../workflows/subscription/messages';
import type { subscriptionWorkflow } from '../../workflows/subscription/workflow';
import { WorkflowEngineUnavailable } from '../errors';

/**
 * How long past the change-check deadline the gateway still waits for the workflow's
 * answer: the workflow itself answers "refused" at the deadline, and that answer needs a
 * moment to come back.
 */
export const CHANGE_CHECK_ANSWER_MARGIN_MS = 1_000;

/**
 * The answer to "may this change happen?". A verdict is the merchant's (or the deadline's);
 * the other kinds say why no merchant was asked. Each kind carries `allowed` and `reason`,
 * so a caller that only needs the answer can read it without looking at the kind.
 */
export type ChangeCheckResult =
  | ({ kind: 'verdict' } & ChangeCheckAnswer)
  | { kind: 'not-checkable'; allowed: false; reason: string }
  | { kind: 'ended'; allowed: false; reason: string };

export interface SubscriptionGateway {
  /** Starts the subscription's workflow, or signals it when it runs already (or has ended: `duplicate`). */
  deliverOrderPaid(event: OrderPaidEvent): Promise<{ workflowId: string; duplicate: boolean }>;
  /** Signals a later event to a running subscription. */
  deliverLifecycleEvent(workflowId: string, event: LifecycleEvent): Promise<'delivered' | 'ended'>;
  /**
   * Asks the merchant, through the subscription, whether a change at renewal is possible.
   * Answers within the change-check deadline plus CHANGE_CHECK_ANSWER_MARGIN_MS even when no
   * worker takes the check: no answer by then is a refusal.
   */
  checkChange(workflowId: string, request: ChangeCheckRequest): Promise<ChangeCheckResult>;
  /** An operator's manual retry. */
  restart(workflowId: string, request: RestartRequest): Promise<'restarted' | 'ended'>;
  /** The workflow's own view; with a timeout, gives up when no worker answers in time. */
  status(workflowId: string, options?: { timeoutMs?: number }): Promise<SubscriptionSnapshot>;
}

export function createSubscriptionGateway(
  client: Client,
  options: { taskQueue: string; policy: PolicyTable; lifecycle: LifecycleSettings },
): SubscriptionGateway {
  /** Sends a signal to a subscription that may have ended. */
  async function signal(workflowId: string, send: (handle: WorkflowHandle) => Promise<void>): Promise<'delivered' | 'ended'> {
    try {
      await send(client.workflow.getHandle(workflowId));
      return 'delivered';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'ended';
      throw new WorkflowEngineUnavailable(error);
    }
  }

  return {
    async deliverOrderPaid(event) {
      const workflowId = subscriptionWorkflowId(subscriptionKey(event.order));
      try {
        await client.workflow.signalWithStart<typeof subscriptionWorkflow, [OrderPaidEvent]>('subscriptionWorkflow', {
          workflowId,
          taskQueue: options.taskQueue,
          args: [{ workflowId, policy: options.policy, lifecycle: options.lifecycle }],
          signal: orderPaidSignal,
          signalArgs: [event],
          // A subscription that already ended (failed and refunded, or released) is not
          // started again by a late duplicate of its order.paid.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: OrderIdAttribute, value: event.order.orderId },
            { key: MerchantIdAttribute, value: event.order.merchantId },
            { key: FulfillmentStatusAttribute, value: 'awaiting-order' },
          ],
        });
        return { workflowId, duplicate: false };
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, duplicate: true };
        throw new WorkflowEngineUnavailable(error);
      }
    },

    deliverLifecycleEvent: (workflowId, event) => signal(workflowId, (handle) => handle.signal(lifecycleEventSignal, event)),

    async restart(workflowId, request) {
      const delivered = await signal(workflowId, (handle) => handle.signal(restartSignal, request));
      return delivered === 'delivered' ? 'restarted' : 'ended';
    },

    async checkChange(workflowId, request) {
      const { changeCheckDeadlineMs } = options.lifecycle;
      try {
        // Without a deadline of its own the client waits for a worker to accept the update
        // for as long as none runs, while the order system waits for an answer.
        const answer = await client.connection.withDeadline(Date.now() + changeCheckDeadlineMs + CHANGE_CHECK_ANSWER_MARGIN_MS, () =>
          // The event id as update id: a redelivered webhook (the sender gave up waiting, or
          // we crashed before storing the answer) gets the first check's verdict, not a second call.
          client.workflow.getHandle(workflowId).executeUpdate(changeCheckUpdate, { args: [request], updateId: `change-check:${request.eventId}` }),
        );
        return { kind: 'verdict', ...answer };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { kind: 'ended', allowed: false, reason: `subscription ${workflowId} is no longer running` };
        // The workflow's validator refused it: no live instance to ask about.
        if (error instanceof WorkflowUpdateFailedError) return { kind: 'not-checkable', allowed: false, reason: error.cause?.message ?? error.message };
        if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
          return { kind: 'verdict', allowed: false, reason: `refused: no answer within ${changeCheckDeadlineMs} ms (the subscription's worker did not take the check)` };
        }
        throw new WorkflowEngineUnavailable(error);
      }
    },

    async status(workflowId, statusOptions) {
      const query = (): Promise<SubscriptionSnapshot> => client.workflow.getHandle(workflowId).query(statusQuery);
      return statusOptions?.timeoutMs ? client.connection.withDeadline(Date.now() + statusOptions.timeoutMs, query) : query();
    },
  };
}
