/**
 * The tenant sync workflow's messages: its input, the events it receives (a signal), the
 * operator's decision on a failed call (an update), and the status query. Events carry only
 * a reference to the stored event (sync_events): users lists and secrets stay in PostgreSQL,
 * out of the history. All JSON-plain.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { KitOperation, KitTestFlag, SyncEventKind } from '../../protocol/kit';
import type { TenantSyncState } from './state';

/** One accepted sync event, as the workflow sees it: what it needs to be ordered and sent. */
export interface SyncEventRef {
  /** The webhook-id; sync_events holds the event under it. */
  eventId: string;
  acceptedAtMs: number;
  kind: SyncEventKind;
  /** The Kit operation the event is sent as (KIT_OPERATION_OF[kind]). */
  operation: KitOperation;
  /** 0 delete, 1 add, 2 modify; absent for the full organisation tree. */
  flag?: 0 | 1 | 2;
  /** The application an application or users event is about. */
  appId?: string;
  /** Kit calls the event takes (users: one per 500). */
  calls: number;
  testFlag: KitTestFlag;
}

/** Settings from configuration, passed in the input. */
export interface TenantSyncSettings {
  /** Continue-as-new after this many applied events (0: only when Temporal suggests it). */
  continueAsNewAfterEvents: number;
}

export interface TenantSyncWorkflowInput {
  workflowId: string;
  instanceId: string;
  tenantId: string;
  merchantId: string;
  /** The instance's order and line: the timeline (call_attempts) the calls are recorded on. */
  orderId: string;
  orderLineId: string;
  settings: TenantSyncSettings;
  /** The state the previous run handed over through continue-as-new. */
  state?: TenantSyncState;
}

/** An operator's (or the buyer's admin's) decision on the failed call the tenant waits behind. */
export interface SyncDecision {
  action: 'retry' | 'skip';
  requestedBy: string;
  reason: string;
  /** When given, the decision applies only if this event's call is the one waiting. */
  eventId?: string;
}

export interface SyncDecisionAnswer {
  action: 'retry' | 'skip';
  eventId: string;
  /** 1-based: which of the event's calls. */
  call: number;
}

/** The failed call the tenant's later events wait behind. */
export interface BlockedCall {
  eventId: string;
  kind: SyncEventKind;
  operation: KitOperation;
  /** 1-based, of `calls`. */
  call: number;
  calls: number;
  error: string;
  resultCode?: string;
  sinceMs: number;
  /** Attempts of this call so far. */
  tries: number;
}

export type SyncStepName = 'idle' | 'waiting-for-dependency' | 'calling-merchant' | 'waiting-for-decision' | 'ended';

export interface TenantSyncSnapshot {
  workflowId: string;
  instanceId: string;
  tenantId: string;
  merchantId: string;
  tenantExists: boolean;
  applications: string[];
  pendingEvents: Array<{ eventId: string; kind: SyncEventKind; flag?: number; waitingFor?: string }>;
  blockedCall: BlockedCall | null;
  lastSync: { eventId: string; atMs: number } | null;
  step: { name: SyncStepName; sinceMs: number; reason?: string };
  eventsApplied: number;
  attempts: number;
  runs: number;
}

/** Every sync event, in arrival order; a repeated eventId has one effect. */
export const syncEventSignal = defineSignal<[SyncEventRef]>('syncEvent');
/** Retry or skip the failed call: an update, so the caller learns whether a call was waiting. */
export const syncDecisionUpdate = defineUpdate<SyncDecisionAnswer, [SyncDecision]>('syncDecision');
export const syncStatusQuery = defineQuery<TenantSyncSnapshot>('syncStatus');
