/**
 * Generated parts of requests other than JSON: content types and charsets, body encodings,
 * operator tokens, path ids (percent-encoded, dotted, very long, unicode, malformed) and
 * stray headers. Each generated path id knows what the API should make of it.
 */
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { utf8Bytes } from './wire';

/** Content types, mostly JSON, some odd, some malformed. `undefined`: no content-type header. */
export const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 10 },
  {
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8', 'application/json;charset=UTF-8', 'APPLICATION/JSON', 'application/json; charset="utf-8"', 'application/vnd.order+json',
      'text/plain', 'text/json', 'application/x-www-form-urlencoded', 'application/octet-stream', 'multipart/form-data; boundary=x', '*/*', '',
      'application/json; charset=latin1', 'application/json; charset=utf-16le', 'application/json; charset=utf-7', 'application/json; charset=bogus',
      'application/json; charset', 'application/json;;', 'application/json; charset="', ';', '/', 'json', 'application/', 'a/b; c="d', 'application/json, text/plain',
    ),
    weight: 4,
  },
  { arbitrary: fc.constant(undefined), weight: 1 },
  { arbitrary: fc.string({ maxLength: 30 }), weight: 1 },
);

/** A body's Content-Encoding as declared; how it is really encoded is a separate choice. */
export const contentEncoding: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom('identity', 'gzip', 'deflate', 'br'), weight: 6 },
  { arbitrary: fc.constantFrom('GZIP', 'Identity', 'x-gzip', 'compress', 'zstd', 'bogus', 'gzip, deflate', 'identity, gzip', '', ' gzip', 'gzip;q=1'), weight: 3 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
);

const zstdCompress = (zlib as unknown as { zstdCompressSync?: (b: Buffer) => Buffer }).zstdCompressSync;

/** Whether the API's body reader can decode this Content-Encoding (body-parser's list, node's zstd where it has one). */
export function decodableEncoding(encoding: string): boolean {
  const e = (encoding || 'identity').toLowerCase();
  return ['identity', 'gzip', 'deflate', 'br'].includes(e) || (e === 'zstd' && 'createZstdDecompress' in zlib);
}

/** The bytes of `body` under the declared encoding, when we know how to make them. */
export function encodeBody(body: Buffer, encoding: string): Buffer | undefined {
  switch ((encoding || 'identity').toLowerCase()) {
    case 'identity':
      return body;
    case 'gzip':
      return gzipSync(body);
    case 'deflate':
      return deflateSync(body);
    case 'br':
      return brotliCompressSync(body);
    case 'zstd':
      return zstdCompress?.(body);
    default:
      return undefined;
  }
}

/**
 * Authorization headers of operator requests: the token as operators send it (any case of
 * the scheme), and near misses. `operatorAccepts` says which of them the API must take.
 */
export function operatorAuthorization(token: string): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(`Bearer ${token}`, `bearer ${token}`, `BEARER ${token}`, `Bearer ${token} `), weight: 8 },
    {
      arbitrary: fc.oneof(
        fc.constantFrom(undefined, '', 'Bearer', 'Bearer ', `Bearer  ${token}`, `Bearer ${token}x`, `Bearer ${token.slice(0, -1)}`, token, `Basic ${Buffer.from(`op:${token}`).toString('base64')}`, `Token ${token}`, `Bearer ${token.toUpperCase()}`, 'Bearer null'),
        fc.string({ maxLength: 40 }).map((s) => `Bearer ${s}`),
        fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => utf8Bytes(`Bearer ${s}`)),
      ),
      weight: 2,
    },
  );
}

/** Whether the API must take this Authorization header: `Bearer <token>`, the scheme in any case (RFC 7235), as HTTP trims it. */
export function operatorAccepts(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  return /^bearer (.+)$/i.exec(header.replace(/^[ \t]+|[ \t]+$/g, ''))?.[1] === token;
}

/** Headers that should change nothing: request ids, who acted, accept, cookies, forwarded-for. */
export const strayHeaders: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      'x-request-id': fc.oneof(fc.string({ maxLength: 150 }), fc.string({ unit: 'grapheme', maxLength: 30 }).map(utf8Bytes)),
      'x-operator': fc.oneof(fc.string({ maxLength: 250 }), fc.string({ unit: 'grapheme', maxLength: 30 }).map(utf8Bytes)),
      accept: fc.constantFrom('*/*', 'text/html', 'application/xml', ''),
      'accept-charset': fc.constantFrom('utf-8', 'latin1', 'utf-16'),
      cookie: fc.string({ maxLength: 40 }),
      'x-forwarded-for': fc.constantFrom('1.2.3.4', 'unknown', '::1, 10.0.0.1'),
      'x-http-method-override': fc.constantFrom('DELETE', 'GET', 'PUT'),
    },
    { requiredKeys: [] },
  )
  .map((headers) => {
    // Node's HTTP client takes no control characters in header values; keep the rest.
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined && !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(v)) out[k] = v;
    return out;
  });

/** What the API should make of a path segment used as an id. */
export type IdVerdict =
  /** Decodes to an id the API takes (letters, digits, . _ : -, 1 to 64 characters). */
  | 'valid'
  /** Decodes to something else: a 400 naming the parameter. */
  | 'invalid'
  /** Malformed percent-encoding: a 400 that cannot name more. */
  | 'undecodable'
  /** Not a single path segment (a slash, a query, a fragment, nothing): no route or another route. */
  | 'not-a-segment';

export interface PathId {
  /** As it goes on the request line. */
  raw: string;
  verdict: IdVerdict;
}

const ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

export function verdictOf(raw: string): IdVerdict {
  if (raw === '' || /[/?#]/.test(raw)) return 'not-a-segment';
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return 'undecodable';
  }
  return ID_PATTERN.test(decoded) ? 'valid' : 'invalid';
}

const percentEncodeAll = (text: string, lower: boolean): string =>
  [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')[lower ? 'toLowerCase' : 'toUpperCase']()}`).join('');

/** Path ids: known ones (so routes reach the database), valid unknown ones, and every odd form. */
export function pathId(known: readonly string[]): fc.Arbitrary<PathId> {
  const raw = fc.oneof(
    { arbitrary: fc.constantFrom(...known), weight: 6 },
    { arbitrary: fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/), weight: 4 },
    { arbitrary: fc.tuple(fc.constantFrom(...known), fc.boolean()).map(([id, lower]) => percentEncodeAll(id, lower)), weight: 2 },
    { arbitrary: fc.constantFrom('.', '..', '...', '.%2e', '%2e%2e', 'a..b', ':', '-', '_', '%2F', 'a%2Fb', '%5C', 'a;b', 'a,b', "a'b", 'a"b', 'a%20b', '+', '%2B', '*', '~', '!', '$'), weight: 2 },
    { arbitrary: fc.constantFrom(63, 64, 65, 200, 1000, 8000).map((n) => 'a'.repeat(n)), weight: 1 },
    { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((s) => encodeURIComponent(s)), weight: 2 },
    { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map((s) => utf8Bytes(s).replace(/[\u0000-\u0020\u007f/?#%]/g, 'x')), weight: 1 },
    { arbitrary: fc.constantFrom('%', '%%', '%zz', '%E0%A4%A', '%C0%AF', '%FF', '%ED%A0%80', '%00', 'a%0Ab', '%u0041', '%2'), weight: 2 },
    { arbitrary: fc.constantFrom('', '?x=1', 'a?b=c', 'a#b', 'a/b', '/'), weight: 1 },
  );
  return raw.map((r) => ({ raw: r, verdict: verdictOf(r) }));
}
