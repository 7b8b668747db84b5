/**
 * KooGallery V2 request signing (spec §1.2): the test vector, case handling, timestamp
 * skew, replay protection and URL composition.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpMerchantClient } from '../../src/clients/merchant';
import type { NewInstanceBody } from '../../src/protocol/requests';
import {
  bodyDigest,
  canonicalRequest,
  computeV2Signature,
  hexSignaturesEqual,
  newNonce,
  NonceCache,
  signedUrl,
  signV2Request,
  timestampToMs,
  verifyV2Request,
  type V2VerifyOptions,
} from '../../src/protocol/signing';

// The spec's §1.2 test vector.
const ACCESS_KEY = 'myAccessKey123';
const NONCE = '50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA';
const TIMESTAMP = '1680508066618';
const TIMESTAMP_MS = 1_680_508_066_618;
const BODY =
  '{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}';
const INNER = 'c797e025415b707f94466c904359325904dacab7f55b85864e4f16aaa18a2418';
const SIGNATURE = 'CB13E2BA0102670F690F0116EBEC93E35C4411D577DF60AE7444FA3B1CB8A902';

/** Options that verify the test vector at its own instant; `overrides` replaces any part. */
function vectorOptions(overrides: Partial<V2VerifyOptions> = {}): V2VerifyOptions {
  return {
    accessKey: ACCESS_KEY,
    body: BODY,
    params: { signature: SIGNATURE, timestamp: TIMESTAMP, nonce: NONCE },
    nowMs: TIMESTAMP_MS,
    ...overrides,
  };
}

describe('computeV2Signature', () => {
  test('the inner digest of the spec test vector body is the documented lower-case hex', () => {
    expect(bodyDigest(ACCESS_KEY, BODY)).toBe(INNER);
  });

  test('the canonical request is accessKey + nonce + timestamp + inner, and its HMAC is the documented signature', () => {
    const canonical = canonicalRequest(ACCESS_KEY, NONCE, TIMESTAMP, INNER);
    expect(canonical).toBe(`${ACCESS_KEY}${NONCE}${TIMESTAMP}${INNER}`);
    // The one step left to plain node:crypto: the outer HMAC, upper-cased, over the project's canonical request.
    expect(createHmac('sha256', ACCESS_KEY).update(canonical).digest('hex').toUpperCase()).toBe(SIGNATURE);
  });

  test('the spec test vector signs to CB13E2BA…A902', () => {
    expect(computeV2Signature(ACCESS_KEY, NONCE, TIMESTAMP, BODY)).toBe(SIGNATURE);
  });

  test('a Buffer body with the same bytes gives the same signature as the string', () => {
    expect(computeV2Signature(ACCESS_KEY, NONCE, TIMESTAMP, Buffer.from(BODY, 'utf8'))).toBe(SIGNATURE);
  });

  test('the output is 64 upper-case hex characters', () => {
    const signature = computeV2Signature('another-key', 'abc', '1700000000000', '{}');
    expect(signature).toMatch(/^[0-9A-F]{64}$/);
  });

  test('when one byte of the body changes (re-serialised JSON), then the signature changes', () => {
    const reserialised = JSON.stringify(JSON.parse(BODY), null, 1);
    expect(computeV2Signature(ACCESS_KEY, NONCE, TIMESTAMP, reserialised)).not.toBe(SIGNATURE);
    expect(computeV2Signature(ACCESS_KEY, NONCE, TIMESTAMP, BODY.replace('"1"', '"0"'))).not.toBe(SIGNATURE);
  });

  test('when the key, nonce or timestamp changes, then the signature changes', () => {
    expect(computeV2Signature('myAccessKey124', NONCE, TIMESTAMP, BODY)).not.toBe(SIGNATURE);
    expect(computeV2Signature(ACCESS_KEY, NONCE.toLowerCase(), TIMESTAMP, BODY)).not.toBe(SIGNATURE);
    expect(computeV2Signature(ACCESS_KEY, NONCE, '1680508066', BODY)).not.toBe(SIGNATURE);
  });
});

