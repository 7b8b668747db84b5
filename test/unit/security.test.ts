/**
 * Encryption at rest (AES-256-GCM envelopes with key rotation) and Standard Webhooks
 * signatures.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createEncryptor, parseDataKey, type DataKey } from '../../src/platform/security/encryption';
import { encryptorFromConfig } from '../../src/platform/security/keys';
import { computeWebhookSignature, signWebhook, verifyWebhook } from '../../src/platform/security/standard-webhooks';

const OLD_KEY_B64 = Buffer.alloc(32, 1).toString('base64');
const NEW_KEY_B64 = Buffer.alloc(32, 2).toString('base64');

/** The key id the envelope of a DataKey should carry: first 8 hex of SHA-256 of the raw key. */
const expectedKeyId = (base64: string) => createHash('sha256').update(Buffer.from(base64, 'base64')).digest('hex').slice(0, 8);

/** Replaces one base64url part of an envelope with a copy whose first byte is flipped. */
function flipFirstByte(envelope: string, part: 2 | 3 | 4): string {
  const parts = envelope.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('parseDataKey', () => {
  test('a 32-byte base64 key parses with an 8-hex id derived from the key bytes', () => {
    const key = parseDataKey(NEW_KEY_B64);
    expect(key.key).toEqual(Buffer.alloc(32, 2));
    expect(key.id).toBe(expectedKeyId(NEW_KEY_B64));
    expect(key.id).toMatch(/^[0-9a-f]{8}$/);
  });

  test('different keys have different ids; the same key always has the same id', () => {
    expect(parseDataKey(OLD_KEY_B64).id).not.toBe(parseDataKey(NEW_KEY_B64).id);
    expect(parseDataKey(OLD_KEY_B64).id).toBe(parseDataKey(OLD_KEY_B64).id);
  });

  test.each([
    ['16 bytes', randomBytes(16).toString('base64')],
    ['31 bytes', randomBytes(31).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['64 hex characters (32 bytes as hex, not base64)', randomBytes(32).toString('hex')],
    ['empty', ''],
  ])('a key of %s is rejected with RangeError', (_name, base64) => {
    expect(() => parseDataKey(base64)).toThrow(RangeError);
    expect(() => parseDataKey(base64)).toThrow('a data encryption key must be 32 bytes, base64-encoded');
  });
});

describe('createEncryptor', () => {
  const encryptor = createEncryptor([parseDataKey(NEW_KEY_B64)]);

  test('without keys it throws RangeError', () => {
    expect(() => createEncryptor([])).toThrow(RangeError);
  });

  test.each(['merchant-access-key-123', '', 'ünïcødé ✓ 密钥', 'x'.repeat(10_000)])('round trip of %#', (plaintext) => {
    expect(encryptor.decrypt(encryptor.encrypt(plaintext))).toBe(plaintext);
  });

  test('the envelope is v1.<keyId>.<iv>.<tag>.<ciphertext> with a 12-byte IV and 16-byte tag', () => {
    const envelope = encryptor.encrypt('hello');
    const parts = envelope.split('.');
    expect(parts).toHaveLength(5);
    expect(parts[0]).toBe('v1');
    expect(parts[1]).toBe(expectedKeyId(NEW_KEY_B64));
    expect(Buffer.from(parts[2]!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(parts[3]!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(parts[4]!, 'base64url')).toHaveLength(5); // GCM: ciphertext as long as the plaintext
  });

  test('two encryptions of the same text differ (fresh IV each time)', () => {
    const a = encryptor.encrypt('same text');
    const b = encryptor.encrypt('same text');
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
    expect(encryptor.decrypt(a)).toBe('same text');
    expect(encryptor.decrypt(b)).toBe('same text');
  });

  test('the envelope never contains the plaintext, in clear or base64', () => {
    const plaintext = 'SuperSecretPassword-0123456789';
    const envelope = encryptor.encrypt(plaintext);
    expect(envelope).not.toContain(plaintext);
    expect(envelope).not.toContain(Buffer.from(plaintext).toString('base64url').slice(0, 16));
    expect(envelope).not.toContain(Buffer.from(plaintext).toString('base64').slice(0, 16));
  });

  test('when the ciphertext is tampered with, then decryption throws', () => {
    expect(() => encryptor.decrypt(flipFirstByte(encryptor.encrypt('payload'), 4))).toThrow();
  });

  test('when the tag is tampered with, then decryption throws', () => {
    expect(() => encryptor.decrypt(flipFirstByte(encryptor.encrypt('payload'), 3))).toThrow();
  });

  test('when the IV is tampered with, then decryption throws', () => {
    expect(() => encryptor.decrypt(flipFirstByte(encryptor.encrypt('payload'), 2))).toThrow();
  });

  test('when the envelope is not a v1 envelope, then decryption throws "not an encrypted value"', () => {
    const envelope = encryptor.encrypt('payload');
    expect(() => encryptor.decrypt('plain text')).toThrow('not an encrypted value');
    expect(() => encryptor.decrypt(envelope.replace(/^v1/, 'v2'))).toThrow('not an encrypted value');
    expect(() => encryptor.decrypt(envelope.split('.').slice(0, 4).join('.'))).toThrow('not an encrypted value');
  });

  test('when the envelope names an unknown key, then decryption throws naming the key id', () => {
    const other = createEncryptor([parseDataKey(OLD_KEY_B64)]);
    const envelope = other.encrypt('payload');
    expect(() => encryptor.decrypt(envelope)).toThrow(`no data encryption key with id ${expectedKeyId(OLD_KEY_B64)}`);
  });

  test('when the key id is swapped to another known key, then decryption fails authentication', () => {
    const both = createEncryptor([parseDataKey(NEW_KEY_B64), parseDataKey(OLD_KEY_B64)]);
    const envelope = both.encrypt('payload');
    const swapped = envelope.replace(`.${expectedKeyId(NEW_KEY_B64)}.`, `.${expectedKeyId(OLD_KEY_B64)}.`);
    expect(swapped).not.toBe(envelope);
    expect(() => both.decrypt(swapped)).toThrow();
  });
});

describe('key rotation', () => {
  const oldKey: DataKey = parseDataKey(OLD_KEY_B64);
  const newKey: DataKey = parseDataKey(NEW_KEY_B64);

  test('a value encrypted with the old key decrypts after rotation (new primary first, old second)', () => {
    const before = createEncryptor([oldKey]);
    const stored = before.encrypt('written before rotation');
    const after = createEncryptor([newKey, oldKey]);
    expect(after.decrypt(stored)).toBe('written before rotation');
  });

  test('after rotation new values carry the new key id and the old-key-only encryptor cannot read them', () => {
    const after = createEncryptor([newKey, oldKey]);
    const envelope = after.encrypt('written after rotation');
    expect(envelope.split('.')[1]).toBe(newKey.id);
    expect(after.decrypt(envelope)).toBe('written after rotation');
    expect(() => createEncryptor([oldKey]).decrypt(envelope)).toThrow(`no data encryption key with id ${newKey.id}`);
  });

  test('encryptorFromConfig uses the primary key for new values and old keys for reading', () => {
    const stored = encryptorFromConfig({ encryption: { primaryKey: OLD_KEY_B64, oldKeys: [] } }).encrypt('legacy');
    const rotated = encryptorFromConfig({ encryption: { primaryKey: NEW_KEY_B64, oldKeys: [OLD_KEY_B64] } });
    expect(rotated.decrypt(stored)).toBe('legacy');
    expect(rotated.encrypt('fresh').split('.')[1]).toBe(expectedKeyId(NEW_KEY_B64));
  });

  test('encryptorFromConfig rejects a configured key that is not 32 bytes', () => {
    expect(() => encryptorFromConfig({ encryption: { primaryKey: NEW_KEY_B64, oldKeys: ['c2hvcnQ='] } })).toThrow(RangeError);
  });
});

describe('Standard Webhooks', () => {
  const SECRET_BYTES = Buffer.from('a-32-byte-webhook-secret-for-tst');
  const WHSEC = `whsec_${SECRET_BYTES.toString('base64')}`;
  const ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
  const BODY = '{"type":"order.paid","data":{"orderId":"CS1"}}';
  const NOW_MS = 1_700_000_000_000;
  const TIMESTAMP = '1700000000';

  test('signWebhook sets the id, a seconds timestamp and a v1 signature', () => {
    const headers = signWebhook(WHSEC, ID, BODY, NOW_MS + 999);
    expect(headers['webhook-id']).toBe(ID);
    expect(headers['webhook-timestamp']).toBe(TIMESTAMP);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
  });

  test('sign then verify is ok', () => {
    const headers = signWebhook(WHSEC, ID, BODY, NOW_MS);
    expect(verifyWebhook({ secret: WHSEC, headers, body: BODY, nowMs: NOW_MS })).toEqual({ ok: true });
    expect(verifyWebhook({ secret: WHSEC, headers, body: Buffer.from(BODY), nowMs: NOW_MS })).toEqual({ ok: true });
  });

  test('a whsec_ secret is base64-decoded before use (matches an independent HMAC)', () => {
    const independent = createHmac('sha256', SECRET_BYTES).update(`${ID}.${TIMESTAMP}.${BODY}`).digest('base64');
    expect(computeWebhookSignature(WHSEC, ID, TIMESTAMP, BODY)).toBe(`v1,${independent}`);
    // Not the HMAC keyed with the literal "whsec_…" text.
    const literal = createHmac('sha256', WHSEC).update(`${ID}.${TIMESTAMP}.${BODY}`).digest('base64');
    expect(computeWebhookSignature(WHSEC, ID, TIMESTAMP, BODY)).not.toBe(`v1,${literal}`);
  });

  test('a secret without the whsec_ prefix is used as its UTF-8 bytes', () => {
    const secret = 'plain-shared-secret-ü';
    const independent = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${ID}.${TIMESTAMP}.${BODY}`).digest('base64');
    expect(computeWebhookSignature(secret, ID, TIMESTAMP, BODY)).toBe(`v1,${independent}`);
  });

  test('the Standard Webhooks reference example verifies', () => {
    // From the standard-webhooks specification's reference test vector.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const timestamp = '1614265330';
    const body = '{"test": 2432232314}';
    expect(computeWebhookSignature(secret, id, timestamp, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  test('several space-separated signatures with one valid → ok', () => {
    const headers = signWebhook(WHSEC, ID, BODY, NOW_MS);
    const rotated = {
      ...headers,
      'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')} ${headers['webhook-signature']} v2,abc`,
    };
    expect(verifyWebhook({ secret: WHSEC, headers: rotated, body: BODY, nowMs: NOW_MS })).toEqual({ ok: true });
  });

  test('several signatures none of which is valid → bad-signature', () => {
    const headers = { 'webhook-id': ID, 'webhook-timestamp': TIMESTAMP, 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')} v1,xyz` };
    expect(verifyWebhook({ secret: WHSEC, headers, body: BODY, nowMs: NOW_MS })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  test('a tampered body → bad-signature', () => {
    const headers = signWebhook(WHSEC, ID, BODY, NOW_MS);
    expect(verifyWebhook({ secret: WHSEC, headers, body: BODY.replace('CS1', 'CS2'), nowMs: NOW_MS })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  test('a different webhook-id or secret → bad-signature', () => {
    const headers = signWebhook(WHSEC, ID, BODY, NOW_MS);
    expect(verifyWebhook({ secret: WHSEC, headers: { ...headers, 'webhook-id': 'msg_other' }, body: BODY, nowMs: NOW_MS })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyWebhook({ secret: 'whsec_' + Buffer.alloc(32, 7).toString('base64'), headers, body: BODY, nowMs: NOW_MS })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  test('a signature without the v1, prefix → bad-signature', () => {
    const headers = signWebhook(WHSEC, ID, BODY, NOW_MS);
    const bare = { ...headers, 'webhook-signature': headers['webhook-signature'].slice(3) };
    expect(verifyWebhook({ secret: WHSEC, headers: bare, body: BODY, nowMs: NOW_MS })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  test('a valid HMAC labelled with another version than v1 → bad-signature', () => {
    const headers = signWebhook(WHSEC, ID, BODY, NOW_MS);
    const hmacOnly = headers['webhook-signature'].slice('v1,'.length);
    for (const label of ['v2', 'v1a', 'V1', 'v0', '']) {
      const relabelled = { ...headers, 'webhook-signature': `${label},${hmacOnly}` };
      expect(verifyWebhook({ secret: WHSEC, headers: relabelled, body: BODY, nowMs: NOW_MS })).toEqual({ ok: false, reason: 'bad-signature' });
    }
  });

  test('a bad v2 entry before a valid v1 entry → ok (other versions are skipped, not fatal)', () => {
    const headers = signWebhook(WHSEC, ID, BODY, NOW_MS);
    const mixed = { ...headers, 'webhook-signature': `v2,${Buffer.alloc(32, 1).toString('base64')} ${headers['webhook-signature']}` };
    expect(verifyWebhook({ secret: WHSEC, headers: mixed, body: BODY, nowMs: NOW_MS })).toEqual({ ok: true });
  });

  test('the timestamp is covered by the signature: moving it → bad-signature', () => {
    const headers = signWebhook(WHSEC, ID, BODY, NOW_MS);
    expect(verifyWebhook({ secret: WHSEC, headers: { ...headers, 'webhook-timestamp': '1700000001' }, body: BODY, nowMs: NOW_MS })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  test('a timestamp older than the tolerance → stale-timestamp; exactly at the tolerance → ok', () => {
    const headers = signWebhook(WHSEC, ID, BODY, NOW_MS);
    expect(verifyWebhook({ secret: WHSEC, headers, body: BODY, nowMs: NOW_MS + 300_000 })).toEqual({ ok: true });
    expect(verifyWebhook({ secret: WHSEC, headers, body: BODY, nowMs: NOW_MS + 301_000 })).toEqual({ ok: false, reason: 'stale-timestamp' });
  });

  test('a timestamp too far in the future → stale-timestamp', () => {
    const headers = signWebhook(WHSEC, ID, BODY, NOW_MS);
    expect(verifyWebhook({ secret: WHSEC, headers, body: BODY, nowMs: NOW_MS - 301_000 })).toEqual({ ok: false, reason: 'stale-timestamp' });
  });

  test('a custom toleranceSeconds replaces the 300 s default', () => {
    const headers = signWebhook(WHSEC, ID, BODY, NOW_MS);
    expect(verifyWebhook({ secret: WHSEC, headers, body: BODY, nowMs: NOW_MS + 10_000, toleranceSeconds: 10 })).toEqual({ ok: true });
    expect(verifyWebhook({ secret: WHSEC, headers, body: BODY, nowMs: NOW_MS + 11_000, toleranceSeconds: 10 })).toEqual({
      ok: false,
      reason: 'stale-timestamp',
    });
  });

  test.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const)('a missing %s header → missing-headers', (header) => {
    const headers: Partial<Record<string, string>> = { ...signWebhook(WHSEC, ID, BODY, NOW_MS) };
    delete headers[header];
    expect(verifyWebhook({ secret: WHSEC, headers, body: BODY, nowMs: NOW_MS })).toEqual({ ok: false, reason: 'missing-headers' });
  });

  test('an empty header counts as missing', () => {
    const headers = { ...signWebhook(WHSEC, ID, BODY, NOW_MS), 'webhook-signature': '' };
    expect(verifyWebhook({ secret: WHSEC, headers, body: BODY, nowMs: NOW_MS })).toEqual({ ok: false, reason: 'missing-headers' });
  });

  test.each(['abc', '1700000000.5', '-1700000000', '1700000000000000'])('a webhook-timestamp of %p → bad-timestamp', (timestamp) => {
    const headers = { ...signWebhook(WHSEC, ID, BODY, NOW_MS), 'webhook-timestamp': timestamp };
    expect(verifyWebhook({ secret: WHSEC, headers, body: BODY, nowMs: NOW_MS })).toEqual({ ok: false, reason: 'bad-timestamp' });
  });
});

describe('authentication tag length', () => {
  test('a GCM tag truncated to 4 bytes is refused', () => {
    const encryptor = createEncryptor([parseDataKey(Buffer.alloc(32, 2).toString('base64'))]);
    const [v, id, iv, tag, ct] = encryptor.encrypt('merchant-access-key').split('.');
    const short = Buffer.from(tag!, 'base64url').subarray(0, 4).toString('base64url');
    expect(() => encryptor.decrypt([v, id, iv, short, ct].join('.'))).toThrow('not an encrypted value');
  });
});
