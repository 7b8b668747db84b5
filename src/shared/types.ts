/**
 * Types that cross the workflow boundary: workflow inputs, signal payloads, activity
 * inputs and results. All JSON-plain (no Date, Map or class instances) because they are
 * stored in workflow histories.
 */
import type { PolicyTable } from './policy';

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
export type RenewalScene = 'RENEWAL' | 'TRIAL_TO_FORMAL' | 'UNSUBSCRIBE_RENEWAL_PERIOD' | 'RENEWAL_CHANGE';

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
export interface StepInfo {
  name: string;
  sinceMs: number;
  reason?: string;
}

export interface SubscriptionWorkflowInput {
  workflowId: string;
  policy: PolicyTable;
  lifecycle: LifecycleSettings;
  /** The state a previous run handed over through continue-as-new. */
  carried?: CarriedState;
}

/** Everything a subscription run hands to the next one (continue-as-new). */
export interface CarriedState {
  order: PaidOrder;
  status: FulfillmentStatus;
  instanceId?: string;
  skuCode: string;
  productId: string;
  expireAtMs?: number;
  trial: boolean;
  remindersSent: number[];
  frozenBy: Array<'expiry' | 'violation'>;
  frozenSinceMs?: number;
  attempts: number;
  seenEventIds: string[];
  pending: LifecycleEvent[];
  step: StepInfo;
  runs: number;
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

export type MerchantCallOutcomeKind = 'success' | 'processing' | 'failure';

/** What one merchant call came to; never carries credentials. */
export interface MerchantCallOutcome {
  kind: MerchantCallOutcomeKind;
  activity: string;
  /** Epoch ms when the request was sent. */
  startedAtMs: number;
  latencyMs: number;
  resultCode?: string;
  resultMsg?: string;
  httpStatus?: number;
  error?: string;
  instanceId?: string;
}

export interface NewInstanceCall {
  workflowId: string;
  merchantId: string;
  orderId: string;
  orderLineId: string;
  businessId: string;
  /**
   * Pay-per-use only: the billing item. The V2 table has no productId, yet merchants must
   * key pay-per-use creates on orderId + productId (spec §2.1), so it is sent as an extra
   * field (merchants ignore fields they do not know).
   */
  productId?: string;
  testFlag?: string;
}

export interface QueryInstanceCall {
  workflowId: string;
  merchantId: string;
  orderId: string;
  orderLineId: string;
  productId: string;
  instanceId: string;
  testFlag?: string;
}

/** The result of a queryInstance poll: ready once the merchant returned the instance's info. */
export interface QueryInstanceOutcome extends MerchantCallOutcome {
  ready: boolean;
}

export interface CallAttemptRecord {
  /** Unique per attempt (uuid from the workflow), so a retried write is not a second row. */
  attemptId: string;
  workflowId: string;
  orderId: string;
  orderLineId: string;
  merchantId: string;
  scenario: string;
  attempt: number;
  businessId?: string;
  outcome: MerchantCallOutcome;
}

export interface OrderLineStatusUpdate {
  orderId: string;
  orderLineId: string;
  /** Pay-per-use items of one order may share a line; the product tells them apart. */
  productId: string;
  status: FulfillmentStatus;
  instanceId?: string;
  failureReason?: string;
}

export interface InstanceRecord {
  instanceId: string;
  /** The subscription the instance belongs to. */
  workflowId: string;
  merchantId: string;
  orderId: string;
  orderLineId: string;
  productId: string;
  skuCode?: string;
  status: 'active' | 'frozen' | 'released';
  expireTime?: string;
}

/** One call to a merchant for an existing instance (refresh, status, release, upgrade, check). */
export interface InstanceCall {
  workflowId: string;
  merchantId: string;
  instanceId: string;
  testFlag?: string;
}

export interface RefreshInstanceCall extends InstanceCall {
  scene: RenewalScene;
  orderId: string;
  orderLineId: string;
  expireTime: string;
  productId?: string;
}

export interface UpdateInstanceStatusCall extends InstanceCall {
  status: 'FREEZE' | 'UNFREEZE';
}

export interface ReleaseInstanceCall extends InstanceCall {
  /** The unsubscribe order, when the release comes from an unsubscription (spec §2.5). */
  orderId?: string;
  orderLineId?: string;
}

export interface UpgradeInstanceCall extends InstanceCall {
  orderId: string;
  orderLineId: string;
}

export interface ChangeInstanceCheckCall extends InstanceCall {
  productInfo: { productId: string; skuCode: string; productName: string; linearValue?: number };
}

export interface SubscriptionOrderRecord {
  orderId: string;
  orderLineId: string;
  workflowId: string;
  kind: 'renewal' | 'upgrade' | 'unsubscribe';
  scene?: string;
  status: 'pending' | 'completed' | 'failed' | 'refunded';
  detail?: Record<string, unknown>;
}

export interface CustomerNotification {
  idempotencyKey: string;
  customerId: string;
  email?: string;
  subject: string;
  body: string;
}

export interface MerchantNotification {
  idempotencyKey: string;
  merchantId: string;
  subject: string;
  body: string;
}

export type OrderSystemEventType =
  | 'instance.provisioned'
  | 'order.unsubscribe_requested'
  | 'instance.renewed'
  | 'instance.upgraded'
  | 'instance.frozen'
  | 'instance.unfrozen'
  | 'instance.released'
  | 'subscription.waiting_for_restart';

export interface OrderSystemCallback {
  /** Sent as the webhook-id so the order system can discard repeats. */
  idempotencyKey: string;
  type: OrderSystemEventType;
  data: Record<string, unknown>;
}