describe('hexSignaturesEqual', () => {
  test('compares case-insensitively', () => {
    expect(hexSignaturesEqual(SIGNATURE, SIGNATURE.toLowerCase())).toBe(true);
    expect(hexSignaturesEqual(SIGNATURE.toLowerCase(), SIGNATURE)).toBe(true);
  });

  test('different values or lengths are not equal (and do not throw)', () => {
    expect(hexSignaturesEqual(SIGNATURE, SIGNATURE.replace(/2$/, '3'))).toBe(false);
    expect(hexSignaturesEqual(SIGNATURE, SIGNATURE.slice(0, 63))).toBe(false);
    expect(hexSignaturesEqual(SIGNATURE, '')).toBe(false);
  });
});

describe('verifyV2Request', () => {
  test('when the spec test vector is verified at its own instant, then it is accepted', () => {
    expect(verifyV2Request(vectorOptions())).toEqual({ ok: true });
  });

  test('when the signature is lower-case hex, then it is accepted', () => {
    const params = { signature: SIGNATURE.toLowerCase(), timestamp: TIMESTAMP, nonce: NONCE };
    expect(verifyV2Request(vectorOptions({ params }))).toEqual({ ok: true });
  });

  test('when the body arrives as a Buffer, then the raw bytes are verified', () => {
    expect(verifyV2Request(vectorOptions({ body: Buffer.from(BODY, 'utf8') }))).toEqual({ ok: true });
  });

  test('when the timestamp is in seconds, then it is read as seconds and accepted', () => {
    const nowMs = 1_700_000_000_500;
    const timestamp = '1700000000';
    const signature = computeV2Signature(ACCESS_KEY, NONCE, timestamp, BODY);
    expect(verifyV2Request({ accessKey: ACCESS_KEY, body: BODY, params: { signature, timestamp, nonce: NONCE }, nowMs })).toEqual({ ok: true });
  });

  test('when a seconds timestamp is 61 s old, then it is stale', () => {
    const timestamp = '1700000000';
    const signature = computeV2Signature(ACCESS_KEY, NONCE, timestamp, BODY);
    const result = verifyV2Request({ accessKey: ACCESS_KEY, body: BODY, params: { signature, timestamp, nonce: NONCE }, nowMs: 1_700_000_061_000 });
    expect(result).toEqual({ ok: false, reason: 'stale-timestamp' });
  });

  test('when the clock differs by exactly 60 000 ms in either direction, then the request is accepted', () => {
    expect(verifyV2Request(vectorOptions({ nowMs: TIMESTAMP_MS + 60_000 }))).toEqual({ ok: true });
    expect(verifyV2Request(vectorOptions({ nowMs: TIMESTAMP_MS - 60_000 }))).toEqual({ ok: true });
  });

  test('when the request is 60 001 ms old, then it is rejected as stale', () => {
    expect(verifyV2Request(vectorOptions({ nowMs: TIMESTAMP_MS + 60_001 }))).toEqual({ ok: false, reason: 'stale-timestamp' });
  });

  test('when the request is 60 001 ms in the future, then it is rejected as stale', () => {
    expect(verifyV2Request(vectorOptions({ nowMs: TIMESTAMP_MS - 60_001 }))).toEqual({ ok: false, reason: 'stale-timestamp' });
  });

  test('when a custom tolerance is given, then it replaces the 60 s default', () => {
    expect(verifyV2Request(vectorOptions({ nowMs: TIMESTAMP_MS + 5_000, toleranceMs: 5_000 }))).toEqual({ ok: true });
    expect(verifyV2Request(vectorOptions({ nowMs: TIMESTAMP_MS + 5_001, toleranceMs: 5_000 }))).toEqual({ ok: false, reason: 'stale-timestamp' });
  });

  test('when nowMs is omitted, then the current clock is used', () => {
    const fresh = signV2Request(ACCESS_KEY, BODY);
    expect(verifyV2Request({ accessKey: ACCESS_KEY, body: BODY, params: fresh })).toEqual({ ok: true });
    // The spec vector is from 2023: stale against the real clock.
    expect(verifyV2Request({ ...vectorOptions(), nowMs: undefined })).toEqual({ ok: false, reason: 'stale-timestamp' });
  });

  test('when the signature does not match, then bad-signature', () => {
    const params = { signature: SIGNATURE.replace(/^C/, 'D'), timestamp: TIMESTAMP, nonce: NONCE };
    expect(verifyV2Request(vectorOptions({ params }))).toEqual({ ok: false, reason: 'bad-signature' });
  });

  test('when the body was altered, then bad-signature', () => {
    expect(verifyV2Request(vectorOptions({ body: BODY.replace('newInstance', 'releaseInstance') }))).toEqual({ ok: false, reason: 'bad-signature' });
  });

  test('when the access key is wrong, then bad-signature', () => {
    expect(verifyV2Request(vectorOptions({ accessKey: 'otherAccessKey' }))).toEqual({ ok: false, reason: 'bad-signature' });
  });

  test('when the signature is truncated, then bad-signature (no exception)', () => {
    const params = { signature: SIGNATURE.slice(0, 32), timestamp: TIMESTAMP, nonce: NONCE };
    expect(verifyV2Request(vectorOptions({ params }))).toEqual({ ok: false, reason: 'bad-signature' });
  });

  test.each([
    ['signature', { timestamp: TIMESTAMP, nonce: NONCE }],
    ['timestamp', { signature: SIGNATURE, nonce: NONCE }],
    ['nonce', { signature: SIGNATURE, timestamp: TIMESTAMP }],
    ['every parameter', {}],
  ])('when %s is missing, then missing-parameters', (_name, params) => {
    expect(verifyV2Request(vectorOptions({ params }))).toEqual({ ok: false, reason: 'missing-parameters' });
  });

  test('when a parameter is an empty string, then missing-parameters', () => {
    const params = { signature: SIGNATURE, timestamp: TIMESTAMP, nonce: '' };
    expect(verifyV2Request(vectorOptions({ params }))).toEqual({ ok: false, reason: 'missing-parameters' });
  });

  test.each(['abc', '1680508066618x', '-1680508066618', '1.680508066618e12', ' 1680508066618', '12345678901234567'])(
    'when the timestamp is %p, then bad-timestamp',
    (timestamp) => {
      const params = { signature: SIGNATURE, timestamp, nonce: NONCE };
      expect(verifyV2Request(vectorOptions({ params }))).toEqual({ ok: false, reason: 'bad-timestamp' });
    },
  );

  test('when the same nonce comes twice within the window, then the second is a replay', () => {
    const cache = new NonceCache(120_000, () => TIMESTAMP_MS);
    expect(verifyV2Request(vectorOptions({ rememberNonce: cache.remember }))).toEqual({ ok: true });
    expect(verifyV2Request(vectorOptions({ rememberNonce: cache.remember }))).toEqual({ ok: false, reason: 'replayed-nonce' });
    expect(cache.size).toBe(1);
  });

  test('when a request with a bad signature carries a nonce, then the nonce is not remembered', () => {
    const cache = new NonceCache(120_000, () => TIMESTAMP_MS);
    const forged = { signature: 'F'.repeat(64), timestamp: TIMESTAMP, nonce: NONCE };
    expect(verifyV2Request(vectorOptions({ params: forged, rememberNonce: cache.remember }))).toEqual({ ok: false, reason: 'bad-signature' });
    expect(cache.size).toBe(0);
    // The genuine request with that nonce still goes through afterwards.
    expect(verifyV2Request(vectorOptions({ rememberNonce: cache.remember }))).toEqual({ ok: true });
    expect(cache.size).toBe(1);
  });

  test('when a request is stale or malformed, then the nonce guard is not consulted', () => {
    const rememberNonce = jest.fn(() => true);
    verifyV2Request(vectorOptions({ nowMs: TIMESTAMP_MS + 60_001, rememberNonce }));
    verifyV2Request(vectorOptions({ params: { signature: SIGNATURE, timestamp: 'x', nonce: NONCE }, rememberNonce }));
    expect(rememberNonce).not.toHaveBeenCalled();
  });

  test('when the request is valid, then the nonce guard receives the nonce and the timestamp in ms', () => {
    const rememberNonce = jest.fn(() => true);
    expect(verifyV2Request(vectorOptions({ rememberNonce }))).toEqual({ ok: true });
    expect(rememberNonce).toHaveBeenCalledTimes(1);
    expect(rememberNonce).toHaveBeenCalledWith(NONCE, TIMESTAMP_MS);
  });
});

