/**
 * The state of one tenant's sync: one plain, JSON-safe object, carried whole at
 * continue-as-new (pending events included), changed through the functions here.
 */
import type { BlockedCall, SyncEventRef, SyncStepName, TenantSyncSnapshot, TenantSyncWorkflowInput } from './messages';

/** What operators search by in the Web UI (FulfillmentStatus). */
export type SyncSearchStatus = 'syncing' | 'synced' | 'waiting-for-dependency' | 'waiting-for-decision' | 'tenant-deleted';

export interface TenantSyncState {
  /** The tenant exists at the merchant (its add succeeded and no delete since). */
  tenantExists: boolean;
  /** The tenant was deleted at the merchant: with nothing pending, the workflow ends. */
  tenantDeleted: boolean;
  /** Applications that exist at the merchant. */
  apps: string[];
  /** Events received and not yet applied, in arrival order. */
  inbox: SyncEventRef[];
  /** Event ids remembered for de-duplication; the oldest fall out (the API de-duplicates too). */
  seenEventIds: string[];
  blocked?: BlockedCall;
  lastSync?: { eventId: string; atMs: number };
  step: { name: SyncStepName; sinceMs: number; reason?: string };
  searchStatus: SyncSearchStatus;
  /** Kit calls made so far (numbers the attempts on the timeline). */
  attempts: number;
  eventsApplied: number;
  runs: number;
}

export function initialState(input: TenantSyncWorkflowInput): TenantSyncState {
  if (input.state) return { ...input.state, runs: input.state.runs + 1 };
  return {
    tenantExists: false,
    tenantDeleted: false,
    apps: [],
    inbox: [],
    seenEventIds: [],
    step: { name: 'idle', sinceMs: Date.now() },
    searchStatus: 'syncing',
    attempts: 0,
    eventsApplied: 0,
    runs: 1,
  };
}

/** What must exist at the merchant before the event may be sent, or undefined when nothing is missing. */
export function missingDependency(state: TenantSyncState, event: SyncEventRef): string | undefined {
  if (event.kind === 'tenant' || event.flag === 0) return undefined;
  if (!state.tenantExists) return 'tenant';
  if (event.kind === 'users' && !state.apps.includes(event.appId ?? '')) return `application ${event.appId ?? ''}`;
  return undefined;
}

/** Events of one stream keep their order among themselves: the tenant, each application, each application's users, the organisations. */
function stream(event: SyncEventRef): string {
  if (event.kind === 'application' || event.kind === 'users') return `${event.kind}:${event.appId ?? ''}`;
  return event.kind === 'organization' ? 'organizations' : event.kind;
}

/**
 * The next event to apply: the earliest whose dependencies exist at the merchant and that no
 * earlier, waiting event of its stream precedes. -1 when every pending event waits.
 */
export function nextEventIndex(state: TenantSyncState): number {
  const waiting = new Set<string>();
  for (const [index, event] of state.inbox.entries()) {
    const key = stream(event);
    if (!waiting.has(key) && missingDependency(state, event) === undefined) return index;
    waiting.add(key);
  }
  return -1;
}

/** What an event changed at the merchant, once all its calls succeeded. */
export function applied(state: TenantSyncState, event: SyncEventRef): void {
  if (event.kind === 'tenant') {
    state.tenantExists = event.flag !== 0;
    state.tenantDeleted = event.flag === 0;
    if (event.flag === 0) state.apps = [];
  } else if (event.kind === 'application' && event.appId) {
    state.apps = state.apps.filter((appId) => appId !== event.appId);
    if (event.flag !== 0) state.apps.push(event.appId);
  }
}

export function snapshot(input: TenantSyncWorkflowInput, state: TenantSyncState): TenantSyncSnapshot {
  return {
    workflowId: input.workflowId,
    instanceId: input.instanceId,
    tenantId: input.tenantId,
    merchantId: input.merchantId,
    tenantExists: state.tenantExists,
    applications: [...state.apps],
    pendingEvents: state.inbox.map((e) => {
      const missing = missingDependency(state, e);
      return { eventId: e.eventId, kind: e.kind, ...(e.flag === undefined ? {} : { flag: e.flag }), ...(missing ? { waitingFor: missing } : {}) };
    }),
    blockedCall: state.blocked ?? null,
    lastSync: state.lastSync ?? null,
    step: state.step,
    eventsApplied: state.eventsApplied,
    attempts: state.attempts,
    runs: state.runs,
  };
}
