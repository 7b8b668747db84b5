/**
 * The subscription workflow's messages: its input, the events it receives (signals), the
 * restart, the status query and the change-check update, with the types they carry. The
 * API's gateway and the workflow both import these, so a message has one definition.
 * All JSON-plain (no Date, Map or class instances): they are stored in workflow histories.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RefreshScene } from '../../protocol/requests';
import type { WindowStep } from '../windows/host';
import type { PolicyTable } from '../windows/policy';
import type { LegacyCarriedState, SubscriptionState } from './state';

export type ChargingMode = 'PERIOD' | 'ONE_TIME' | 'ON_DEMAND' | 'ON_DEMAND_PKG';

/** A paid order line as the marketplace's order system describes it. */
export interface PaidOrder {
  orderId: string;
  orderLineId: string;
  orderType: string;
  merchantId: string;
  productId: string;
  skuCode: string;
  chargingMode: ChargingMode;
  periodType?: string;
  periodNumber?: number;
  /** ISO 8601; absent for one-time and pay-per-use orders. */
  expireTime?: string;
  trialFlag: boolean;
  customer: { customerId: string; customerName?: string; email?: string };
  /** Decimal string, to keep money exact. */
  amount: string;
  currency: string;
  /** `1` marks a debug order (spec §1.6); passed through to the merchant. */
  testFlag?: string;
  /** Days the instance stays frozen after expiry before release (product or customer level, 1–15). */
  retentionDays: number;
}

/** The order.paid event, as delivered to the subscription workflow. */
export interface OrderPaidEvent {
  eventId: string;
  /** When our API accepted the webhook; failure windows are measured from here. */
  acceptedAtMs: number;
  order: PaidOrder;
}

/** An operator's manual retry. */
export interface RestartRequest {
  requestedBy: string;
  reason: string;
}

export type FulfillmentStatus = 'awaiting-order' | 'provisioning' | 'active' | 'frozen' | 'failed' | 'released';

/** Renewal scenes of refreshInstance (spec §2.3). */
export type RenewalScene = RefreshScene;

interface EventBase {
  eventId: string;
  /**
   * When our API accepted the event. The scenario's failure window opens here, or later if
   * the event waited behind another scenario (see WindowCall.startedAtMs).
   */
  acceptedAtMs: number;
}

/** A renewal, trial conversion, cancelled renewal period or change at renewal (spec §2.3). */
export interface OrderRenewedEvent extends EventBase {
  kind: 'order.renewed';
  scene: RenewalScene;
  /** The renewal (or conversion, or cancelled renewal) order. */
  orderId: string;
  orderLineId: string;
  /** ISO 8601. */
  expireTime: string;
  /** The new product when the period type changes (monthly → yearly). */
  productId?: string;
}

/** A paid upgrade order: new SKU or larger quantity (spec §2.6). */
export interface OrderUpgradedEvent extends EventBase {
  kind: 'order.upgraded';
  orderId: string;
  orderLineId: string;
  skuCode: string;
  amount: string;
  currency: string;
}

/** A successful unsubscription (refund): the instance is released (spec §2.5, §9.3). */
export interface OrderUnsubscribedEvent extends EventBase {
  kind: 'order.unsubscribed';
  orderId: string;
  orderLineId?: string;
}

export interface ViolationEvent extends EventBase {
  kind: 'instance.violation' | 'instance.violation_lifted';
  reason?: string;
}

export type LifecycleEvent = OrderRenewedEvent | OrderUpgradedEvent | OrderUnsubscribedEvent | ViolationEvent;

/** The renewal change check asked synchronously by the order system (spec §2.7). */
export interface ChangeCheckRequest {
  eventId: string;
  productId: string;
  skuCode: string;
  productName: string;
  linearValue?: number;
}

export interface ChangeCheckAnswer {
  allowed: boolean;
  reason: string;
  resultCode?: string;
}

/** Settings of the lifecycle that come from configuration, passed in the workflow input. */
export interface LifecycleSettings {
  /** How long before a trial ends the buyer and the merchant are reminded, largest first. */
  trialReminderLeadsMs: number[];
  /** How long the order system waits for a change check before the answer is "refused". */
  changeCheckDeadlineMs: number;
  /** Continue-as-new after this many applied events (0: only when Temporal suggests it). */
  continueAsNewAfterEvents: number;
}

/** Where a subscription waits, since when, and why: shown by queries, the API and the Web UI. */
export type StepName =
  | 'waiting-for-order'
  | WindowStep
  | 'active'
  | 'frozen'
  | 'retention'
  | 'frozen-for-violation'
  | 'unsubscribing'
  | 'failed'
  | 'released';

export interface StepInfo {
  name: StepName;
  sinceMs: number;
  reason?: string;
}

export interface SubscriptionWorkflowInput {
  workflowId: string;
  policy: PolicyTable;
  lifecycle: LifecycleSettings;
  /** The state the previous run handed over through continue-as-new. */
  state?: SubscriptionState;
  /** The same, as runs recorded before the state became one object handed it over. */
  carried?: LegacyCarriedState;
}

export interface SubscriptionSnapshot {
  workflowId: string;
  status: FulfillmentStatus;
  orderId?: string;
  orderLineId?: string;
  merchantId?: string;
  instanceId?: string;
  skuCode?: string;
  expireTime?: string;
  trial?: boolean;
  frozenBy?: Array<'expiry' | 'violation'>;
  step: StepInfo;
  attempts: number;
  failureReason?: string;
  /** How many runs this subscription has had (continue-as-new). */
  runs?: number;
  pendingEvents?: number;
}

/** The order system's "order paid" event; delivered with signal-with-start. */
export const orderPaidSignal = defineSignal<[OrderPaidEvent]>('orderPaid');
/** Every later marketplace event: renewal, upgrade, unsubscription, violation and its lift. */
export const lifecycleEventSignal = defineSignal<[LifecycleEvent]>('lifecycleEvent');
/** An operator's manual retry: the next merchant attempt happens at once. */
export const restartSignal = defineSignal<[RestartRequest]>('restart');
/** Where the subscription stands: status, instance, current step and since when. */
export const statusQuery = defineQuery<SubscriptionSnapshot>('status');
/** The renewal change check, answered synchronously. */
export const changeCheckUpdate = defineUpdate<ChangeCheckAnswer, [ChangeCheckRequest]>('changeCheck');
