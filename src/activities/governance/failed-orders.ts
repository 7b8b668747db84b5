/**
 * Interface sanctions for failed orders (spec §4): when more than 5 orders of a product fail
 * in one Beijing calendar month because of interface errors, the product is delisted (actor
 * 'interface-sanctions') and the merchant is told why, with the orders. The count is read
 * from the order lines the subscription workflows mark failed; the sanction is taken once per
 * product and month (failed_order_sanctions), so the seventh failure neither delists nor
 * notifies again. It runs in the activity that marks a line failed, so no workflow changes.
 */
import type { Db } from '../../db/pool';
import {
  FAILED_ORDERS_MONTHLY_LIMIT,
  failedLineMonth,
  findFailedOrderSanction,
  insertFailedOrderSanction,
  productsOverFailedOrderLimit,
  setFailedOrderSanctionChange,
  type FailedOrderSanction,
} from '../../db/repositories/governance/failed-orders';
import { lockProductListing, setProductListing } from '../../db/repositories/governance/listing';
import { productTransition, type MerchantState, type ProductState } from '../../shared/listing-transitions';
import { createNotificationActivities, type NotificationDeps } from '../notices/notifications';

/** Who the delistings for failed orders are recorded under. */
export const INTERFACE_SANCTIONS_ACTOR = 'interface-sanctions';

export interface FailedOrderLine {
  orderId: string;
  orderLineId: string;
  productId: string;
}

export type FailedOrderSanctionDeps = NotificationDeps & { db: Db };

export function createFailedOrderSanctions(deps: FailedOrderSanctionDeps) {
  const { notifyMerchant } = createNotificationActivities(deps);
  const { db } = deps;

  /** Takes the month's sanction when this failure put the product over the limit; the sanction of the month, if any. */
  async function sanction(line: FailedOrderLine): Promise<FailedOrderSanction | undefined> {
    return db.withTransaction(async (q) => {
      const month = await failedLineMonth(q, line);
      if (!month) return undefined;
      const taken = await findFailedOrderSanction(q, line.productId, month);
      if (taken) return taken;
      const [over] = await productsOverFailedOrderLimit(q, month, FAILED_ORDERS_MONTHLY_LIMIT, line.productId);
      if (!over) return undefined;
      // Under the product's row lock, so two failures at once take one sanction between them.
      const product = await lockProductListing(q, { merchantId: over.merchantId, productId: line.productId });
      const recorded = await insertFailedOrderSanction(q, { productId: line.productId, month, merchantId: over.merchantId, failedCount: over.failedCount, orders: over.orders });
      if (!recorded || !product) return recorded ?? (await findFailedOrderSanction(q, line.productId, month));
      // A product already off sale stays as it is (an operator's delisting, or a permanent one).
      if (!productTransition(product.state as ProductState, 'delisted', product.merchantState as MerchantState).allowed) return recorded;
      const change = await setProductListing(q, {
        merchantId: over.merchantId,
        productId: line.productId,
        from: product.state,
        to: 'delisted',
        until: null,
        actor: INTERFACE_SANCTIONS_ACTOR,
        reason: `${over.failedCount} orders failed in ${month} (Beijing time) because of interface errors: more than ${FAILED_ORDERS_MONTHLY_LIMIT} (spec §4)`,
      });
      await setFailedOrderSanctionChange(q, { productId: line.productId, month, changeId: change.changeId });
      return { ...recorded, changeId: change.changeId };
    });
  }

  return {
    /**
     * After an order line turned failed: the sanction, when the product went over the limit,
     * and the merchant's notice of it (in-site and e-mail, once per product and month: a
     * retry or a later failure finds the notice already written).
     */
    async afterOrderLineFailed(line: FailedOrderLine): Promise<FailedOrderSanction | undefined> {
      const taken = await sanction(line);
      if (!taken?.changeId) return taken;
      const orders = taken.orders.map((o) => `- ${o.orderId} (line ${o.orderLineId}), failed ${o.failedAt}${o.failureReason ? `: ${o.failureReason}` : ''}`);
      await notifyMerchant({
        idempotencyKey: `interface-sanctions:${taken.productId}:${taken.month}`,
        merchantId: taken.merchantId,
        subject: `Product ${taken.productId} delisted: ${taken.failedCount} orders failed in ${taken.month}`,
        body:
          `Your production interface failed ${taken.failedCount} orders of product ${taken.productId} in ${taken.month} (Beijing time): ` +
          `each create ran out of its window and the order was refunded. More than ${FAILED_ORDERS_MONTHLY_LIMIT} such orders in a calendar month ` +
          `delist the product (KooGallery rules, monitoring and sanctions). The orders:\n${orders.join('\n')}\n` +
          'Fix the interface and ask the marketplace operators to list the product again.',
      });
      return taken;
    },
  };
}
