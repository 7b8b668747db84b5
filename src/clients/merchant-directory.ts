/** Looks up a merchant's production endpoint and decrypts its access key for one call. */
import { ApplicationFailure } from '@temporalio/common';
import type { Queryable } from '../db/pool';
import { findMerchant } from '../db/repositories/catalog/merchants';
import { isMerchantRemoved } from '../db/repositories/governance/exit';
import type { Encryptor } from '../platform/security/encryption';
import type { MerchantEndpoint } from './merchant';

export interface MerchantDirectory {
  endpoint(merchantId: string): Promise<MerchantEndpoint | undefined>;
}

export function createMerchantDirectory(db: Queryable, encryptor: Encryptor): MerchantDirectory {
  return {
    async endpoint(merchantId) {
      // Nothing is sent to a merchant removed at its exit (spec §9.4): the calling activity fails for good, and so does any workflow still trying.
      if (await isMerchantRemoved(db, merchantId)) {
        throw ApplicationFailure.create({ type: 'MerchantRemoved', message: `merchant ${merchantId} was removed at its exit; nothing is sent to it`, nonRetryable: true });
      }
      const merchant = await findMerchant(db, merchantId);
      if (!merchant) return undefined;
      return { merchantId, productionUrl: merchant.productionUrl, accessKey: encryptor.decrypt(merchant.accessKeyEnc) };
    },
  };
}
