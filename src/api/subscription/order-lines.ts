/**
 * One order line, one product — except pay-per-use billing items and stop-when-used-up
 * packages, which may share a line (each its own subscription, keyed by its product). Any
 * other order's subscription is keyed by its line alone, so a second product on the line
 * would reach the first one's workflow as if it were the same order.
 *
 * The check runs in PostgreSQL, in the statement that stores the order, under a lock on the
 * line (`order_line_clash`), so two orders for different products arriving at the same
 * instant cannot both pass.
 */
import type { PaidOrder } from '../../workflows/subscription/messages';
import { AppError } from '../errors';

/** 409 naming the product that already holds the order line. */
export function orderLineConflict(order: PaidOrder, clashingProduct: string): AppError {
  return new AppError(409, 'order_line_conflict', `order line ${order.orderId}/${order.orderLineId} was already paid for product ${clashingProduct}`, [
    { field: 'data.productId', reason: `the order line was already paid for product ${clashingProduct}` },
  ]);
}
