/**
 * Operator routes that register merchants and their products. The merchant's access key
 * is encrypted before it is stored and is never returned. A removed merchant's row is not
 * rewritten (its key stays erased), and a new product, on sale by default, is not registered
 * while its merchant leaves or may not publish (api/governance/listing-guards.ts).
 */
import express, { Router } from 'express';
import type { Db } from '../../db/pool';
import { findMerchant, findProduct, upsertMerchant, upsertProduct } from '../../db/repositories/catalog/merchants';
import { lockMerchantListing } from '../../db/repositories/governance/listing';
import { saveProductSupervision } from '../../db/repositories/supervision/products';
import { findMerchantSyncSettings, saveMerchantSyncSettings, saveProductAppPublicKey } from '../../db/repositories/tenant-sync/merchant-keys';
import type { Encryptor } from '../../platform/security/encryption';
import { AppError } from '../errors';
import { refuseNewProduct } from '../governance/listing-guards';
import { parsePathId, parseRequestBody } from '../request-body';
import { merchantBodySchema, productBodySchema } from './schemas';

export interface MerchantRouterDeps {
  db: Db;
  encryptor: Encryptor;
  mode: 'development' | 'production';
}

export function createMerchantRouter({ db, encryptor, mode }: MerchantRouterDeps): Router {
  const router = Router();
  const merchantBody = merchantBodySchema(mode);
  router.use(express.json({ limit: '64kb' }));

  router.put('/v1/merchants/:merchantId', async (req, res) => {
    const merchantId = parsePathId(req.params.merchantId, 'merchantId');
    const { accessKey, syncKey, kitEncryption, ...rest } = parseRequestBody(merchantBody, req.body);
    // Tenant sync settings left out of the body stay as they are.
    const { created, sync } = await db.withTransaction(async (tx) => {
      // 清退 erased its keys: a new key would bring a removed merchant back.
      if ((await lockMerchantListing(tx, merchantId))?.state === 'removed') throw new AppError(409, 'merchant_removed', `merchant ${merchantId} was removed at its exit and cannot be registered again`);
      const upserted = await upsertMerchant(tx, { merchantId, ...rest, accessKeyEnc: encryptor.encrypt(accessKey) });
      await saveMerchantSyncSettings(tx, { merchantId, syncKeyEnc: syncKey === undefined ? undefined : encryptor.encrypt(syncKey), oaepHash: kitEncryption?.oaepHash, cipherEncoding: kitEncryption?.encoding });
      return { ...upserted, sync: await findMerchantSyncSettings(tx, merchantId) };
    });
    // The tenant sync settings are shown once the merchant has a sync key.
    const syncSettings = sync?.syncKeyConfigured ? { syncKeyConfigured: true, kitEncryption: { oaepHash: sync.oaepHash, encoding: sync.cipherEncoding } } : {};
    res.status(created ? 201 : 200).json({ merchantId, ...rest, accessKeyConfigured: true, ...syncSettings });
  });

  router.put('/v1/merchants/:merchantId/products/:productId', async (req, res) => {
    const merchantId = parsePathId(req.params.merchantId, 'merchantId');
    const productId = parsePathId(req.params.productId, 'productId');
    const { appPublicKey, supervised, supervisionVariant, acceptanceStandard, ...product } = parseRequestBody(productBodySchema, req.body);
    if (!(await findMerchant(db, merchantId))) throw new AppError(404, 'merchant_not_found', `merchant ${merchantId} is not registered`);
    const result = await db.withTransaction(async (tx) => {
      // The merchant's row lock first, then the product's (the listing lock order).
      const merchant = await lockMerchantListing(tx, merchantId);
      if (merchant?.state === 'removed') throw new AppError(409, 'merchant_removed', `merchant ${merchantId} was removed: its products do not change`);
      if (merchant && !(await findProduct(tx, productId))) await refuseNewProduct(tx, { merchantId, state: merchant.state });
      const upserted = await upsertProduct(tx, { productId, merchantId, ...product });
      if (upserted === 'conflict') return upserted;
      // An application key left out of the body stays as it is.
      if (appPublicKey !== undefined) await saveProductAppPublicKey(tx, productId, appPublicKey);
      const supervision = await saveProductSupervision(tx, productId, { supervised, variant: supervisionVariant, acceptanceStandard });
      // Thrown inside the transaction, so the product's other fields are not changed either.
      if ('fixed' in supervision) {
        throw new AppError(409, 'supervision_fixed', `product ${productId} has orders: whether and how it is supervised can no longer change (spec §9.1)`, [
          { field: supervision.fixed === 'supervised' ? 'supervised' : 'supervisionVariant', reason: 'cannot change once the product has orders' },
        ]);
      }
      return { ...upserted, supervision };
    });
    if (result === 'conflict') throw new AppError(409, 'product_owned_elsewhere', `product ${productId} belongs to another merchant`);
    res.status(result.created ? 201 : 200).json({
      productId,
      merchantId,
      ...product,
      ...(appPublicKey !== undefined ? { appPublicKeyConfigured: true } : {}),
      supervised: result.supervision.supervised,
      ...(result.supervision.supervised ? { supervisionVariant: result.supervision.variant } : {}),
      ...(result.supervision.acceptanceStandard !== null ? { acceptanceStandard: result.supervision.acceptanceStandard } : {}),
    });
  });

  return router;
}
