/**
 * The Kit wire format (spec §1.3, §7): x-sign, UTC+8 times, 500 users per call, and RSA-OAEP
 * of the clientSecret.
 */
import { createHmac, generateKeyPairSync } from 'node:crypto';
import {
  callsFor,
  chunk,
  computeKitSign,
  decryptClientSecret,
  encryptClientSecret,
  rsaPublicKeyProblem,
  signKitRequest,
  toUtc8Time,
  verifyKitRequest,
} from '../../../src/protocol';

/**
 * A vector derived by us (the spec gives no worked x-sign example), computed independently of
 * this code with OpenSSL:
 *   printf '%s' "$KEY$NONCE$TS$BODY" | openssl dgst -sha256 -hmac "$KEY"
 */
const VECTOR = {
  syncKey: 'mySyncKey456',
  nonce: '50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA',
  timestamp: '1680508066618',
  body: '{"instanceId":"inst-1","orderId":"CS2211181819B4LVS","tenantId":"tenant-1","tenantCode":"acme","name":"Acme Ltd","domainName":"https://acme.example.com","flag":1,"testFlag":0,"timeStamp":"20230403154746618"}',
  sign: '9D39DADA5B412A83E18C5026CD906DED6E9EFA99CDBA9A9E53A890501DBECFD0',
};

describe('x-sign (spec §1.3)', () => {
  test('when the vector is signed, then x-sign is the OpenSSL value in upper case', () => {
    expect(computeKitSign(VECTOR.syncKey, VECTOR.nonce, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.sign);
    expect(signKitRequest(VECTOR.syncKey, VECTOR.body, Number(VECTOR.timestamp), VECTOR.nonce)).toEqual({
      'x-sign': VECTOR.sign,
      'x-timestamp': VECTOR.timestamp,
      'x-nonce': VECTOR.nonce,
    });
  });

  test('when the body is hashed first as in §1.2, then the signature differs (Kit signs the raw body)', () => {
    const inner = createHmac('sha256', VECTOR.syncKey).update(VECTOR.body).digest('hex');
    expect(computeKitSign(VECTOR.syncKey, VECTOR.nonce, VECTOR.timestamp, inner)).not.toBe(VECTOR.sign);
  });

  test('when a request is verified, then the vector passes in either case and a changed byte, key, stale time or replayed nonce fails', () => {
    const now = Number(VECTOR.timestamp);
    const headers = { 'x-sign': VECTOR.sign.toLowerCase(), 'x-timestamp': VECTOR.timestamp, 'x-nonce': VECTOR.nonce };
    const seen = new Set<string>();
    const remember = (nonce: string): boolean => (seen.has(nonce) ? false : (seen.add(nonce), true));
    expect(verifyKitRequest({ syncKey: VECTOR.syncKey, body: VECTOR.body, headers, nowMs: now, rememberNonce: remember })).toEqual({ ok: true });
    expect(verifyKitRequest({ syncKey: VECTOR.syncKey, body: VECTOR.body, headers, nowMs: now, rememberNonce: remember })).toEqual({ ok: false, reason: 'replayed-nonce' });
    expect(verifyKitRequest({ syncKey: VECTOR.syncKey, body: VECTOR.body.replace('Acme', 'Acmf'), headers, nowMs: now })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyKitRequest({ syncKey: 'otherKey', body: VECTOR.body, headers, nowMs: now })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyKitRequest({ syncKey: VECTOR.syncKey, body: VECTOR.body, headers, nowMs: now + 61_000 })).toEqual({ ok: false, reason: 'stale-timestamp' });
    expect(verifyKitRequest({ syncKey: VECTOR.syncKey, body: VECTOR.body, headers: { 'x-sign': VECTOR.sign }, nowMs: now })).toEqual({ ok: false, reason: 'missing-parameters' });
  });
});

describe('UTC+8 times (spec §7)', () => {
  test('when an instant is formatted, then it is East-8 yyyyMMddHHmmssSSS, crossing midnight and the year at 16:00 UTC', () => {
    expect(toUtc8Time(Number(VECTOR.timestamp))).toBe('20230403154746618');
    expect(toUtc8Time(Date.UTC(2026, 11, 31, 15, 59, 59, 999))).toBe('20261231235959999');
    expect(toUtc8Time(Date.UTC(2026, 11, 31, 16, 0, 0, 0))).toBe('20270101000000000');
    expect(toUtc8Time(Date.UTC(2024, 1, 28, 16, 0, 0, 7))).toBe('20240229000000007');
    expect(toUtc8Time(Date.UTC(2026, 5, 1, 0, 0, 0, 0))).toBe('20260601080000000');
  });
});

describe('500 users per call (spec §7.3)', () => {
  test('when 1,200 users are chunked, then three calls of 500, 500 and 200 keep their order', () => {
    const users = Array.from({ length: 1200 }, (_, i) => `user${i}`);
    const calls = chunk(users);
    expect(calls.map((c) => c.length)).toEqual([500, 500, 200]);
    expect(calls.flat()).toEqual(users);
    expect(callsFor(1200)).toBe(3);
    expect(callsFor(1000)).toBe(2);
    expect(callsFor(0)).toBe(1);
    expect(chunk(users.slice(0, 500)).map((c) => c.length)).toEqual([500]);
  });
});

describe('RSA-OAEP of clientSecret (spec §7.2)', () => {
  const pair = (bits: number) =>
    generateKeyPairSync('rsa', { modulusLength: bits, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const k3072 = pair(3072);

  test('when a secret is encrypted to a 3072-bit key, then the private key gets it back, with the default and the SHA-1/hex settings', () => {
    const secret = 'client-secret-Ω-123';
    const sealed = encryptClientSecret(k3072.publicKey, secret);
    expect(sealed).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(sealed, 'base64')).toHaveLength(384);
    expect(sealed).not.toContain(secret);
    expect(decryptClientSecret(k3072.privateKey, sealed)).toBe(secret);
    // OAEP is randomised: the same secret twice gives two ciphertexts.
    expect(encryptClientSecret(k3072.publicKey, secret)).not.toBe(sealed);
    const sha1Hex = encryptClientSecret(k3072.publicKey, secret, { hash: 'sha1', encoding: 'hex' });
    expect(sha1Hex).toMatch(/^[0-9a-f]{768}$/);
    expect(decryptClientSecret(k3072.privateKey, sha1Hex, { hash: 'sha1', encoding: 'hex' })).toBe(secret);
    // The wrong hash does not decrypt: the setting matters.
    expect(() => decryptClientSecret(k3072.privateKey, sealed, { hash: 'sha1', encoding: 'base64' })).toThrow();
  });

  test('when a 2048-bit key is offered, then it is refused with the reason, and nothing is encrypted to it', () => {
    const k2048 = pair(2048);
    expect(rsaPublicKeyProblem(k2048.publicKey)).toBe('RSA key has 2048 bits; at least 3072 are required (spec §7.2)');
    expect(() => encryptClientSecret(k2048.publicKey, 'x')).toThrow(/2048 bits/);
    expect(rsaPublicKeyProblem(k3072.publicKey)).toBeUndefined();
    expect(rsaPublicKeyProblem('not a key')).toMatch(/not a readable public key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    expect(rsaPublicKeyProblem(ec.publicKey)).toBe('must be an RSA key, not ec');
  });
});
