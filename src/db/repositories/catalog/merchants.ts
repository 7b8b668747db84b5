import type { Queryable } from '../../pool';

export interface MerchantRow {
  merchantId: string;
  name: string;
  productionUrl: string;
  protocolVersion: 'v2';
  accessKeyEnc: string;
  contactEmail: string | null;
}

export interface ProductRow {
  productId: string;
  merchantId: string;
  name: string;
  chargingMode: string;
  retentionDays: number;
  /** Service supervision applies to its orders (spec §9.1); chosen at listing. */
  supervised?: boolean;
  supervisionVariant?: 'service' | 'licence';
}

/** Creates or replaces a merchant; answers whether it was new. */
export async function upsertMerchant(q: Queryable, m: Omit<MerchantRow, 'contactEmail'> & { contactEmail?: string }): Promise<{ created: boolean }> {
  const { rows } = await q.query<{ created: boolean }>(
    `insert into merchants (merchant_id, name, production_url, protocol_version, access_key_enc, contact_email)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text)
     on conflict (merchant_id) do update
       set name = excluded.name, production_url = excluded.production_url, protocol_version = excluded.protocol_version,
           access_key_enc = excluded.access_key_enc, contact_email = excluded.contact_email, updated_at = now()
     returning (xmax = 0) as created`,
    [m.merchantId, m.name, m.productionUrl, m.protocolVersion, m.accessKeyEnc, m.contactEmail ?? null],
  );
  return { created: rows[0]?.created ?? false };
}

export async function findMerchant(q: Queryable, merchantId: string): Promise<MerchantRow | undefined> {
  const { rows } = await q.query<MerchantRow>(
    `select merchant_id as "merchantId", name, production_url as "productionUrl", protocol_version as "protocolVersion",
            access_key_enc as "accessKeyEnc", contact_email as "contactEmail"
       from merchants where merchant_id = $1::text`,
    [merchantId],
  );
  return rows[0];
}

/**
 * Creates or replaces a product of a merchant. A product id already owned by another
 * merchant is not taken over: the answer is `conflict`.
 */
export async function upsertProduct(q: Queryable, p: ProductRow): Promise<{ created: boolean } | 'conflict'> {
  const { rows } = await q.query<{ created: boolean }>(
    `insert into products (product_id, merchant_id, name, charging_mode, retention_days)
     values ($1::text, $2::text, $3::text, $4::text, $5::int)
     on conflict (product_id) do update
       set name = excluded.name, charging_mode = excluded.charging_mode, retention_days = excluded.retention_days, updated_at = now()
       where products.merchant_id = excluded.merchant_id
     returning (xmax = 0) as created`,
    [p.productId, p.merchantId, p.name, p.chargingMode, p.retentionDays],
  );
  return rows[0] ? { created: rows[0].created } : 'conflict';
}

/** The merchant and one product, in one query: the hot path of every paid order. */
export async function findMerchantProduct(
  q: Queryable,
  ids: { merchantId: string; productId: string },
): Promise<{ merchantFound: boolean; product?: ProductRow }> {
  const { rows } = await q.query<ProductRow & { merchantFound: boolean }>(
    `select true as "merchantFound", p.product_id as "productId", p.merchant_id as "merchantId", p.name,
            p.charging_mode as "chargingMode", p.retention_days as "retentionDays", p.supervised,
            p.supervision_variant as "supervisionVariant"
       from merchants m left join products p on p.product_id = $2::text
      where m.merchant_id = $1::text`,
    [ids.merchantId, ids.productId],
  );
  const row = rows[0];
  if (!row) return { merchantFound: false };
  const { merchantFound, ...product } = row;
  return { merchantFound, ...(product.productId ? { product } : {}) };
}

export async function findProduct(q: Queryable, productId: string): Promise<ProductRow | undefined> {
  const { rows } = await q.query<ProductRow>(
    `select product_id as "productId", merchant_id as "merchantId", name, charging_mode as "chargingMode",
            retention_days as "retentionDays", supervised
       from products where product_id = $1::text`,
    [productId],
  );
  return rows[0];
}
