/**
 * The fulfilment callbacks we send to the marketplace's order system: one member per
 * callback type, each with exactly the data the order system reads. Workflows build them;
 * the notifyOrderSystem activity signs and delivers them (Standard Webhooks).
 */

interface CallbackBase {
  /** Sent as the webhook-id so the order system can discard repeats. */
  idempotencyKey: string;
}

/** The merchant created the instance: the order line is fulfilled. */
export interface InstanceProvisionedCallback extends CallbackBase {
  type: 'instance.provisioned';
  data: { orderId: string; orderLineId: string; instanceId: string };
}

/** A paid order could not be fulfilled (create or upgrade window ran out, or nothing left to apply it to): refund it. */
export interface UnsubscribeRequestedCallback extends CallbackBase {
  type: 'order.unsubscribe_requested';
  data: { orderId: string; orderLineId: string; refund: true; amount?: string; currency?: string; reason: string };
}

export interface InstanceRenewedCallback extends CallbackBase {
  type: 'instance.renewed';
  data: { instanceId?: string; orderId: string; orderLineId: string; scene: string; expireTime: string };
}

export interface InstanceUpgradedCallback extends CallbackBase {
  type: 'instance.upgraded';
  data: { instanceId?: string; orderId: string; orderLineId: string; skuCode: string };
}

/** Frozen at expiry or for a violation; unfrozen by a renewal or the violation's lift. */
export interface InstanceFreezeCallback extends CallbackBase {
  type: 'instance.frozen' | 'instance.unfrozen';
  data: { instanceId?: string; orderId: string; reason: 'expiry' | 'violation' };
}

export interface InstanceReleasedCallback extends CallbackBase {
  type: 'instance.released';
  /** orderId and orderLineId name the unsubscribe order when an unsubscription caused the release. */
  data: { instanceId?: string; orderId: string; orderLineId?: string; cause: 'retention-ended' | 'trial-ended' | 'unsubscribed' };
}

/** A Kit sync call failed (spec §4): the buyer's enterprise admin decides whether to retry or skip it. */
export interface TenantSyncFailedCallback extends CallbackBase {
  type: 'tenant_sync.failed';
  data: { instanceId: string; orderId: string; tenantId: string; eventId: string; operation: string; call: number; calls: number; error: string; resultCode?: string };
}

/**
 * The verdict on a customer's refund request (spec §9.3): approved with the amount refunded, or
 * refused with the rule that refused it.
 */
export interface RefundDecidedCallback extends CallbackBase {
  type: 'order.refund_decided';
  data: {
    orderId: string;
    orderLineId: string;
    refundOrderId: string;
    approved: boolean;
    /** `full`: the 5-day no-reason refund; `negotiated`: the amount the merchant agreed to; `merchant_exit`: the marketplace's pro-rata refund on a merchant's exit. */
    kind?: 'full' | 'negotiated' | 'merchant_exit';
    amount?: string;
    currency?: string;
    /** The rule that refused it; `merchant_exit` on an exit's refund. */
    rule?: string;
  };
}

export type OrderSystemCallback =
  | InstanceProvisionedCallback
  | UnsubscribeRequestedCallback
  | InstanceRenewedCallback
  | InstanceUpgradedCallback
  | InstanceFreezeCallback
  | InstanceReleasedCallback
  | TenantSyncFailedCallback
  | RefundDecidedCallback;

export type OrderSystemEventType = OrderSystemCallback['type'];