describe('signV2Request', () => {
  test('signs with a fresh nonce and the given millisecond timestamp', () => {
    const params = signV2Request(ACCESS_KEY, BODY, 1_700_000_000_123);
    expect(params.timestamp).toBe('1700000000123');
    expect(params.nonce).toMatch(/^[0-9A-F]{64}$/);
    expect(params.signature).toBe(computeV2Signature(ACCESS_KEY, params.nonce, params.timestamp, BODY));
    expect(verifyV2Request({ accessKey: ACCESS_KEY, body: BODY, params, nowMs: 1_700_000_000_123 })).toEqual({ ok: true });
  });

  test('with the test vector\'s nonce and instant, it signs the vector body to the documented signature', () => {
    expect(signV2Request(ACCESS_KEY, BODY, TIMESTAMP_MS, NONCE)).toEqual({ signature: SIGNATURE, timestamp: TIMESTAMP, nonce: NONCE });
  });

  test('two signatures of the same body use different nonces', () => {
    const a = signV2Request(ACCESS_KEY, BODY, 1_700_000_000_000);
    const b = signV2Request(ACCESS_KEY, BODY, 1_700_000_000_000);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.signature).not.toBe(b.signature);
  });
});

describe('signedUrl', () => {
  const params = { signature: SIGNATURE, timestamp: TIMESTAMP, nonce: NONCE };

  test('appends signature, timestamp and nonce to a URL without a query', () => {
    const url = new URL(signedUrl('https://www.isvwebsite.com/saasproduce', params));
    expect(url.origin + url.pathname).toBe('https://www.isvwebsite.com/saasproduce');
    expect(url.searchParams.get('signature')).toBe(SIGNATURE);
    expect(url.searchParams.get('timestamp')).toBe(TIMESTAMP);
    expect(url.searchParams.get('nonce')).toBe(NONCE);
    expect([...url.searchParams.keys()]).toEqual(['signature', 'timestamp', 'nonce']);
  });

  test('keeps the query parameters the production URL already has', () => {
    const url = new URL(signedUrl('https://merchant.example.com/produce?tenant=a%20b&region=cn-north-4', params));
    expect(url.pathname).toBe('/produce');
    expect(url.searchParams.get('tenant')).toBe('a b');
    expect(url.searchParams.get('region')).toBe('cn-north-4');
    expect(url.searchParams.get('signature')).toBe(SIGNATURE);
    expect(url.searchParams.get('timestamp')).toBe(TIMESTAMP);
    expect(url.searchParams.get('nonce')).toBe(NONCE);
    expect([...url.searchParams.keys()]).toEqual(['tenant', 'region', 'signature', 'timestamp', 'nonce']);
  });

  test('replaces stale signature parameters rather than duplicating them', () => {
    const url = new URL(signedUrl('https://merchant.example.com/p?signature=old&nonce=old&keep=1', params));
    expect(url.searchParams.getAll('signature')).toEqual([SIGNATURE]);
    expect(url.searchParams.getAll('nonce')).toEqual([NONCE]);
    expect(url.searchParams.get('keep')).toBe('1');
  });
});

