/**
 * RSA-OAEP for the application sync's `clientSecret` (spec §7.2): encrypted to the public
 * key the merchant registered for the product's application, decrypted by the merchant with
 * its private key. The key must have at least 3072 bits.
 *
 * The spec leaves the OAEP hash (SHA-1 or SHA-256, used for both the label hash and MGF1)
 * and the ciphertext's text encoding unconfirmed. Both are a per-merchant setting; the
 * default is SHA-256 and Base64 (the likely reading, and what current JDKs name
 * "RSA/ECB/OAEPWithSHA-256AndMGF1Padding" when MGF1 is set to SHA-256 as well).
 */
import { constants, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';

export const MIN_RSA_KEY_BITS = 3072;

export type OaepHash = 'sha256' | 'sha1';
export type CipherEncoding = 'base64' | 'hex';

export interface OaepSettings {
  hash: OaepHash;
  encoding: CipherEncoding;
}

export const DEFAULT_OAEP: OaepSettings = { hash: 'sha256', encoding: 'base64' };

/** Why a public key cannot be used (not PEM/DER-readable, not RSA, under 3072 bits), or undefined. */
export function rsaPublicKeyProblem(pem: string): string | undefined {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    return 'not a readable public key (PEM, SPKI or PKCS#1)';
  }
  if (key.asymmetricKeyType !== 'rsa') return `must be an RSA key, not ${key.asymmetricKeyType ?? 'unknown'}`;
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_KEY_BITS) return `RSA key has ${bits} bits; at least ${MIN_RSA_KEY_BITS} are required (spec §7.2)`;
  return undefined;
}

/** Encrypts the secret for the merchant; refuses a key that rsaPublicKeyProblem refuses. */
export function encryptClientSecret(publicKeyPem: string, secret: string, settings: OaepSettings = DEFAULT_OAEP): string {
  const problem = rsaPublicKeyProblem(publicKeyPem);
  if (problem) throw new RangeError(`cannot encrypt the clientSecret: ${problem}`);
  const ciphertext = publicEncrypt({ key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: settings.hash }, Buffer.from(secret, 'utf8'));
  return ciphertext.toString(settings.encoding);
}

/** The merchant's side: decrypts what encryptClientSecret produced. */
export function decryptClientSecret(privateKeyPem: string, ciphertext: string, settings: OaepSettings = DEFAULT_OAEP): string {
  const key = createPrivateKey(privateKeyPem);
  return privateDecrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: settings.hash }, Buffer.from(ciphertext, settings.encoding)).toString('utf8');
}
