/**
 * Property-based fuzz of POST /v1/marketplace/events on real PostgreSQL and a real Temporal
 * dev server (no worker). Generated envelopes and event bodies — valid ones mutated field by
 * field, wrong types, missing fields, huge strings, unicode, NUL characters, numbers as
 * strings, nested junk, text that is not JSON — signed correctly, unsigned, wrongly signed
 * or stale, with generated headers, content types, charsets and content encodings.
 *
 * Every answer: no 5xx; a 4xx is the JSON error shape; a 400 about a body that was read
 * names the field (the field that was mutated, when one was); a refused request writes
 * nothing; a signed request that was accepted, sent again under its webhook-id, gets the
 * same answer and writes nothing, and a different body under that id is refused.
 * Sizes: FUZZ_RUNS (see support/settings.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { computeWebhookSignature, type WebhookHeaders } from '../../src/platform/security/standard-webhooks';
import { changeRequested, validEvent, type Event } from './support/events';
import { contentEncoding, contentType, decodableEncoding, encodeBody, strayHeaders } from './support/http-bits';
import { bodyOf, bodyText, isJsonText, paddedTo, toJsonText, WEBHOOK_LIMIT_BYTES, type Body, type Mutated, type Mutation } from './support/json';
import { BrokenRule, checkNothingWritten, describeRequest, isAbout } from './support/oracles';
import { FuzzSession, type Exchanged } from './support/session';
import { fuzzTest, type Tally } from './support/settings';
import { utf8Bytes } from './support/wire';
import { changes } from './support/writes';

const PATH = '/v1/marketplace/events';
/** Answers that are stored with the event (the subscription said so), so a redelivery gets them again. */
const STORED_REFUSALS = new Set(['subscription_ended', 'not_checkable']);

// No worker: a change check on a running subscription is refused at this deadline (+1 s).
const session = new FuzzSession({ env: { CHANGE_CHECK_DEADLINE_MS: '1000' } });
beforeAll(() => session.start());
afterAll(() => session.stop());

// ---------------------------------------------------------------------------------------
// Bodies

type EventBody = Body<Event>;

interface BuiltBody {
  bytes: Buffer;
  /** The mutations' fields, when the body is a mutated event. */
  mutated?: Mutated;
  /** Whether the bytes are JSON, read as UTF-8 (as the API reads them). */
  isJson: boolean;
}

function build(body: EventBody): BuiltBody {
  const { text, mutated } = bodyText(body);
  const bytes = Buffer.from(text, 'utf8');
  return { bytes, ...(mutated ? { mutated } : {}), isJson: isJsonText(bytes.toString('utf8')) };
}

// ---------------------------------------------------------------------------------------
// Signing

const secret = (): string => session.h.config.webhook.secret;
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
/** A header value as the server reads it: HTTP drops spaces and tabs around it. */
const asReceived = (value: string): string => value.replace(/^[ \t]+|[ \t]+$/g, '');
const noControl = (s: string): boolean => !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(s);

const webhookId: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.stringMatching(/^msg_[A-Za-z0-9]{16,26}$/), weight: 10 },
  { arbitrary: fc.string({ minLength: 1, maxLength: 60 }).filter((s) => noControl(s) && asReceived(s) !== ''), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map(utf8Bytes).filter((s) => noControl(s) && asReceived(s) !== ''), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom(199, 200, 201, 1000), fc.stringMatching(/^[A-Za-z0-9]{16}$/)).map(([n, salt]) => `${salt}${'m'.repeat(n - 16)}`), weight: 1 },
);

type SignatureStyle = 'plain' | 'rotated' | 'other-versions';
const signatureStyle = fc.constantFrom<SignatureStyle>('plain', 'plain', 'rotated', 'other-versions');

function signatureHeader(style: SignatureStyle, id: string, timestamp: string, bytes: Buffer): string {
  const signature = computeWebhookSignature(secret(), asReceived(id), timestamp, bytes);
  switch (style) {
    case 'plain':
      return signature;
    case 'rotated':
      return `v1,${Buffer.alloc(32, 1).toString('base64')} ${signature}`;
    case 'other-versions':
      return `v1a,${signature.slice(3)} v2,AAAA ${signature} v0,`;
  }
}

function signedHeaders(id: string, bytes: Buffer, style: SignatureStyle, skewSeconds: number): WebhookHeaders {
  const timestamp = String(nowSeconds() + skewSeconds);
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signatureHeader(style, id, timestamp, bytes) };
}

// ---------------------------------------------------------------------------------------
// Sending and checking

