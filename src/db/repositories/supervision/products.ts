/** A product's supervision settings (spec §9.1): the flag and the acceptance standard, set at listing. */
import type { Queryable } from '../../pool';

export type SupervisionVariant = 'service' | 'licence';

export interface ProductSupervision {
  supervised: boolean;
  variant: SupervisionVariant;
  acceptanceStandard: string | null;
}

/**
 * Saves what the body gave (left-out fields stay as they are). The flag and the variant cannot
 * change once the product has an order line: the answer then names the field, and nothing is written. The
 * product row is locked first, so two registrations cannot both pass the check.
 */
export async function saveProductSupervision(
  tx: Queryable,
  productId: string,
  change: { supervised?: boolean; variant?: SupervisionVariant; acceptanceStandard?: string },
): Promise<ProductSupervision | { fixed: 'supervised' | 'variant' }> {
  const { rows } = await tx.query<ProductSupervision & { hasOrders: boolean }>(
    `select supervised, supervision_variant as variant, acceptance_standard as "acceptanceStandard",
            exists (select 1 from order_lines l where l.product_id = p.product_id) as "hasOrders"
       from products p where product_id = $1::text for update`,
    [productId],
  );
  const current = rows[0];
  if (!current) throw new Error(`product ${productId} vanished inside its own transaction`);
  if (current.hasOrders) {
    if (change.supervised !== undefined && change.supervised !== current.supervised) return { fixed: 'supervised' };
    if (change.variant !== undefined && change.variant !== current.variant) return { fixed: 'variant' };
  }
  const next: ProductSupervision = {
    supervised: change.supervised ?? current.supervised,
    variant: change.variant ?? current.variant,
    acceptanceStandard: change.acceptanceStandard ?? current.acceptanceStandard,
  };
  await tx.query(
    `update products set supervised = $2::boolean, supervision_variant = $3::text, acceptance_standard = $4::text where product_id = $1::text`,
    [productId, next.supervised, next.variant, next.acceptanceStandard],
  );
  return next;
}
