/** The merchant's Kit settings: sync key, clientSecret encryption, and the product's application key. */
import type { Queryable } from '../../pool';
import type { CipherEncoding, OaepHash } from '../../../protocol/kit-crypto';

export interface MerchantSyncSettings {
  merchantId: string;
  /** Only the columns given are changed. */
  syncKeyEnc?: string;
  oaepHash?: OaepHash;
  cipherEncoding?: CipherEncoding;
}

export async function saveMerchantSyncSettings(q: Queryable, s: MerchantSyncSettings): Promise<void> {
  await q.query(
    `update merchants
        set sync_key_enc = coalesce($2::text, sync_key_enc),
            kit_oaep_hash = coalesce($3::text, kit_oaep_hash),
            kit_cipher_encoding = coalesce($4::text, kit_cipher_encoding)
      where merchant_id = $1::text`,
    [s.merchantId, s.syncKeyEnc ?? null, s.oaepHash ?? null, s.cipherEncoding ?? null],
  );
}

export async function findMerchantSyncSettings(q: Queryable, merchantId: string): Promise<{ syncKeyConfigured: boolean; oaepHash: OaepHash; cipherEncoding: CipherEncoding } | undefined> {
  const { rows } = await q.query<{ syncKeyConfigured: boolean; oaepHash: OaepHash; cipherEncoding: CipherEncoding }>(
    `select sync_key_enc is not null as "syncKeyConfigured", kit_oaep_hash as "oaepHash", kit_cipher_encoding as "cipherEncoding"
       from merchants where merchant_id = $1::text`,
    [merchantId],
  );
  return rows[0];
}

export async function saveProductAppPublicKey(q: Queryable, productId: string, appPublicKey: string): Promise<void> {
  await q.query(`update products set app_public_key = $2::text, updated_at = now() where product_id = $1::text`, [productId, appPublicKey]);
}

/**
 * An instance as tenant sync sees it: whose it is, where its merchant takes Kit calls, the
 * encrypted sync key, the product's application key and the OAEP settings. The API checks
 * what is configured; the Kit call activity uses the keys.
 */
export interface SyncTarget {
  instanceId: string;
  merchantId: string;
  orderId: string;
  orderLineId: string;
  productId: string;
  productionUrl: string;
  syncKeyEnc: string | null;
  appPublicKey: string | null;
  oaepHash: OaepHash;
  cipherEncoding: CipherEncoding;
}

export async function findSyncTarget(q: Queryable, instanceId: string): Promise<SyncTarget | undefined> {
  const { rows } = await q.query<SyncTarget>(
    `select i.instance_id as "instanceId", i.merchant_id as "merchantId", i.order_id as "orderId", i.order_line_id as "orderLineId",
            i.product_id as "productId", m.production_url as "productionUrl", m.sync_key_enc as "syncKeyEnc",
            p.app_public_key as "appPublicKey", m.kit_oaep_hash as "oaepHash", m.kit_cipher_encoding as "cipherEncoding"
       from instances i
       join merchants m on m.merchant_id = i.merchant_id
       left join products p on p.product_id = i.product_id
      where i.instance_id = $1::text`,
    [instanceId],
  );
  return rows[0];
}
