/**
 * Encryption at rest for secrets we must be able to read back (merchant access keys,
 * instance app info): AES-256-GCM with a random 96-bit IV per value.
 *
 * Envelope: `v1.<keyId>.<iv b64url>.<tag b64url>.<ciphertext b64url>`. The key id lets a
 * deployment rotate keys: new values use the primary key, old ones still decrypt with the
 * key their envelope names.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const TAG_BYTES = 16;

export interface Encryptor {
  encrypt(plaintext: string): string;
  decrypt(envelope: string): string;
}

/** A 32-byte key from its base64 text, with a short id derived from it. */
export interface DataKey {
  id: string;
  key: Buffer;
}

export function parseDataKey(base64: string): DataKey {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new RangeError('a data encryption key must be 32 bytes, base64-encoded');
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 8), key };
}

/** Encrypts with the first key; decrypts with whichever key the envelope names. */
export function createEncryptor(keys: DataKey[]): Encryptor {
  const primary = keys[0];
  if (!primary) throw new RangeError('at least one data encryption key is required');
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  return {
    encrypt(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', primary.key, iv, { authTagLength: TAG_BYTES });
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return ['v1', primary.id, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join('.');
    },
    decrypt(envelope) {
      const [version, keyId, iv, tag, ciphertext] = envelope.split('.');
      if (version !== 'v1' || !keyId || !iv || !tag || ciphertext === undefined) throw new Error('not an encrypted value');
      const key = byId.get(keyId);
      if (!key) throw new Error(`no data encryption key with id ${keyId}`);
      const authTag = Buffer.from(tag, 'base64url');
      // A shortened tag would make forgeries cheap: only the full 16 bytes are accepted.
      if (authTag.length !== TAG_BYTES) throw new Error('not an encrypted value');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(authTag);
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}
