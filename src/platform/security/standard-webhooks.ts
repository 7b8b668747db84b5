/**
 * Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature), used for
 * the order system's webhooks to us and our callbacks to it:
 *
 *   webhook-signature = "v1," + base64(HMAC_SHA256(secret, `${id}.${timestamp}.${body}`))
 *
 * Secrets written as `whsec_<base64>` (the scheme's own format) are base64-decoded; any
 * other secret is used as its UTF-8 bytes. The header may carry several space-separated
 * signatures (during a secret rotation); one `v1,` entry that matches is enough. Entries of
 * any other version are skipped, never compared: the version names the scheme that made
 * the signature, and only v1 is ours.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const WHSEC_PREFIX = 'whsec_';
/** HMAC-SHA256 keys shorter than this are too weak to sign with (the scheme's own secrets are 24–64 bytes). */
const MIN_WHSEC_KEY_BYTES = 24;
/** Padded standard base64, nothing else: Node's decoder silently drops any other character. */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * What is wrong with a `whsec_` secret, for configuration checks; undefined when it is fine
 * or is a plain secret. Without this a value such as `whsec_!!!!!!!!` decodes to zero bytes
 * and anyone can compute the signatures.
 */
export function whsecSecretProblem(secret: string): string | undefined {
  if (!secret.startsWith(WHSEC_PREFIX)) return undefined;
  const encoded = secret.slice(WHSEC_PREFIX.length);
  if (STRICT_BASE64.test(encoded) && Buffer.from(encoded, 'base64').length >= MIN_WHSEC_KEY_BYTES) return undefined;
  return `after the ${WHSEC_PREFIX} prefix, must be base64 of at least ${MIN_WHSEC_KEY_BYTES} bytes`;
}

/** A type alias (not an interface) so it can be passed wherever a header record is expected. */
export type WebhookHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

function secretBytes(secret: string): Buffer {
  return secret.startsWith(WHSEC_PREFIX) ? Buffer.from(secret.slice(WHSEC_PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** The only signature version this scheme defines. */
const SIGNATURE_VERSION = 'v1';

function hmac(secret: string, id: string, timestamp: string, body: string | Buffer): Buffer {
  const mac = createHmac('sha256', secretBytes(secret));
  mac.update(`${id}.${timestamp}.`);
  mac.update(body);
  return mac.digest();
}

export function computeWebhookSignature(secret: string, id: string, timestamp: string, body: string | Buffer): string {
  return `${SIGNATURE_VERSION},${hmac(secret, id, timestamp, body).toString('base64')}`;
}

/** The base64 signatures of the header's `v1,<signature>` entries. */
function v1Signatures(header: string): string[] {
  const prefix = `${SIGNATURE_VERSION},`;
  return header
    .split(' ')
    .filter((entry) => entry.startsWith(prefix))
    .map((entry) => entry.slice(prefix.length));
}

/** Headers for sending `body` now. */
export function signWebhook(secret: string, id: string, body: string, nowMs: number = Date.now()): WebhookHeaders {
  const timestamp = String(Math.floor(nowMs / 1000));
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': computeWebhookSignature(secret, id, timestamp, body) };
}

export type WebhookVerifyFailure = 'missing-headers' | 'bad-timestamp' | 'stale-timestamp' | 'bad-signature';

export function verifyWebhook(options: {
  secret: string;
  headers: Partial<Record<keyof WebhookHeaders, string | undefined>>;
  body: string | Buffer;
  nowMs?: number;
  toleranceSeconds?: number;
}): { ok: true } | { ok: false; reason: WebhookVerifyFailure } {
  const id = options.headers['webhook-id'];
  const timestamp = options.headers['webhook-timestamp'];
  const signatures = options.headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'missing-headers' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad-timestamp' };
  const nowSeconds = Math.floor((options.nowMs ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > (options.toleranceSeconds ?? 300)) return { ok: false, reason: 'stale-timestamp' };
  const expected = Buffer.from(hmac(options.secret, id, timestamp, options.body).toString('base64'));
  const matches = v1Signatures(signatures).some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? { ok: true } : { ok: false, reason: 'bad-signature' };
}
