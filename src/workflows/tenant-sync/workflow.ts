/**
 * tenantSyncWorkflow: the one workflow of one buyer tenant of one instance
 * (`tenant-sync:<instanceId>:<tenantId>`). Every Kit sync event for the tenant arrives as a
 * signal and is applied in arrival order, except that an event whose tenant or application
 * does not exist at the merchant yet waits for it (with the later events of its own stream),
 * so a user sync never reaches the merchant before its tenant and application.
 *
 * Each call is attempted once (spec §4: no automatic retry). A failed call is recorded,
 * notified to the merchant and to the buyer's admin (an order-system callback), and the
 * tenant's later events wait behind it until someone decides: retry (the same call again,
 * with a fresh nonce and timestamp) or skip (recorded with who and why).
 *
 * Long-lived: continues as new between events, carrying the pending ones, and ends once the
 * tenant is deleted and nothing is pending.
 */
import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, log, setHandler, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import type { KitCallOutcome, KitSyncCall } from '../../activities/tenant-sync/kit-calls';
import { ErrorType } from '../../shared/errors';
import { stepKey } from '../../shared/ids';
import { FulfillmentStatusAttribute } from '../../shared/search-attributes';
import { activityFailure } from '../windows/runner';
import {
  syncDecisionUpdate,
  syncEventSignal,
  syncStatusQuery,
  type SyncDecision,
  type SyncEventRef,
  type SyncStepName,
  type TenantSyncSnapshot,
  type TenantSyncWorkflowInput,
} from './messages';
import { kit, notices, orderSystem, records } from './proxies';
import { applied, initialState, nextEventIndex, snapshot, type SyncSearchStatus, type TenantSyncState } from './state';

/** Event ids remembered for de-duplication. */
const SEEN_EVENT_LIMIT = 500;

interface Sync {
  readonly input: TenantSyncWorkflowInput;
  readonly state: TenantSyncState;
  /** This run's flags: events received (wakes the loop), the decision given, events applied. */
  readonly run: { received: number; decision?: SyncDecision; eventsApplied: number };
}

export async function tenantSyncWorkflow(input: TenantSyncWorkflowInput): Promise<TenantSyncSnapshot> {
  if (!input?.workflowId || !input.instanceId || !input.tenantId || !input.settings) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'workflowId, instanceId, tenantId and settings are required', nonRetryable: true });
  }
  const sync: Sync = { input, state: initialState(input), run: { received: 0, eventsApplied: 0 } };
  const { state, run } = sync;

  setHandler(syncEventSignal, (event) => receive(sync, event));
  setHandler(syncStatusQuery, () => snapshot(input, state));
  setHandler(
    syncDecisionUpdate,
    (decision) => {
      const blocked = state.blocked!;
      run.decision = decision;
      return { action: decision.action, eventId: blocked.eventId, call: blocked.call };
    },
    {
      // A validator's throw rejects the update before it enters history.
      validator: (decision) => {
        if (!state.blocked || run.decision) throw new Error('no failed call is waiting for a decision');
        if (decision.eventId && decision.eventId !== state.blocked.eventId) {
          throw new Error(`the call waiting for a decision is event ${state.blocked.eventId}'s, not ${decision.eventId}'s`);
        }
      },
    },
  );

  for (;;) {
    const index = nextEventIndex(state);
    if (index >= 0) {
      const [event] = state.inbox.splice(index, 1);
      await apply(sync, event!);
      state.eventsApplied += 1;
      run.eventsApplied += 1;
      if (shouldContinueAsNew(sync)) {
        await condition(allHandlersFinished);
        log.info('continuing as new', { workflowId: input.workflowId, runs: state.runs, pending: state.inbox.length });
        await continueAsNew<typeof tenantSyncWorkflow>({ ...input, state });
      }
      continue;
    }
    if (state.tenantDeleted && state.inbox.length === 0) break;
    const waiting = state.inbox.length > 0;
    setStep(sync, waiting ? 'waiting-for-dependency' : 'idle', waiting ? `${state.inbox.length} event(s) wait for their tenant or application` : undefined);
    setSearchStatus(sync, waiting ? 'waiting-for-dependency' : 'synced');
    const seen = run.received;
    await condition(() => run.received !== seen);
  }
  await condition(allHandlersFinished);
  setStep(sync, 'ended', 'tenant deleted');
  setSearchStatus(sync, 'tenant-deleted');
  return snapshot(input, state);
}

function receive(sync: Sync, event: SyncEventRef): void {
  const { seenEventIds, inbox } = sync.state;
  if (seenEventIds.includes(event.eventId)) {
    log.info('duplicate sync event ignored', { workflowId: sync.input.workflowId, eventId: event.eventId });
    return;
  }
  seenEventIds.push(event.eventId);
  if (seenEventIds.length > SEEN_EVENT_LIMIT) seenEventIds.shift();
  inbox.push(event);
  sync.run.received += 1;
}

function shouldContinueAsNew(sync: Sync): boolean {
  const threshold = sync.input.settings.continueAsNewAfterEvents;
  return workflowInfo().continueAsNewSuggested || (threshold > 0 && sync.run.eventsApplied >= threshold);
}

function setStep(sync: Sync, name: SyncStepName, reason?: string): void {
  const { step } = sync.state;
  if (step.name === name && step.reason === reason) return;
  sync.state.step = { name, sinceMs: Date.now(), ...(reason ? { reason } : {}) };
}