/**
 * What a webhook may write: an accepted one anything; one whose stored answer is a refusal
 * the subscription gave (it ended, nothing to check), its inbound event and nothing else;
 * any other refusal nothing.
 */
function checkWrites(x: Exchanged): void {
  if (x.response.status < 300) return;
  if (x.error && STORED_REFUSALS.has(x.error.code)) {
    const written = changes(x.before, x.after);
    if (written.some((c) => !c.startsWith('inbound_events:'))) {
      throw new BrokenRule(`a stored ${x.error.code} answer writes only its inbound event; written: ${written.join(', ')}`, x.request, x.response);
    }
    return;
  }
  checkNothingWritten('a refused request writes nothing', x.before, x.after, x.request, x.response);
}

/** Fields that a change of another field can make wrong (the schemas' cross-field rules). */
const DEPENDENTS: Record<string, string[]> = {
  'data.chargingMode': ['data.expireTime', 'data.periodType', 'data.periodNumber'],
  'data.subscription': ['data.instanceId'],
};

/** A 400 about a body with one mutation names that field (or one that depends on it). */
function checkNamesMutatedField(x: Exchanged, built: BuiltBody): void {
  const struck = built.mutated?.struck;
  if (!struck || struck.length !== 1 || x.response.status !== 400 || x.error?.code !== 'invalid_request') return;
  const { fields, depth } = struck[0]!;
  if (depth === 0 || fields.includes('type')) return;
  const named = (x.error.details ?? []).map((d) => d.field);
  if (named.includes('webhook-id')) return;
  const about = (field: string): boolean =>
    fields.some((mutated) => isAbout(field, mutated) || (DEPENDENTS[mutated] ?? []).includes(field)) || (field === '(body)' && depth <= 1);
  if (!named.some(about)) throw new BrokenRule(`a 400 must name the field that was changed (${fields.map((field) => JSON.stringify(field)).join(' or ')}); it names ${named.join(', ')}`, x.request, x.response);
}

/** Checks that hold for a correctly signed request, and the redelivery and reuse of its webhook-id. */
async function checkSigned(x: Exchanged, built: BuiltBody, id: string, tally: Tally, again: { resign: boolean; style: SignatureStyle }, other?: Buffer): Promise<void> {
  checkWrites(x);
  // The body is read before anything is checked: one too large is a 413 whatever it holds.
  if (built.bytes.length > WEBHOOK_LIMIT_BYTES) {
    if (x.response.status !== 413) throw new BrokenRule(`a body of ${built.bytes.length} bytes (over 256 kB) is a 413`, x.request, x.response);
    return;
  }
  if (x.response.status === 413) throw new BrokenRule(`a body of ${built.bytes.length} bytes is within the limit`, x.request, x.response);
  if (asReceived(id).length > 200) {
    if (x.response.status !== 400 || !(x.error?.details ?? []).some((d) => d.field === 'webhook-id')) {
      throw new BrokenRule('a webhook-id over 200 characters is a 400 naming webhook-id', x.request, x.response);
    }
    return;
  }
  if (x.response.status === 401) throw new BrokenRule('a correctly signed, fresh request is not a 401', x.request, x.response);
  if (built.isJson && x.error?.code === 'invalid_json') throw new BrokenRule('a JSON body is not answered invalid_json', x.request, x.response);
  checkNamesMutatedField(x, built);

  const answered = x.response.status < 300 || (x.error !== undefined && STORED_REFUSALS.has(x.error.code));
  if (!answered) return;

  // The order system redelivers: the same webhook-id and body, signed again or as it was.
  const headers = again.resign ? { ...x.request.headers, ...signedHeaders(id, built.bytes, again.style, 0) } : x.request.headers;
  const replay = await session.exchange({ ...x.request, headers }, tally);
  const same =
    replay.response.status === x.response.status &&
    // The same JSON: PostgreSQL's jsonb, where the answer is kept, does not keep the order of keys.
    isDeepStrictEqual(replay.response.json, x.response.json) &&
    replay.response.headers.location === x.response.headers.location;
  if (!same) {
    throw new BrokenRule(
      'a redelivered webhook-id gets the first answer',
      replay.request,
      replay.response,
      `first answer: ${x.response.status} location ${x.response.headers.location ?? '-'} ${x.response.text}`,
    );
  }
  checkNothingWritten('a redelivery writes nothing', replay.before, replay.after, replay.request, replay.response);

  // Another payload under the same webhook-id is never taken.
  if (other && !other.equals(built.bytes)) {
    const reuse = await session.exchange({ ...x.request, headers: { ...x.request.headers, ...signedHeaders(id, other, 'plain', 0) }, body: other }, tally);
    if (reuse.response.status < 300) throw new BrokenRule('a webhook-id used for another payload is refused', reuse.request, reuse.response, `first request: ${describeRequest(x.request)}`);
    checkNothingWritten('a refused request writes nothing', reuse.before, reuse.after, reuse.request, reuse.response);
  }
}


