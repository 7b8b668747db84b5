import type { Config } from '../config';
import { createEncryptor, parseDataKey, type Encryptor } from './encryption';

/** The encryptor for the configured keys: the primary first, then keys being rotated out. */
export function encryptorFromConfig(config: Pick<Config, 'encryption'>): Encryptor {
  return createEncryptor([config.encryption.primaryKey, ...config.encryption.oldKeys].map(parseDataKey));
}
