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
  customer: { customerId: string; customerName?: string };
  /** Decimal string, to keep money exact. */
  amount: string;
  currency: string;
  /** `1` marks a debug order (spec §1.6); passed through to the merchant. */
  testFlag?: string;
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

export type FulfillmentStatus = 'awaiting-order' | 'provisioning' | 'active' | 'failed';

/** Where a subscription waits, since when, and why: shown by queries, the API and the Web UI. */
export interface StepInfo {
  name: string;
  sinceMs: number;
  reason?: string;
}

export interface SubscriptionWorkflowInput {
  workflowId: string;
  policy: PolicyTable;
}

export interface SubscriptionSnapshot {
  workflowId: string;
  status: FulfillmentStatus;
  orderId?: string;
  orderLineId?: string;
  merchantId?: string;
  instanceId?: string;
  step: StepInfo;
  attempts: number;
  failureReason?: string;
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
  status: FulfillmentStatus;
  instanceId?: string;
  failureReason?: string;
}

export interface InstanceRecord {
  instanceId: string;
  merchantId: string;
  orderId: string;
  orderLineId: string;
  productId: string;
  status: 'active' | 'frozen' | 'released';
  expireTime?: string;
}

export interface MerchantNotification {
  idempotencyKey: string;
  merchantId: string;
  subject: string;
  body: string;
}

export type OrderSystemEventType = 'instance.provisioned' | 'order.unsubscribe_requested';

export interface OrderSystemCallback {
  /** Sent as the webhook-id so the order system can discard repeats. */
  idempotencyKey: string;
  type: OrderSystemEventType;
  data: Record<string, unknown>;
}