// ---------------------------------------------------------------------------------------
// Bad signatures

const FAULTS = [
  'no-headers', 'no-id', 'no-timestamp', 'no-signature', 'empty-values', 'wrong-secret', 'stale', 'future', 'bad-timestamp', 'ms-timestamp',
  'tampered-body', 'other-id', 'wrong-version', 'garbage-signature', 'truncated-signature',
] as const;

interface FaultCase {
  fault: (typeof FAULTS)[number];
  id: string;
  staleBy: number;
  badTimestamp: string;
  garbage: string;
}

const faultCase: fc.Arbitrary<FaultCase> = fc.record({
  fault: fc.constantFrom(...FAULTS),
  id: webhookId,
  staleBy: fc.integer({ min: 302, max: 10_000_000 }),
  badTimestamp: fc.constantFrom('abc', '1e9', '-5', '12345678901234', '0x10', '1.5', '１２３', '99999999999999999999'),
  garbage: fc.oneof(fc.string({ maxLength: 60 }).filter(noControl), fc.constantFrom('v1,', 'v1', ',', 'v1,=', 'v1,AAAA')),
});

/** The signature headers with one thing wrong, and the bytes to send with them. */
function faulty(c: FaultCase, body: Buffer): { headers: Record<string, string>; bytes: Buffer } {
  const signed = signedHeaders(c.id, body, 'plain', 0);
  const resigned = (ts: string, key = secret()): Record<string, string> => ({ ...signed, 'webhook-timestamp': ts, 'webhook-signature': computeWebhookSignature(key, asReceived(c.id), ts, body) });
  const without = (name: keyof WebhookHeaders): Record<string, string> => Object.fromEntries(Object.entries(signed).filter(([k]) => k !== name));
  switch (c.fault) {
    case 'no-headers':
      return { headers: {}, bytes: body };
    case 'no-id':
      return { headers: without('webhook-id'), bytes: body };
    case 'no-timestamp':
      return { headers: without('webhook-timestamp'), bytes: body };
    case 'no-signature':
      return { headers: without('webhook-signature'), bytes: body };
    case 'empty-values':
      return { headers: { 'webhook-id': '', 'webhook-timestamp': '', 'webhook-signature': '' }, bytes: body };
    case 'wrong-secret':
      return { headers: resigned(String(nowSeconds()), 'whsec_b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC14eXo='), bytes: body };
    case 'stale':
      return { headers: resigned(String(nowSeconds() - c.staleBy)), bytes: body };
    case 'future':
      return { headers: resigned(String(nowSeconds() + c.staleBy)), bytes: body };
    case 'bad-timestamp':
      return { headers: { ...signed, 'webhook-timestamp': utf8Bytes(c.badTimestamp) }, bytes: body };
    case 'ms-timestamp':
      return { headers: resigned(String(Date.now())), bytes: body };
    case 'tampered-body':
      return { headers: signed, bytes: Buffer.concat([body, Buffer.from(' ')]) };
    case 'other-id':
      return { headers: { ...signed, 'webhook-id': `${asReceived(c.id)}x` }, bytes: body };
    case 'wrong-version':
      return { headers: { ...signed, 'webhook-signature': signed['webhook-signature'].replace(/^v1,/, c.id.length % 2 === 0 ? 'v2,' : 'V1,') }, bytes: body };
    case 'garbage-signature':
      return { headers: { ...signed, 'webhook-signature': c.garbage }, bytes: body };
    case 'truncated-signature':
      return { headers: { ...signed, 'webhook-signature': signed['webhook-signature'].slice(0, -2) }, bytes: body };
  }
}

// ---------------------------------------------------------------------------------------
// Transport: how the body travels

interface TransportCase {
  body: EventBody;
  encoding: string;
  /** Whether the bytes are what the Content-Encoding says, or plain, cut short, corrupted. */
  honesty: 'honest' | 'plain' | 'truncated' | 'corrupt';
  /** Signed over the decoded body (as the API verifies) or over the bytes sent. */
  signOver: 'decoded' | 'sent';
  text: 'utf8' | 'utf8-bom' | 'utf16le' | 'latin1';
  charset: string | undefined;
  baseType: string;
  size: 'as-is' | 'at-limit' | 'over-limit' | 'bomb';
  chunked: boolean;
  resign: boolean;
  id: string;
}

