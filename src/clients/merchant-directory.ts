/** Looks up a merchant's production endpoint and decrypts its access key for one call. */
import type { Queryable } from '../db/pool';
import { findMerchant } from '../db/repositories/catalog/merchants';
import type { Encryptor } from '../platform/security/encryption';
import type { MerchantEndpoint } from './merchant';

export interface MerchantDirectory {
  endpoint(merchantId: string): Promise<MerchantEndpoint | undefined>;
}

export function createMerchantDirectory(db: Queryable, encryptor: Encryptor): MerchantDirectory {
  return {
    async endpoint(merchantId) {
      const merchant = await findMerchant(db, merchantId);
      if (!merchant) return undefined;
      return { merchantId, productionUrl: merchant.productionUrl, accessKey: encryptor.decrypt(merchant.accessKeyEnc) };
    },
  };
}
