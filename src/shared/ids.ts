/** Workflow ids are pure functions of business keys (one long-lived workflow per entity). */

export interface SubscriptionKey {
  orderId: string;
  /** Order line for periodic and one-time orders; the product for pay-per-use ones. */
  lineKey: string;
}

/** Pay-per-use: one instance per billing item, several of which may share an order line. */
export function isPayPerUse(chargingMode: string): boolean {
  return chargingMode === 'ON_DEMAND';
}

/**
 * Pay-per-use orders create one instance per billing item, keyed by orderId + productId
 * (spec §2.1); every other order is keyed by orderId + orderLineId.
 */
export function subscriptionKey(order: { orderId: string; orderLineId: string; productId: string; chargingMode: string }): SubscriptionKey {
  return { orderId: order.orderId, lineKey: isPayPerUse(order.chargingMode) ? order.productId : order.orderLineId };
}

export function subscriptionWorkflowId(key: SubscriptionKey): string {
  return `subscription:${key.orderId}:${key.lineKey}`;
}

/** Idempotency key of one step of one workflow, sent with every external side effect. */
export function stepKey(workflowId: string, step: string): string {
  return `${workflowId}:${step}`;
}
