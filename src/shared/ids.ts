/** Workflow ids are pure functions of business keys (one long-lived workflow per entity). */

export interface SubscriptionKey {
  orderId: string;
  /** Order line for periodic and one-time orders; the product for pay-per-use items and packages. */
  lineKey: string;
}

/** The charging modes whose subscriptions are keyed by their product (see keyedByProduct). */
export const KEYED_BY_PRODUCT: readonly string[] = ['ON_DEMAND', 'ON_DEMAND_PKG'];

/**
 * Whether a subscription is keyed by its product rather than its order line. Pay-per-use
 * orders create one instance per billing item (spec §2.1), and up to 30 stop-when-used-up
 * packages can be bought in one order, each its own instance (§6); items of either kind
 * may share an order line, so the line alone would make them one subscription.
 */
export function keyedByProduct(chargingMode: string): boolean {
  return KEYED_BY_PRODUCT.includes(chargingMode);
}

/** orderId + productId for pay-per-use items and packages; orderId + orderLineId for every other order. */
export function subscriptionKey(order: { orderId: string; orderLineId: string; productId: string; chargingMode: string }): SubscriptionKey {
  return { orderId: order.orderId, lineKey: keyedByProduct(order.chargingMode) ? order.productId : order.orderLineId };
}

export function subscriptionWorkflowId(key: SubscriptionKey): string {
  return `subscription:${key.orderId}:${key.lineKey}`;
}

/** Idempotency key of one step of one workflow, sent with every external side effect. */
export function stepKey(workflowId: string, step: string): string {
  return `${workflowId}:${step}`;
}
