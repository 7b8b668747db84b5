/**
 * KooGallery V2 basic-interface request signing (spec §1.2): the marketplace adds
 * `signature`, `timestamp` and `nonce` to the merchant's production URL.
 *
 *   inner            = lowercase hex HMAC_SHA256(accessKey, rawBody)
 *   canonicalRequest = accessKey + nonce + timestamp + inner
 *   signature        = hex HMAC_SHA256(accessKey, canonicalRequest)
 *
 * Both sides of the contract use these functions: the worker signs, the reference merchant
 * verifies. Verification always works on the raw body bytes, never on re-serialised JSON.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface V2SignatureParams {
  signature: string;
  timestamp: string;
  nonce: string;
}

function hmacHex(key: string, data: string | Buffer): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

/** `inner`: the lower-case hex HMAC of the raw body bytes under the access key. */
export function bodyDigest(accessKey: string, body: string | Buffer): string {
  return hmacHex(accessKey, body);
}

/** `canonicalRequest`: plain concatenation, with the timestamp exactly as sent in the query. */
export function canonicalRequest(accessKey: string, nonce: string, timestamp: string, inner: string): string {
  return accessKey + nonce + timestamp + inner;
}

/** The signature of one request, upper-case hex as the marketplace emits it. */
export function computeV2Signature(accessKey: string, nonce: string, timestamp: string, body: string | Buffer): string {
  return hmacHex(accessKey, canonicalRequest(accessKey, nonce, timestamp, bodyDigest(accessKey, body))).toUpperCase();
}

/** A fresh 64-character upper-case hex nonce, as in the spec's examples. */
export function newNonce(): string {
  return randomBytes(32).toString('hex').toUpperCase();
}

/** Signs a body now: fresh nonce (unless one is given, as the spec's test vector does), millisecond timestamp. */
export function signV2Request(accessKey: string, body: string | Buffer, nowMs: number = Date.now(), nonce: string = newNonce()): V2SignatureParams {
  const timestamp = String(nowMs);
  return { signature: computeV2Signature(accessKey, nonce, timestamp, body), nonce, timestamp };
}

/** Appends the signature parameters to a production URL, keeping any query it already has. */
export function signedUrl(productionUrl: string, params: V2SignatureParams): string {
  const url = new URL(productionUrl);
  url.searchParams.set('signature', params.signature);
  url.searchParams.set('timestamp', params.timestamp);
  url.searchParams.set('nonce', params.nonce);
  return url.toString();
}

/** Constant-time, case-insensitive comparison of two hex signatures (spec: compare case-insensitively). */
export function hexSignaturesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a.toLowerCase(), 'utf8');
  const right = Buffer.from(b.toLowerCase(), 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Converts a V2 `timestamp` to epoch milliseconds. The Chinese pages say milliseconds and the
 * international pages say seconds (spec §1.2, unconfirmed): we accept both, reading values
 * below 10^11 (before 1973 in ms, after 5138 in s) as seconds.
 */
export function timestampToMs(timestamp: string): number | undefined {
  if (!/^\d{1,16}$/.test(timestamp)) return undefined;
  const value = Number(timestamp);
  return value < 1e11 ? value * 1000 : value;
}

export type V2VerifyFailure = 'missing-parameters' | 'bad-timestamp' | 'stale-timestamp' | 'bad-signature' | 'replayed-nonce';

export interface V2VerifyOptions {
  accessKey: string;
  body: string | Buffer;
  params: Partial<V2SignatureParams>;
  nowMs?: number;
  /** Allowed clock difference; the spec asks for 60 s. */
  toleranceMs?: number;
  /** Returns false when the nonce was already seen (and remembers it otherwise). */
  rememberNonce?: (nonce: string, timestampMs: number) => boolean;
}

/** Verifies a V2 request. Returns `ok` or the first reason it fails. */
export function verifyV2Request(options: V2VerifyOptions): { ok: true } | { ok: false; reason: V2VerifyFailure } {
  const { signature, timestamp, nonce } = options.params;
  if (!signature || !timestamp || !nonce) return { ok: false, reason: 'missing-parameters' };
  const timestampMs = timestampToMs(timestamp);
  if (timestampMs === undefined) return { ok: false, reason: 'bad-timestamp' };
  const now = options.nowMs ?? Date.now();
  if (Math.abs(now - timestampMs) > (options.toleranceMs ?? 60_000)) return { ok: false, reason: 'stale-timestamp' };
  const expected = computeV2Signature(options.accessKey, nonce, timestamp, options.body);
  if (!hexSignaturesEqual(expected, signature)) return { ok: false, reason: 'bad-signature' };
  // The nonce is remembered only once the signature is good, so forged requests cannot fill the cache.
  if (options.rememberNonce && !options.rememberNonce(nonce, timestampMs)) return { ok: false, reason: 'replayed-nonce' };
  return { ok: true };
}

/**
 * A bounded replay guard: remembers nonces for as long as their timestamps stay acceptable.
 * Entries older than the tolerance window can be dropped because their requests would be
 * rejected as stale anyway.
 */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs = 120_000,
    private readonly now: () => number = Date.now,
  ) {}

  remember = (nonce: string): boolean => {
    this.evictExpired();
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, this.now());
    return true;
  };

  get size(): number {
    return this.seen.size;
  }

  private evictExpired(): void {
    const cutoff = this.now() - this.windowMs;
    // Map iteration follows insertion order, so the oldest entries come first.
    for (const [nonce, at] of this.seen) {
      if (at >= cutoff) break;
      this.seen.delete(nonce);
    }
  }
}