function setSearchStatus(sync: Sync, status: SyncSearchStatus): void {
  if (sync.state.searchStatus === status) return;
  sync.state.searchStatus = status;
  upsertSearchAttributes([{ key: FulfillmentStatusAttribute, value: status }]);
}

/** Every call of the event in order; each failed one waits for a decision. */
async function apply(sync: Sync, event: SyncEventRef): Promise<void> {
  setSearchStatus(sync, 'syncing');
  let complete = true;
  for (let call = 0; call < event.calls; call += 1) {
    for (let tries = 1; ; tries += 1) {
      const outcome = await kitCall(sync, event, call);
      if (outcome.kind === 'success') break;
      await reportFailure(sync, event, call, tries, outcome);
      const decision = await waitForDecision(sync, event, call, tries, outcome);
      if (decision.action === 'skip') {
        await records.skipKitCall({ eventId: event.eventId, call, requestedBy: decision.requestedBy, reason: decision.reason });
        complete = false;
        break;
      }
      log.info('retrying a Kit call', { workflowId: sync.input.workflowId, eventId: event.eventId, call: call + 1, requestedBy: decision.requestedBy });
    }
  }
  // What exists at the merchant changes only when the whole event reached it.
  if (complete) applied(sync.state, event);
  sync.state.lastSync = { eventId: event.eventId, atMs: Date.now() };
}

/**
 * One Kit call as one attempt on the timeline: the activity records it; when it could not
 * (the activity failed inside Temporal, or its write did not land), the workflow does.
 */
async function kitCall(sync: Sync, event: SyncEventRef, call: number): Promise<KitCallOutcome> {
  const { input, state } = sync;
  const { operation } = event;
  state.attempts += 1;
  const request: KitSyncCall = {
    workflowId: input.workflowId,
    instanceId: input.instanceId,
    tenantId: input.tenantId,
    orderId: input.orderId,
    eventId: event.eventId,
    call,
    testFlag: event.testFlag,
    attempt: {
      attemptId: uuid4(),
      workflowId: input.workflowId,
      orderId: input.orderId,
      orderLineId: input.orderLineId,
      merchantId: input.merchantId,
      scenario: 'tenant-sync',
      attempt: state.attempts,
      businessId: `${event.eventId}#${call + 1}`,
    },
  };
  setStep(sync, 'calling-merchant', `${operation} call ${call + 1} of ${event.calls} (event ${event.eventId})`);
  const startedAtMs = Date.now();
  let outcome: KitCallOutcome;
  try {
    outcome = await kit.callKitSync(request);
  } catch (error) {
    const failure = activityFailure(error);
    if (failure === undefined) throw error;
    outcome = { kind: 'failure', activity: operation, operation, startedAtMs, latencyMs: Date.now() - startedAtMs, error: failure };
  }
  if (!outcome.attemptRecorded) await records.recordKitCall({ call: request, outcome });
  return outcome;
}

const describe = (outcome: KitCallOutcome): string => [outcome.resultCode, outcome.error ?? outcome.resultMsg].filter(Boolean).join(' ') || 'no answer';

/** Tells the merchant (in-site message and e-mail) and the buyer's admin (order-system callback), once per failed attempt. */
async function reportFailure(sync: Sync, event: SyncEventRef, call: number, tries: number, outcome: KitCallOutcome): Promise<void> {
  const { input } = sync;
  const key = stepKey(input.workflowId, `kit-failure:${event.eventId}:${call + 1}:${tries}`);
  const what = `${outcome.operation} for tenant ${input.tenantId} of instance ${input.instanceId}`;
  await notices.notifyMerchant({
    idempotencyKey: key,
    merchantId: input.merchantId,
    subject: `Tenant sync failed: ${what}`,
    body:
      `The ${outcome.operation} call (${call + 1} of ${event.calls}, event ${event.eventId}) failed: ${describe(outcome)}. ` +
      'Kit sync calls are not retried automatically: the tenant’s later sync events wait until the call is retried or skipped.',
  });
  try {
    await orderSystem.notifyOrderSystem({
      type: 'tenant_sync.failed',
      idempotencyKey: key,
      data: {
        instanceId: input.instanceId,
        orderId: input.orderId,
        tenantId: input.tenantId,
        eventId: event.eventId,
        operation: outcome.operation,
        call: call + 1,
        calls: event.calls,
        error: describe(outcome),
        ...(outcome.resultCode ? { resultCode: outcome.resultCode } : {}),
      },
    });
  } catch (error) {
    // The buyer's admin is not told (the order system refused the callback); the merchant was, and operators see the call waiting.
    log.warn('order system refused the tenant sync failure callback', { workflowId: input.workflowId, eventId: event.eventId, error: String(error) });
  }
}

async function waitForDecision(sync: Sync, event: SyncEventRef, call: number, tries: number, outcome: KitCallOutcome): Promise<SyncDecision> {
  const { state, run } = sync;
  const error = describe(outcome);
  state.blocked = {
    eventId: event.eventId,
    kind: event.kind,
    operation: outcome.operation,
    call: call + 1,
    calls: event.calls,
    error,
    ...(outcome.resultCode ? { resultCode: outcome.resultCode } : {}),
    sinceMs: Date.now(),
    tries,
  };
  setStep(sync, 'waiting-for-decision', `${outcome.operation} call ${call + 1} of ${event.calls} failed: ${error}; retry or skip`);
  setSearchStatus(sync, 'waiting-for-decision');
  await condition(() => run.decision !== undefined);
  const decision = run.decision!;
  run.decision = undefined;
  state.blocked = undefined;
  setSearchStatus(sync, 'syncing');
  return decision;
}