const isIdentity = (encoding: string): boolean => ['', 'identity'].includes(asReceived(encoding).toLowerCase());

/** The body as decoded and as sent. */
function transported(c: TransportCase): { built: BuiltBody; decoded: Buffer; sent: Buffer } {
  let built = build(c.body);
  const value = built.mutated?.value;
  if (c.size !== 'as-is' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const target = c.size === 'at-limit' ? WEBHOOK_LIMIT_BYTES : c.size === 'over-limit' ? WEBHOOK_LIMIT_BYTES + 1 : 3 * 1024 * 1024;
    built = { ...built, bytes: Buffer.from(toJsonText(paddedTo(value as Record<string, unknown>, target)), 'utf8') };
  }
  const text = built.bytes.toString('utf8');
  const decoded = { utf8: built.bytes, 'utf8-bom': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), built.bytes]), utf16le: Buffer.from(text, 'utf16le'), latin1: Buffer.from(text, 'latin1') }[c.text];
  const encoded = encodeBody(decoded, asReceived(c.encoding));
  if (!encoded || isIdentity(c.encoding)) return { built, decoded, sent: encoded ?? decoded };
  const sent = {
    honest: encoded,
    plain: decoded,
    truncated: encoded.subarray(0, Math.floor(encoded.length / 2)),
    corrupt: Buffer.from(encoded.map((b, i) => (i % 7 === 3 ? b ^ 0x5a : b))),
  }[c.honesty];
  return { built, decoded, sent };
}

async function checkTransport(c: TransportCase, tally: Tally): Promise<void> {
  const { built, decoded, sent } = transported(c);
  const signedBytes = c.signOver === 'decoded' ? decoded : sent;
  const headers = {
    'content-type': c.charset === undefined ? c.baseType : `${c.baseType}; charset=${c.charset}`,
    'content-encoding': c.encoding,
    ...signedHeaders(c.id, signedBytes, 'plain', 0),
  };
  const x = await session.exchange({ method: 'POST', path: PATH, headers, body: sent, chunked: c.chunked }, tally);
  checkWrites(x);

  if (!decodableEncoding(asReceived(c.encoding))) {
    if (x.error?.code !== 'encoding_unsupported' || x.response.status !== 415) throw new BrokenRule('a content encoding the API cannot decode is a 415 encoding_unsupported', x.request, x.response);
    return;
  }
  if (!isIdentity(c.encoding) && c.honesty !== 'honest') return;
  if (decoded.length > WEBHOOK_LIMIT_BYTES) {
    if (x.response.status !== 413) throw new BrokenRule(`a body of ${decoded.length} bytes (over 256 kB once decoded) is a 413`, x.request, x.response);
    return;
  }
  if (x.response.status === 413) throw new BrokenRule(`a body of ${decoded.length} bytes once decoded is within the limit`, x.request, x.response);
  if (!signedBytes.equals(decoded)) {
    if (x.response.status !== 401) throw new BrokenRule('a signature over the encoded bytes does not verify (the decoded body is signed)', x.request, x.response);
    return;
  }
  // README: 415 for a charset the API cannot read. It reads UTF-8 (and so US-ASCII); a body
  // in another charset read as UTF-8 would be stored with its text garbled.
  const charset = c.charset?.replaceAll('"', '').trim().toLowerCase();
  if (charset && !['utf-8', 'utf8', 'us-ascii'].includes(charset)) {
    if (x.response.status !== 415 || x.error?.code !== 'charset_unsupported') throw new BrokenRule(`a body declared as charset=${c.charset} is a 415 charset_unsupported, not read as UTF-8`, x.request, x.response);
    return;
  }
  const readable: BuiltBody = { bytes: decoded, ...(built.mutated && c.text === 'utf8' ? { mutated: built.mutated } : {}), isJson: c.text === 'utf8' && built.isJson };
  await checkSigned(x, readable, c.id, tally, { resign: c.resign, style: 'plain' });
}

// ---------------------------------------------------------------------------------------
// Properties