describe('the merchant client on the test vector', () => {
  test('when it posts the vector body with the vector nonce and instant, then the merchant receives exactly those bytes and the documented signature', async () => {
    const requests: Array<{ url: string; contentType: string | undefined; body: string }> = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        requests.push({ url: req.url ?? '', contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"resultCode":"000000","instanceId":"i-1"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const productionUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/saasproduce`;
    const client = createHttpMerchantClient({ timeoutMs: 5000, now: () => TIMESTAMP_MS, nonce: () => NONCE });
    // The vector body's fields, in the vector's order.
    const body = {
      activity: 'newInstance',
      businessId: '87b94795-0603-4e24-8ae5-69420d60e3c8',
      orderId: 'CS2211181819B4LVS',
      orderLineId: 'CS2211181819B4LVS-000001',
      testFlag: '1',
    } satisfies NewInstanceBody;

    try {
      const result = await client.post({ merchantId: 'm', productionUrl, accessKey: ACCESS_KEY }, body);
      expect(result).toMatchObject({ httpStatus: 200, json: { resultCode: '000000', instanceId: 'i-1' } });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }

    expect(requests).toHaveLength(1);
    const url = new URL(requests[0]!.url, productionUrl);
    expect(requests[0]!.body).toBe(BODY);
    expect(requests[0]!.contentType).toBe('application/json;charset=utf-8');
    expect(url.pathname).toBe('/saasproduce');
    expect(Object.fromEntries(url.searchParams)).toEqual({ signature: SIGNATURE, timestamp: TIMESTAMP, nonce: NONCE });
  });
});

describe('NonceCache', () => {
  test('remembers a new nonce once and refuses it afterwards', () => {
    const cache = new NonceCache(1_000, () => 0);
    expect(cache.remember('a')).toBe(true);
    expect(cache.remember('a')).toBe(false);
    expect(cache.remember('b')).toBe(true);
    expect(cache.size).toBe(2);
  });

  test('when the window has passed, then the nonce is evicted and accepted again', () => {
    let now = 1_000_000;
    const cache = new NonceCache(120_000, () => now);
    expect(cache.remember('n1')).toBe(true);

    now += 120_000; // exactly at the edge: still remembered
    expect(cache.remember('n1')).toBe(false);
    expect(cache.size).toBe(1);

    now += 1; // one millisecond past the window
    expect(cache.remember('n1')).toBe(true);
    expect(cache.size).toBe(1);
  });

  test('evicts only the entries older than the window', () => {
    let now = 0;
    const cache = new NonceCache(10_000, () => now);
    cache.remember('old');
    now = 6_000;
    cache.remember('middle');
    now = 12_000;
    cache.remember('new'); // evicts 'old' (0 < 2 000), keeps 'middle' (6 000 ≥ 2 000)
    expect(cache.size).toBe(2);
    expect(cache.remember('middle')).toBe(false);
    expect(cache.remember('old')).toBe(true);
  });

  test('the default window is 120 s', () => {
    let now = 0;
    const cache = new NonceCache(undefined, () => now);
    cache.remember('x');
    now = 120_000;
    expect(cache.remember('x')).toBe(false);
    now = 120_001;
    expect(cache.remember('x')).toBe(true);
  });

  test('remember is bound: it can be passed around as a callback', () => {
    const cache = new NonceCache(1_000, () => 0);
    const remember = cache.remember;
    expect(remember('detached')).toBe(true);
    expect(remember('detached')).toBe(false);
  });
});

describe('newNonce', () => {
  test('is 64 upper-case hex characters', () => {
    expect(newNonce()).toMatch(/^[0-9A-F]{64}$/);
  });

  test('differs on each call', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => newNonce()));
    expect(nonces.size).toBe(50);
  });
});

describe('timestampToMs', () => {
  test('a 13-digit value is read as milliseconds', () => {
    expect(timestampToMs('1680508066618')).toBe(1_680_508_066_618);
  });

  test('a 10-digit value is read as seconds', () => {
    expect(timestampToMs('1680508066')).toBe(1_680_508_066_000);
  });

  test('the switch from seconds to milliseconds is at 10^11', () => {
    expect(timestampToMs('99999999999')).toBe(99_999_999_999_000);
    expect(timestampToMs('100000000000')).toBe(100_000_000_000);
  });

  test('leading zeros and zero are numbers', () => {
    expect(timestampToMs('0')).toBe(0);
    expect(timestampToMs('0001680508066')).toBe(1_680_508_066_000);
  });

  test.each(['', 'abc', '-5', '1.5', '1e12', ' 1', '1 ', '12345678901234567'])('%p is not a timestamp', (value) => {
    expect(timestampToMs(value)).toBeUndefined();
  });

  test('16 digits are the longest accepted value', () => {
    expect(timestampToMs('1234567890123456')).toBe(1_234_567_890_123_456);
  });
});
