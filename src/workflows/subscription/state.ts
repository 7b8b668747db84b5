/**
 * The state of one subscription: one plain, JSON-safe object. It is carried whole from one
 * run to the next at continue-as-new, so a field added here cannot be forgotten on the way.
 * Behaviour lives in the small modules beside it (status, restart, inbox, records) and in
 * the scenario steps.
 */
import type { FulfillmentStatus, LifecycleEvent, OrderPaidEvent, PaidOrder, StepInfo, SubscriptionSnapshot, SubscriptionWorkflowInput } from './messages';

/** Everything that reaches the subscription's inbox, in arrival order. */
export type SubscriptionEvent = { kind: 'order.paid'; eventId: string; event: OrderPaidEvent } | LifecycleEvent;

export type FreezeReason = 'expiry' | 'violation';

/** What operators search by in the Web UI: `retrying` marks subscriptions whose merchant is failing. */
export type SearchStatus = FulfillmentStatus | 'retrying' | 'waiting-for-restart';

export interface SubscriptionState {
  order?: PaidOrder;
  status: FulfillmentStatus;
  /** The FulfillmentStatus search attribute as last written. */
  searchStatus: SearchStatus;
  instanceId?: string;
  failureReason?: string;
  step: StepInfo;
  /** Merchant calls made so far (numbers the attempts on the timeline). */
  attempts: number;
  /** The specification in force: an upgrade changes the SKU, a renewal may change the product. */
  skuCode: string;
  productId: string;
  expireAtMs?: number;
  trial: boolean;
  /** Trial reminder lead times already sent for the current expiry. */
  remindersSent: number[];
  /** Why the instance is frozen; it is unfrozen only when no reason is left. */
  frozenBy: FreezeReason[];
  frozenSinceMs?: number;
  /** Events received and not yet applied, in arrival order. */
  inbox: SubscriptionEvent[];
  /** Event ids remembered for de-duplication; the oldest fall out (the API de-duplicates too). */
  seenEventIds: string[];
  /** How many runs this subscription has had (continue-as-new). */
  runs: number;
}

/** The state a run handed over before the state became one object (histories recorded then still replay). */
export type LegacyCarriedState = Omit<SubscriptionState, 'order' | 'searchStatus' | 'failureReason' | 'inbox'> & {
  order: PaidOrder;
  pending: LifecycleEvent[];
};

/** The first run's state, or the state the previous run handed over (one more run). */
export function initialState(input: SubscriptionWorkflowInput): SubscriptionState {
  if (input.state) return { ...input.state, runs: input.state.runs + 1 };
  if (input.carried) return fromLegacy(input.carried);
  return {
    status: 'awaiting-order',
    searchStatus: 'awaiting-order',
    step: { name: 'waiting-for-order', sinceMs: Date.now() },
    attempts: 0,
    skuCode: '',
    productId: '',
    trial: false,
    remindersSent: [],
    frozenBy: [],
    inbox: [],
    seenEventIds: [],
    runs: 1,
  };
}

function fromLegacy(carried: LegacyCarriedState): SubscriptionState {
  const { pending, ...rest } = carried;
  return { ...rest, searchStatus: carried.status, inbox: pending, runs: carried.runs + 1 };
}

export function snapshot(workflowId: string, state: SubscriptionState): SubscriptionSnapshot {
  return {
    workflowId,
    status: state.status,
    orderId: state.order?.orderId,
    orderLineId: state.order?.orderLineId,
    merchantId: state.order?.merchantId,
    instanceId: state.instanceId,
    skuCode: state.skuCode || undefined,
    expireTime: state.expireAtMs === undefined ? undefined : new Date(state.expireAtMs).toISOString(),
    trial: state.trial,
    frozenBy: [...state.frozenBy],
    step: state.step,
    attempts: state.attempts,
    failureReason: state.failureReason,
    runs: state.runs,
    pendingEvents: state.inbox.length,
  };
}
