/** A product's tax rate: what the next bill run puts on its lines (spec §9.2: invoices split by rate). */
import type { Queryable } from '../../pool';

export interface TaxRateChange {
  from: string;
  to: string;
}

/**
 * Sets the tax rate of a merchant's product under its row lock, answering the rate before and
 * after; undefined when the merchant has no such product.
 */
export async function setProductTaxRate(q: Queryable, merchantId: string, productId: string, taxRate: string): Promise<TaxRateChange | undefined> {
  const { rows } = await q.query<TaxRateChange>(
    `with before as (select product_id, tax_rate from products where product_id = $1::text and merchant_id = $2::text for update)
     update products p set tax_rate = $3::numeric, updated_at = now() from before
      where p.product_id = before.product_id
     returning before.tax_rate::text as "from", p.tax_rate::text as "to"`,
    [productId, merchantId, taxRate],
  );
  return rows[0];
}
