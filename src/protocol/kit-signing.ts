/**
 * Kit request signing (spec §1.3): three headers instead of query parameters, and the raw
 * body goes into the canonical request as it is (not hashed first, unlike §1.2):
 *
 *   canonicalRequest = syncKey + nonce + timestamp + rawBody
 *   x-sign           = hex HMAC_SHA256(syncKey, canonicalRequest)     (upper case when we sign)
 *
 * The key is the merchant's sync key: the key bound to the joint-SaaS sync interface class,
 * which must differ from the basic interface's access key (§1.1). The worker signs, the
 * reference merchant verifies; both use these functions.
 */
import { createHmac } from 'node:crypto';
import { hexSignaturesEqual, newNonce, timestampToMs, type V2VerifyFailure } from './signing';

export interface KitHeaders {
  'x-sign': string;
  'x-timestamp': string;
  'x-nonce': string;
}

export function computeKitSign(syncKey: string, nonce: string, timestamp: string, body: string | Buffer): string {
  const mac = createHmac('sha256', syncKey);
  mac.update(syncKey + nonce + timestamp);
  mac.update(body);
  return mac.digest('hex').toUpperCase();
}

/** Headers for sending `body` now, with a fresh nonce unless one is given (test vectors). */
export function signKitRequest(syncKey: string, body: string | Buffer, nowMs: number = Date.now(), nonce: string = newNonce()): KitHeaders {
  const timestamp = String(nowMs);
  return { 'x-sign': computeKitSign(syncKey, nonce, timestamp, body), 'x-timestamp': timestamp, 'x-nonce': nonce };
}

export interface KitVerifyOptions {
  syncKey: string;
  body: string | Buffer;
  headers: Partial<KitHeaders>;
  nowMs?: number;
  /** 60 s in the spec. */
  toleranceMs?: number;
  /** Returns false when the nonce was seen already (and remembers it otherwise). */
  rememberNonce?: (nonce: string, timestampMs: number) => boolean;
}

/** Verifies a Kit request; the reasons are those of the V2 check. */
export function verifyKitRequest(options: KitVerifyOptions): { ok: true } | { ok: false; reason: V2VerifyFailure } {
  const { 'x-sign': sign, 'x-timestamp': timestamp, 'x-nonce': nonce } = options.headers;
  if (!sign || !timestamp || !nonce) return { ok: false, reason: 'missing-parameters' };
  const timestampMs = timestampToMs(timestamp);
  if (timestampMs === undefined) return { ok: false, reason: 'bad-timestamp' };
  if (Math.abs((options.nowMs ?? Date.now()) - timestampMs) > (options.toleranceMs ?? 60_000)) return { ok: false, reason: 'stale-timestamp' };
  if (!hexSignaturesEqual(computeKitSign(options.syncKey, nonce, timestamp, options.body), sign)) return { ok: false, reason: 'bad-signature' };
  if (options.rememberNonce && !options.rememberNonce(nonce, timestampMs)) return { ok: false, reason: 'replayed-nonce' };
  return { ok: true };
}
