/** order.paid as the subscription workflow receives it: the order system's fields checked against the catalogue. */
import type { ProductRow } from '../../db/repositories/catalog/merchants';
import type { PaidOrder } from '../../workflows/subscription/messages';
import type { OrderPaidData } from './schemas';

export function toPaidOrder(data: OrderPaidData, product: ProductRow): PaidOrder {
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
    expireTime: data.expireTime ? new Date(data.expireTime).toISOString() : undefined,
    trialFlag: data.trialFlag,
    customer: { customerId: data.customer.customerId, customerName: data.customer.customerName, email: data.customer.email },
    amount: data.amount,
    currency: data.currency,
    testFlag: data.testFlag,
    retentionDays: data.retentionDays ?? product.retentionDays,
  };
}
