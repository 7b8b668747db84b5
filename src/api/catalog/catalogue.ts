/**
 * The catalogue as other capabilities' events see it: what a paid order names must be a
 * registered merchant's product, sold the way the order says, on sale from a merchant that
 * trades (listing states: api/governance). An order line already accepted (a redelivery) is
 * not refused for a listing change made since: live subscriptions keep running.
 */
import type { Queryable } from '../../db/pool';
import { findMerchantProduct, type ProductRow } from '../../db/repositories/catalog/merchants';
import { AppError } from '../errors';

/** The product an order names, or a 422 naming the field of the order that we do not know or that may not sell. */
export async function productOnSale(
  db: Queryable,
  order: { merchantId: string; productId: string; chargingMode: string; orderId?: string; orderLineId?: string },
): Promise<ProductRow> {
  const { merchantFound, merchantState, productState, lineAccepted, product } = await findMerchantProduct(db, order);
  if (!merchantFound) throw new AppError(422, 'unknown_merchant', `merchant ${order.merchantId} is not registered`, [{ field: 'data.merchantId', reason: 'not registered' }]);
  if (!product || product.merchantId !== order.merchantId) {
    throw new AppError(422, 'unknown_product', `product ${order.productId} is not registered for merchant ${order.merchantId}`, [
      { field: 'data.productId', reason: 'not registered for this merchant' },
    ]);
  }
  if (product.chargingMode !== order.chargingMode) {
    throw new AppError(422, 'charging_mode_mismatch', `product ${order.productId} is sold as ${product.chargingMode}, not ${order.chargingMode}`, [
      { field: 'data.chargingMode', reason: `product is ${product.chargingMode}` },
    ]);
  }
  if (!lineAccepted && merchantState !== 'active') {
    throw new AppError(422, 'merchant_not_trading', `merchant ${order.merchantId} is ${merchantState}, not active`, [{ field: 'data.merchantId', reason: `merchant is ${merchantState}` }]);
  }
  if (!lineAccepted && productState !== 'on_sale') {
    throw new AppError(422, 'product_not_on_sale', `product ${order.productId} is ${productState}, not on sale`, [{ field: 'data.productId', reason: `product is ${productState}` }]);
  }
  return product;
}
