/**
 * One order line, one product — except pay-per-use billing items and stop-when-used-up
 * packages, which may share a line (each its own subscription, keyed by its product). Any
 * other order's subscription is keyed by its line alone, so a second product on the line
 * would reach the first one's workflow as if it were the same order.
 */
import type { Queryable } from '../../db/pool';
import { productsOnOrderLine } from '../../db/repositories/subscription/orders';
import { keyedByProduct } from '../../shared/ids';
import type { PaidOrder } from '../../workflows/subscription/messages';
import { AppError } from '../errors';

/**
 * 409 when the order line was already paid for another product. Call it inside the
 * transaction that inserts the line: it takes a lock on the line first, so two orders for
 * different products arriving at the same instant cannot both pass.
 */
export async function refuseOtherProductOnLine(tx: Queryable, order: PaidOrder): Promise<void> {
  await tx.query('select pg_advisory_xact_lock(hashtext($1::text))', [`order-line:${order.orderId}:${order.orderLineId}`]);
  const existing = await productsOnOrderLine(tx, order);
  const clash = existing.find((line) => line.productId !== order.productId && !(keyedByProduct(order.chargingMode) && keyedByProduct(line.chargingMode)));
  if (!clash) return;
  throw new AppError(409, 'order_line_conflict', `order line ${order.orderId}/${order.orderLineId} was already paid for product ${clash.productId}`, [
    { field: 'data.productId', reason: `the order line was already paid for product ${clash.productId}` },
  ]);
}
