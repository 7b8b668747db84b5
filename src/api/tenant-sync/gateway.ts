/**
 * How the API talks to tenant sync workflows: the only file of the capability under src/api
 * that imports the Temporal SDK. It answers in domain terms, or throws
 * WorkflowEngineUnavailable when Temporal did not answer.
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { FulfillmentStatusAttribute, InstanceIdAttribute, MerchantIdAttribute, TenantIdAttribute } from '../../shared/search-attributes';
import {
  syncDecisionUpdate,
  syncEventSignal,
  syncStatusQuery,
  type SyncDecision,
  type SyncDecisionAnswer,
  type SyncEventRef,
  type TenantSyncSettings,
  type TenantSyncSnapshot,
  type TenantSyncWorkflowInput,
} from '../../workflows/tenant-sync/messages';
import type { tenantSyncWorkflow } from '../../workflows/tenant-sync/workflow';
import { WorkflowEngineUnavailable } from '../errors';

/** How long a retry or skip waits for the tenant's workflow to take it before answering 503. */
export const DECISION_ANSWER_DEADLINE_MS = 10_000;

/** The workflow id of a tenant's sync: one per instance and tenant. */
export function tenantSyncWorkflowId(instanceId: string, tenantId: string): string {
  return `tenant-sync:${instanceId}:${tenantId}`;
}

/** Who the workflow is for, as its first event starts it. */
export type TenantSyncStart = Omit<TenantSyncWorkflowInput, 'settings' | 'state'>;

export type DecisionResult = { kind: 'decided'; answer: SyncDecisionAnswer } | { kind: 'nothing-to-decide'; reason: string } | { kind: 'ended' };

export interface TenantSyncGateway {
  /** Starts the tenant's workflow with the event, or signals the running one. */
  deliver(start: TenantSyncStart, event: SyncEventRef): Promise<void>;
  /** Retry or skip the failed call the tenant waits behind. */
  decide(workflowId: string, decision: SyncDecision): Promise<DecisionResult>;
  /** The workflow's own view; with a timeout, gives up when no worker answers in time. */
  status(workflowId: string, options?: { timeoutMs?: number }): Promise<TenantSyncSnapshot>;
}

export function createTenantSyncGateway(client: Client, options: { taskQueue: string; settings: TenantSyncSettings }): TenantSyncGateway {
  return {
    async deliver(start, event) {
      try {
        await client.workflow.signalWithStart<typeof tenantSyncWorkflow, [SyncEventRef]>('tenantSyncWorkflow', {
          workflowId: start.workflowId,
          taskQueue: options.taskQueue,
          args: [{ ...start, settings: options.settings }],
          signal: syncEventSignal,
          signalArgs: [event],
          // A tenant deleted (its workflow ended) and added again starts a new run.
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          typedSearchAttributes: [
            { key: InstanceIdAttribute, value: start.instanceId },
            { key: TenantIdAttribute, value: start.tenantId },
            { key: MerchantIdAttribute, value: start.merchantId },
            { key: FulfillmentStatusAttribute, value: 'syncing' },
          ],
        });
      } catch (error) {
        throw new WorkflowEngineUnavailable(error);
      }
    },

    async decide(workflowId, decision) {
      try {
        // Without a deadline the client waits for a worker to take the update for as long as
        // none runs, and the webhook or operator with it: past it, 503 and the caller retries.
        const answer = await client.connection.withDeadline(Date.now() + DECISION_ANSWER_DEADLINE_MS, () =>
          client.workflow.getHandle(workflowId).executeUpdate(syncDecisionUpdate, { args: [decision] }),
        );
        return { kind: 'decided', answer };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { kind: 'ended' };
        // The workflow's validator refused it: no failed call waits, or another one does.
        if (error instanceof WorkflowUpdateFailedError) return { kind: 'nothing-to-decide', reason: error.cause?.message ?? error.message };
        throw new WorkflowEngineUnavailable(error);
      }
    },

    async status(workflowId, statusOptions) {
      const query = (): Promise<TenantSyncSnapshot> => client.workflow.getHandle(workflowId).query(syncStatusQuery);
      return statusOptions?.timeoutMs ? client.connection.withDeadline(Date.now() + statusOptions.timeoutMs, query) : query();
    },
  };
}