describe('POST /v1/marketplace/events', () => {
  fuzzTest(
    'signed events',
    'every answer is a 2xx or the error shape naming the field, refusals write nothing, redeliveries get the same answer',
    { share: 0.3 },
    (tally) => {
      const arb = fc.record({
        body: bodyOf(validEvent(session.f)),
        id: webhookId,
        style: signatureStyle,
        skewSeconds: fc.integer({ min: -290, max: 290 }),
        contentType,
        stray: strayHeaders,
        chunked: fc.boolean(),
        resign: fc.boolean(),
        other: bodyOf(validEvent(session.f), fc.constant<Mutation[]>([])),
      });
      return fc.asyncProperty(arb, async (c) => {
        const built = build(c.body);
        const headers = { ...c.stray, ...(c.contentType !== undefined ? { 'content-type': c.contentType } : {}), ...signedHeaders(c.id, built.bytes, c.style, c.skewSeconds) };
        const x = await session.exchange({ method: 'POST', path: PATH, headers, body: built.bytes, chunked: c.chunked }, tally);
        await checkSigned(x, built, c.id, tally, { resign: c.resign, style: c.style }, build(c.other).bytes);
      });
    },
  );

  fuzzTest('bad signatures', 'unsigned, wrongly signed or stale, a 401 before the body is read, and nothing written', { share: 0.1 }, (tally) => {
    const arb = fc.record({ body: bodyOf(validEvent(session.f)), fault: faultCase, contentType, stray: strayHeaders, chunked: fc.boolean() });
    return fc.asyncProperty(arb, async (c) => {
      const { headers, bytes } = faulty(c.fault, build(c.body).bytes);
      const sent = { ...c.stray, ...(c.contentType !== undefined ? { 'content-type': c.contentType } : {}), ...headers };
      const x = await session.exchange({ method: 'POST', path: PATH, headers: sent, body: bytes, chunked: c.chunked }, tally);
      const tooLarge = bytes.length > WEBHOOK_LIMIT_BYTES;
      const expected = tooLarge ? 'payload_too_large' : 'invalid_signature';
      if (x.error?.code !== expected) throw new BrokenRule(`expected ${tooLarge ? 413 : 401} ${expected} (fault: ${c.fault.fault})`, x.request, x.response);
      checkNothingWritten('a refused request writes nothing', x.before, x.after, x.request, x.response);
    });
  });

  fuzzTest('transport', 'content encodings, charsets, sizes and text encodings, read or refused with the right 4xx, never a 5xx', { share: 0.12, msPerCase: 120 }, (tally) => {
    const arb: fc.Arbitrary<TransportCase> = fc.record({
      body: bodyOf(validEvent(session.f), fc.oneof(fc.constant<Mutation[]>([]), fc.constant<Mutation[]>([{ kind: 'delete', pick: 3 }]))),
      encoding: contentEncoding,
      honesty: fc.constantFrom('honest', 'honest', 'honest', 'plain', 'truncated', 'corrupt'),
      signOver: fc.constantFrom('decoded', 'decoded', 'decoded', 'sent'),
      text: fc.constantFrom('utf8', 'utf8', 'utf8', 'utf8-bom', 'utf16le', 'latin1'),
      charset: fc.option(fc.constantFrom('utf-8', 'UTF-8', 'utf8', 'utf-16', 'utf-16le', 'iso-8859-1', 'latin1', 'us-ascii', 'bogus', '"utf-8"', ''), { nil: undefined }),
      baseType: fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/octet-stream'),
      size: fc.constantFrom('as-is', 'as-is', 'as-is', 'at-limit', 'over-limit', 'bomb'),
      chunked: fc.boolean(),
      resign: fc.boolean(),
      id: fc.stringMatching(/^msg_t[A-Za-z0-9]{20}$/),
    });
    return fc.asyncProperty(arb, (c) => checkTransport(c, tally));
  });

  fuzzTest(
    'change checks',
    'on running subscriptions (no worker, so refused at the deadline), the same rules, and the same verdict again',
    { share: 1 / 1500, min: 2, msPerCase: 5_000 },
    (tally) => {
      const arb = fc.record({
        body: bodyOf(changeRequested(session.f, { running: true }), fc.constant<Mutation[]>([])),
        id: webhookId.filter((id) => asReceived(id).length <= 200),
        resign: fc.boolean(),
      });
      return fc.asyncProperty(arb, async (c) => {
        const built = build(c.body);
        const headers = { 'content-type': 'application/json', ...signedHeaders(c.id, built.bytes, 'plain', 0) };
        const x = await session.exchange({ method: 'POST', path: PATH, headers, body: built.bytes }, tally);
        await checkSigned(x, built, c.id, tally, { resign: c.resign, style: 'plain' });
      });
    },
  );
});
