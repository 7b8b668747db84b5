/**
 * How the API (and anything else) talks to subscription workflows: one place that knows
 * their ids, task queue, start options and messages.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
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

export interface SubscriptionGateway {
  /** Starts the subscription's workflow, or signals it when it runs already. */
  deliverOrderPaid(event: OrderPaidEvent): Promise<{ workflowId: string; duplicate: boolean }>;
  /** Signals a later event to a running subscription; WorkflowNotFoundError when it has ended. */
  deliverLifecycleEvent(workflowId: string, event: LifecycleEvent): Promise<void>;
  /** Asks the merchant, through the subscription, whether a change at renewal is possible. */
  checkChange(workflowId: string, request: ChangeCheckRequest): Promise<ChangeCheckAnswer>;
  restart(workflowId: string, request: RestartRequest): Promise<void>;
  /** The workflow's own view; with a timeout, gives up when no worker answers in time. */
  status(workflowId: string, options?: { timeoutMs?: number }): Promise<SubscriptionSnapshot>;
}

export function createSubscriptionGateway(
  client: Client,
  options: { taskQueue: string; policy: PolicyTable; lifecycle: LifecycleSettings },
): SubscriptionGateway {
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
        throw error;
      }
    },
    async deliverLifecycleEvent(workflowId, event) {
      await client.workflow.getHandle(workflowId).signal(lifecycleEventSignal, event);
    },
    async checkChange(workflowId, request) {
      // The event id as update id: a redelivered webhook (the sender gave up waiting, or we
      // crashed before storing the answer) gets the first check's verdict, not a second call.
      return client.workflow.getHandle(workflowId).executeUpdate(changeCheckUpdate, { args: [request], updateId: `change-check:${request.eventId}` });
    },
    async restart(workflowId, request) {
      await client.workflow.getHandle(workflowId).signal(restartSignal, request);
    },
    async status(workflowId, options) {
      const query = (): Promise<SubscriptionSnapshot> => client.workflow.getHandle(workflowId).query(statusQuery);
      return options?.timeoutMs ? client.connection.withDeadline(Date.now() + options.timeoutMs, query) : query();
    },
  };
}
