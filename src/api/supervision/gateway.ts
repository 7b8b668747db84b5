/**
 * How the API (and anything else) talks to supervision workflows: the only file of the
 * capability under src/api that imports the Temporal SDK. It answers in domain terms (the
 * new node, a refusal with its reason, "ended"), or throws WorkflowEngineUnavailable when
 * Temporal did not answer in time.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { MerchantIdAttribute, OrderIdAttribute, SupervisionNodeAttribute } from '../../shared/search-attributes';
import {
  supervisionActionUpdate,
  supervisionClosedSignal,
  supervisionStatusQuery,
  type SupervisedOrder,
  type SupervisionAction,
  type SupervisionAnswer,
  type SupervisionClosure,
  type SupervisionSnapshot,
  type SupervisionVariant,
  type SupervisionWorkflowInput,
} from '../../workflows/supervision/messages';
import type { supervisionWorkflow } from '../../workflows/supervision/workflow';
import { WorkflowEngineUnavailable } from '../errors';

/** The workflow id of an order line's supervision. */
export function supervisionWorkflowId(orderId: string, orderLineId: string): string {
  return `supervision:${orderId}:${orderLineId}`;
}

/**
 * How long an action waits for the workflow's answer. Past it the caller gets a 503 and may
 * send the same action again: the action id is the update id, so it is applied once.
 */
export const SUPERVISION_ACTION_DEADLINE_MS = 10_000;

export type ActionResult = { kind: 'done'; answer: SupervisionAnswer } | { kind: 'refused'; reason: string } | { kind: 'ended' };

export interface SupervisionGateway {
  /** Starts the order line's supervision; a second start for the same line is `duplicate` (never a second flow). */
  start(input: { order: SupervisedOrder; variant: SupervisionVariant; subscriptionWorkflowId: string }): Promise<{ workflowId: string; duplicate: boolean }>;
  /** A party's or operator's action; refused when it does not fit the node. */
  act(workflowId: string, action: SupervisionAction): Promise<ActionResult>;
  /** The order's unsubscription: an open supervision closes (`ended`: it had finished already). */
  close(workflowId: string, closure: SupervisionClosure): Promise<'signalled' | 'ended'>;
  /** The workflow's own view; with a timeout, gives up when no worker answers in time. */
  status(workflowId: string, options?: { timeoutMs?: number }): Promise<SupervisionSnapshot>;
}

export function createSupervisionGateway(client: Client, options: { taskQueue: string }): SupervisionGateway {
  return {
    async start({ order, variant, subscriptionWorkflowId }) {
      const workflowId = supervisionWorkflowId(order.orderId, order.orderLineId);
      try {
        await client.workflow.start<typeof supervisionWorkflow>('supervisionWorkflow', {
          workflowId,
          taskQueue: options.taskQueue,
          args: [{ workflowId, variant, order, subscriptionWorkflowId } satisfies SupervisionWorkflowInput],
          // One supervision per order line, ever: a redelivered order.paid (even after the
          // supervision completed) does not start the flow again.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: OrderIdAttribute, value: order.orderId },
            { key: MerchantIdAttribute, value: order.merchantId },
            { key: SupervisionNodeAttribute, value: variant === 'licence' ? 'awaiting-claim' : 'awaiting-requirement' },
          ],
        });
        return { workflowId, duplicate: false };
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, duplicate: true };
        throw new WorkflowEngineUnavailable(error);
      }
    },

    async act(workflowId, action) {
      try {
        const answer = await client.connection.withDeadline(Date.now() + SUPERVISION_ACTION_DEADLINE_MS, () =>
          client.workflow.getHandle(workflowId).executeUpdate(supervisionActionUpdate, { args: [action], updateId: `supervision-action:${action.actionId}` }),
        );
        return { kind: 'done', answer };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { kind: 'ended' };
        // The workflow's validator refused it: the action does not fit the node.
        if (error instanceof WorkflowUpdateFailedError) return { kind: 'refused', reason: error.cause?.message ?? error.message };
        throw new WorkflowEngineUnavailable(error);
      }
    },

    async close(workflowId, closure) {
      try {
        await client.workflow.getHandle(workflowId).signal(supervisionClosedSignal, closure);
        return 'signalled';
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return 'ended';
        throw new WorkflowEngineUnavailable(error);
      }
    },

    async status(workflowId, statusOptions) {
      const query = (): Promise<SupervisionSnapshot> => client.workflow.getHandle(workflowId).query(supervisionStatusQuery);
      return statusOptions?.timeoutMs ? client.connection.withDeadline(Date.now() + statusOptions.timeoutMs, query) : query();
    },
  };
}
