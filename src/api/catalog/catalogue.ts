/**
 * The catalogue as other capabilities' events see it: what a paid order names must be a
 * registered merchant's product, sold the way the order says.
 */
import type { Queryable } from '../../db/pool';
import { findMerchantProduct, type ProductRow } from '../../db/repositories/catalog/merchants';
import { AppError } from '../errors';

/** The product an order names, or a 422 naming the field of the order that we do not know. */
export async function productOnSale(db: Queryable, order: { merchantId: string; productId: string; chargingMode: string }): Promise<ProductRow> {
  const { merchantFound, product } = await findMerchantProduct(db, order);
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
  return product;
}
