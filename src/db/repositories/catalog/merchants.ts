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

/**
 * The merchant and one product, in one query: the hot path of every paid order. With them,
 * their listing states as they read now (a delisting for a period that has ended reads
 * on_sale), and, when the order line is named, whether it was already accepted (a redelivery
 * of an order taken before a delisting is not refused).
 */
export async function findMerchantProduct(
  q: Queryable,
  ids: { merchantId: string; productId: string; orderId?: string; orderLineId?: string },
): Promise<{ merchantFound: boolean; merchantState?: string; productState?: string; lineAccepted?: boolean; product?: ProductRow }> {
  const { rows } = await q.query<ProductRow & { merchantFound: boolean; merchantState: string; productState: string | null; lineAccepted: boolean }>(
    `select true as "merchantFound", m.listing_state as "merchantState",
            product_listing_state(p.listing_state, p.delisted_until) as "productState",
            exists (select 1 from order_lines l where l.order_id = $3::text and l.order_line_id = $4::text) as "lineAccepted",
            p.product_id as "productId", p.merchant_id as "merchantId", p.name,
            p.charging_mode as "chargingMode", p.retention_days as "retentionDays", p.supervised,
            p.supervision_variant as "supervisionVariant"
       from merchants m left join products p on p.product_id = $2::text
      where m.merchant_id = $1::text`,
    [ids.merchantId, ids.productId, ids.orderId ?? null, ids.orderLineId ?? null],
  );
  const row = rows[0];
  if (!row) return { merchantFound: false };
  const { merchantFound, merchantState, productState, lineAccepted, ...product } = row;
  return { merchantFound, merchantState, lineAccepted, ...(product.productId ? { product, productState: productState ?? undefined } : {}) };
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
