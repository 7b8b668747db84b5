/**
 * order.paid as the subscription workflow receives it: the order system's fields checked
 * against the catalogue, with two of them narrowed to what may reach a merchant.
 */
import type { ProductRow } from '../../db/repositories/catalog/merchants';
import type { PaidOrder } from '../../workflows/subscription/messages';
import type { OrderPaidData } from './schemas';

/**
 * - `testFlag` reaches the merchant only as "1" (a debug order): production calls leave it
 *   out (spec §1.6), so a "0" from the order system is dropped here.
 * - Only periodic subscriptions expire. One-time, pay-per-use and package orders have no
 *   expiry in our lifecycle (no freeze, no release after retention), so an `expireTime`
 *   the order system sends with them is ignored; the raw event keeps it.
 * - A supervised product's period starts only at acceptance or at the merchant's actual
 *   activation time (spec §9.1), so its subscription gets no expiry from the order: the
 *   supervision hands the validity's end over when the customer accepts.
 */
export function toPaidOrder(data: OrderPaidData, product: ProductRow): PaidOrder {
  const expires = data.chargingMode === 'PERIOD' && !product.supervised;
  return {
    orderId: data.orderId,
    orderLineId: data.orderLineId,
    orderType: data.orderType,
    merchantId: data.merchantId,
    productId: data.productId,
    skuCode: data.skuCode,
    chargingMode: data.chargingMode,
    periodType: data.periodType,
    periodNumber: data.periodNumber,
    ...(expires && data.expireTime ? { expireTime: new Date(data.expireTime).toISOString() } : {}),
    trialFlag: data.trialFlag,
    customer: { customerId: data.customer.customerId, customerName: data.customer.customerName, email: data.customer.email },
    amount: data.amount,
    currency: data.currency,
    ...(data.testFlag ? { testFlag: '1' } : {}),
    retentionDays: data.retentionDays ?? product.retentionDays,
  };
}
