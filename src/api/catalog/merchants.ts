/**
 * Operator routes that register merchants and their products. The merchant's access key
 * is encrypted before it is stored and is never returned.
 */
import express, { Router } from 'express';
import type { Db } from '../../db/pool';
import { findMerchant, upsertMerchant, upsertProduct } from '../../db/repositories/catalog/merchants';
import type { Encryptor } from '../../platform/security/encryption';
import { AppError } from '../errors';
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
    const { accessKey, ...rest } = parseRequestBody(merchantBody, req.body);
    const { created } = await upsertMerchant(db, { merchantId, ...rest, accessKeyEnc: encryptor.encrypt(accessKey) });
    res.status(created ? 201 : 200).json({ merchantId, ...rest, accessKeyConfigured: true });
  });

  router.put('/v1/merchants/:merchantId/products/:productId', async (req, res) => {
    const merchantId = parsePathId(req.params.merchantId, 'merchantId');
    const productId = parsePathId(req.params.productId, 'productId');
    const product = parseRequestBody(productBodySchema, req.body);
    if (!(await findMerchant(db, merchantId))) throw new AppError(404, 'merchant_not_found', `merchant ${merchantId} is not registered`);
    const result = await upsertProduct(db, { productId, merchantId, ...product });
    if (result === 'conflict') throw new AppError(409, 'product_owned_elsewhere', `product ${productId} belongs to another merchant`);
    res.status(result.created ? 201 : 200).json({ productId, merchantId, ...product });
  });

  return router;
}
