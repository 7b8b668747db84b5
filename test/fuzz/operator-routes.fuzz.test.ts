/**
 * Property-based fuzz of the operator routes and the health check, on real PostgreSQL and a
 * real Temporal dev server (a stand-in worker answers the subscriptions' status queries): PUT /v1/merchants/:merchantId,
 * PUT /v1/merchants/:merchantId/products/:productId, GET /v1/orders/:orderId,
 * POST /v1/orders/:orderId/restart, GET /v1/instances/:instanceId and GET /healthz, with
 * generated path ids (percent-encoded, dotted, very long, unicode, malformed), bodies (valid
 * ones mutated field by field, junk, text that is not JSON), content types, charsets and
 * encodings, with and without the operator token; and any method on any path.
 *
 * Every answer: no 5xx; a 4xx is the JSON error shape; a 400 about a request that was read
 * names the field (the path id, or the body field that was mutated); without the token a
 * 401 before anything is read; a refused request writes nothing, a read never writes; the
 * access key and the instance's password never come back. Sizes: FUZZ_RUNS.
 */
import fc from 'fast-check';
import { validId } from './support/events';
import { CHARGING_MODES } from './support/fixtures';
import { contentType, encodeBody, operatorAccepts, operatorAuthorization, pathId, strayHeaders, type PathId } from './support/http-bits';
import { bodyOf, bodyText, isJsonText, type Body, type Mutated } from './support/json';
import { BrokenRule, checkNothingWritten, isAbout } from './support/oracles';
import { FuzzSession, type Exchanged } from './support/session';
import { fuzzTest, type Tally } from './support/settings';
import type { WireRequest } from './support/wire';
import { fillTemplate, routeTemplates } from './support/routes';
import { changes } from './support/writes';

// The stand-in worker answers the order and instance views' status queries at once (no 2 s wait for a worker).
const session = new FuzzSession({ standInWorker: true });
beforeAll(() => session.start());
afterAll(() => session.stop());

const token = (): string => session.h.config.operatorToken;

// ---------------------------------------------------------------------------------------
// Bodies

/** A JSON body (json.ts), or none at all. */
type RequestBody = Body<Record<string, unknown>> | { kind: 'none' };

interface Encoding {
  contentType: string | undefined;
  text: 'utf8' | 'utf16le' | 'latin1';
  encoding: 'identity' | 'gzip' | 'bogus';
  chunked: boolean;
}

const encoding: fc.Arbitrary<Encoding> = fc.record({
  contentType,
  text: fc.constantFrom<Encoding['text']>('utf8', 'utf8', 'utf8', 'utf8', 'utf16le', 'latin1'),
  encoding: fc.constantFrom<Encoding['encoding']>('identity', 'identity', 'identity', 'identity', 'identity', 'gzip', 'bogus'),
  chunked: fc.boolean(),
});

function bodyArb(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<RequestBody> {
  return fc.oneof({ arbitrary: bodyOf(valid), weight: 12 }, { arbitrary: fc.constant({ kind: 'none' as const }), weight: 1 });
}

interface Built {
  body?: Buffer;
  headers: Record<string, string>;
  chunked: boolean;
  mutated?: Mutated;
  /** Whether the API's JSON reader reads this body as the JSON we meant (when there is one). */
  readAsSent: boolean;
}

/** A content type that express.json reads, as UTF-8: application/json, no charset or a UTF-8 one. */
function readsAsUtf8Json(type: string | undefined): boolean {
  if (type === undefined) return false;
  const match = /^\s*application\/json\s*(?:;\s*charset\s*=\s*"?(utf-?8)"?\s*)?$/i.exec(type);
  return match !== null;
}

function build(body: RequestBody, e: Encoding): Built {
  const headers: Record<string, string> = {};
  if (e.contentType !== undefined) headers['content-type'] = e.contentType;
  // No body, but a PUT or POST still sends an empty one, whose charset the JSON reader checks.
  if (body.kind === 'none') return { headers, chunked: false, readAsSent: e.contentType === undefined || readsAsUtf8Json(e.contentType) };
  const { text, mutated } = bodyText(body);
  const decoded = Buffer.from(text, e.text);
  let sent: Buffer = decoded;
  if (e.encoding !== 'identity') headers['content-encoding'] = e.encoding;
  if (e.encoding === 'gzip') sent = encodeBody(decoded, 'gzip')!;
  const readAsSent = e.encoding !== 'bogus' && e.text === 'utf8' && readsAsUtf8Json(e.contentType) && isJsonText(text, { objectsOnly: true }) && decoded.length <= 64 * 1024;
  return { body: sent, headers, chunked: e.chunked, ...(mutated ? { mutated } : {}), readAsSent };
}

const merchantBody = fc.record(
  {
    name: fc.string({ minLength: 1, maxLength: 60 }).filter((s) => s.trim() !== ''),
    productionUrl: fc.constantFrom('http://127.0.0.1:9/saasproduce', 'https://merchant.example.com/produce', 'http://localhost:8080/p', 'https://a.example/c?d=e', 'http://[::1]:4000/x'),
    protocolVersion: fc.constant('v2'),
    accessKey: fc.stringMatching(/^[A-Za-z0-9+/=_-]{8,64}$/),
    contactEmail: fc.stringMatching(/^[a-z0-9]{1,10}@[a-z]{1,10}\.(com|cn)$/),
  },
  { requiredKeys: ['name', 'productionUrl', 'protocolVersion', 'accessKey'] },
);

const productBody = fc.record({
  name: fc.string({ minLength: 1, maxLength: 60 }).filter((s) => s.trim() !== ''),
  chargingMode: fc.constantFrom(...CHARGING_MODES),
  retentionDays: fc.integer({ min: 1, max: 15 }),
});

function restartBody(): fc.Arbitrary<Record<string, unknown>> {
  const f = session.f;
  const lines = [...f.running.map((s) => s.orderLineId), f.ended.orderLineId, f.shared.orderLineId];
  return fc.record(
    { reason: fc.string({ minLength: 3, maxLength: 80 }).filter((s) => s.trim().length >= 3), orderLineId: fc.oneof(fc.constantFrom(...lines), validId) },
    { requiredKeys: ['reason'] },
  );
}

// ---------------------------------------------------------------------------------------
// Sending and checking

interface OperatorCase {
  method: string;
  /** Path with `{name}` where each id goes, in the order the route reads them. */
  route: string;
  ids: [string, PathId][];
  authorization: string | undefined;
  body: RequestBody;
  encoding: Encoding;
  stray: Record<string, string>;
}

function requestOf(c: OperatorCase): { request: WireRequest; built: Built } {
  const built = build(c.body, c.encoding);
  const path = c.ids.reduce((p, [name, id]) => p.replace(`{${name}}`, id.raw), c.route);
  const headers = { ...c.stray, ...built.headers, ...(c.authorization !== undefined ? { authorization: c.authorization } : {}) };
  return { request: { method: c.method, path, headers, ...(built.body ? { body: built.body } : {}), chunked: built.chunked }, built };
}

/**
 * The rules of an operator route: the token first (401, nothing read or written); a path id
 * the API cannot take is a 400 naming it, one it takes is never named; a single mutation of
 * a body that was read is named; a refusal writes nothing.
 */
function checkOperatorRoute(c: OperatorCase, x: Exchanged, built: Built): void {
  if (x.parserRefused) return;
  if (!operatorAccepts(c.authorization, token())) {
    if (x.response.status !== 401 || x.error?.code !== 'unauthorized') throw new BrokenRule('a request without the operator token is a 401 unauthorized', x.request, x.response);
    checkNothingWritten('a refused request writes nothing', x.before, x.after, x.request, x.response);
    return;
  }
  if (x.response.status === 401) throw new BrokenRule('a request with the operator token is not a 401', x.request, x.response);
  if (x.response.status >= 300) checkNothingWritten('a refused request writes nothing', x.before, x.after, x.request, x.response);
  if (!built.readAsSent) return;

  const named = (x.error?.details ?? []).map((d) => d.field);
  if (x.error?.code === 'invalid_json') throw new BrokenRule('a JSON body is not answered invalid_json', x.request, x.response);
  if (c.ids.some(([, id]) => id.verdict === 'not-a-segment')) return;
  if (c.ids.some(([, id]) => id.verdict === 'undecodable')) {
    if (x.response.status !== 400) throw new BrokenRule('a path id with malformed percent-encoding is a 400', x.request, x.response);
    return;
  }
  const invalid = c.ids.find(([, id]) => id.verdict === 'invalid');
  if (invalid) {
    if (x.response.status !== 400 || !named.includes(invalid[0])) throw new BrokenRule(`a path id the API cannot take is a 400 naming ${invalid[0]}`, x.request, x.response);
    return;
  }
  // Unless the body has a field of that name: path ids and body fields are named alike.
  const wronglyNamed = c.ids.find(([name]) => named.includes(name) && !x.request.body?.includes(`"${name}"`));
  if (wronglyNamed) throw new BrokenRule(`a valid path id (${wronglyNamed[0]}) is not refused`, x.request, x.response);

  const struck = built.mutated?.struck;
  if (struck?.length === 1 && x.response.status === 400 && x.error?.code === 'invalid_request') {
    const { fields, depth } = struck[0]!;
    if (depth > 0 && !named.some((field) => fields.some((m) => isAbout(field, m)) || (field === '(body)' && depth <= 1))) {
      throw new BrokenRule(`a 400 must name the field that was changed (${fields.map((field) => JSON.stringify(field)).join(' or ')}); it names ${named.join(', ')}`, x.request, x.response);
    }
  }
}

function checkWritesOnly(x: Exchanged, allowed: string[], rule: string): void {
  const written = changes(x.before, x.after).filter((c) => !allowed.some((table) => c.startsWith(`${table}:`)));
  if (written.length > 0) throw new BrokenRule(`${rule}; written: ${written.join(', ')}`, x.request, x.response);
}

const ids = (...known: string[]): fc.Arbitrary<PathId> => pathId(known);

/** The property of one operator route: the shared rules, then what the route adds. */
function operatorProperty(tally: Tally, cases: fc.Arbitrary<OperatorCase>, more?: (c: OperatorCase, x: Exchanged) => void): fc.IAsyncProperty<[OperatorCase]> {
  return fc.asyncProperty(cases, async (c) => {
    const { request, built } = requestOf(c);
    const x = await session.exchange(request, tally);
    checkOperatorRoute(c, x, built);
    if (!x.parserRefused) more?.(c, x);
  });
}

const sometimesABody = (valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<RequestBody> =>
  fc.oneof({ arbitrary: fc.constant<RequestBody>({ kind: 'none' }), weight: 6 }, { arbitrary: bodyArb(valid), weight: 1 });

// ---------------------------------------------------------------------------------------
// Properties

describe('operator routes', () => {
  fuzzTest('merchant registration', 'PUT /v1/merchants/:merchantId', { share: 0.12 }, (tally) => {
    const f = session.f;
    const cases = fc.record({
      method: fc.constant('PUT'),
      route: fc.constant('/v1/merchants/{merchantId}'),
      ids: fc.tuple(fc.constant('merchantId'), ids(f.merchantId, f.otherMerchantId, 'FM-fuzz-new-1', 'FM-fuzz-new-2')).map((id) => [id]),
      authorization: operatorAuthorization(token()),
      body: bodyArb(merchantBody),
      encoding,
      stray: strayHeaders,
    });
    return operatorProperty(tally, cases, (_c, x) => {
      if (x.response.status >= 300) return;
      const answer = x.response.json as Record<string, unknown>;
      if ('accessKey' in answer || 'accessKeyEnc' in answer) throw new BrokenRule('the access key is never returned', x.request, x.response);
      checkWritesOnly(x, ['merchants'], 'a merchant PUT writes only its merchant');
    });
  });

  fuzzTest('product registration', 'PUT /v1/merchants/:merchantId/products/:productId', { share: 0.1 }, (tally) => {
    const f = session.f;
    const cases = fc.record({
      method: fc.constant('PUT'),
      route: fc.constant('/v1/merchants/{merchantId}/products/{productId}'),
      ids: fc
        .tuple(ids(f.merchantId, f.merchantId, f.otherMerchantId, 'FM-fuzz-unknown'), ids(f.products.PERIOD, f.products.ON_DEMAND, f.otherProductId, 'FP-fuzz-new-1'))
        .map(([merchantId, productId]): [string, PathId][] => [
          ['merchantId', merchantId],
          ['productId', productId],
        ]),
      authorization: operatorAuthorization(token()),
      body: bodyArb(productBody),
      encoding,
      stray: strayHeaders,
    });
    return operatorProperty(tally, cases, (_c, x) => {
      if (x.response.status < 300) checkWritesOnly(x, ['products'], 'a product PUT writes only its product');
    });
  });

  fuzzTest('orders and instances', 'GET /v1/orders/:orderId, POST /v1/orders/:orderId/restart, GET /v1/instances/:instanceId', { share: 0.14 }, (tally) => {
    const f = session.f;
    const orderId = ids(...f.running.map((s) => s.orderId), f.ended.orderId, f.shared.orderId, 'FO-fuzz-unknown').map((id): [string, PathId][] => [['orderId', id]]);
    const instanceId = ids(...f.running.map((s) => s.instanceId), f.ended.instanceId, 'FI-fuzz-unknown').map((id): [string, PathId][] => [['instanceId', id]]);
    const common = { authorization: operatorAuthorization(token()), encoding, stray: strayHeaders };
    const cases = fc.oneof(
      fc.record({ method: fc.constant('GET'), route: fc.constant('/v1/orders/{orderId}'), ids: orderId, body: sometimesABody(fc.constant({})), ...common }),
      fc.record({ method: fc.constant('POST'), route: fc.constant('/v1/orders/{orderId}/restart'), ids: orderId, body: bodyArb(restartBody()), ...common }),
      fc.record({ method: fc.constant('GET'), route: fc.constant('/v1/instances/{instanceId}'), ids: instanceId, body: sometimesABody(fc.constant({})), ...common }),
    );
    return operatorProperty(tally, cases, (c, x) => {
      if (c.method === 'GET') checkNothingWritten('a read writes nothing', x.before, x.after, x.request, x.response);
      if (c.method === 'POST' && x.response.status < 300) {
        const written = changes(x.before, x.after);
        if (written.length !== 1 || !written[0]!.startsWith('operator_actions:')) {
          throw new BrokenRule(`a restart records one operator action and writes nothing else; written: ${written.join(', ') || 'nothing'}`, x.request, x.response);
        }
      }
      if (c.route.includes('instances') && x.response.status === 200) {
        const answer = x.response.json as { appInfo?: { password?: unknown } | null; appInfoEnc?: unknown };
        if ('appInfoEnc' in answer || (answer.appInfo?.password !== undefined && answer.appInfo.password !== '********')) {
          throw new BrokenRule("an instance's password and encrypted app info are never returned", x.request, x.response);
        }
      }
    });
  });

  fuzzTest(
    'any route',
    'any method on any path, GET /healthz; no 5xx, 4xx in the error shape, reads and refusals write nothing, /healthz is 200 while the services are up',
    { share: 0.12 },
    (tally) => {
      const f = session.f;
      const segment = fc.oneof(
        { arbitrary: fc.constantFrom(f.merchantId, f.products.PERIOD, f.running[0]!.orderId, f.running[0]!.instanceId, f.ended.orderId), weight: 2 },
        { arbitrary: pathId([f.running[1]!.orderId]).map((id) => id.raw), weight: 2 },
      );
      const path = fc.oneof(
        {
          // Every route the app serves, read from its router: each capability's routes too.
          arbitrary: fc
            .tuple(fc.constantFrom(...routeTemplates(session.h.app)), segment, segment, segment)
            .map(([template, ...segments]) => fillTemplate(template, segments)),
          weight: 6,
        },
        {
          arbitrary: fc.constantFrom(
            '/', '/v1', '/v1/', '/v2/orders/x', '/v1/orders', '/v1/orders/', '/V1/ORDERS/x', '//v1/orders/x', '/v1//orders/x', '/v1/./orders/x', '/v1/orders/../orders/x',
            '/v1/orders/x/restart/extra', '/healthz/', '/HEALTHZ', '/healthz?full=1', '/healthz%00', '/%2e%2e/v1/orders/x', '/v1/marketplace/events/', '/v1/marketplace/events?x=1',
            '/v1/orders/x?orderId=y', '/favicon.ico', '/.env', '/v1/merchants', '/v1/instances', '*',
          ),
          weight: 3,
        },
        { arbitrary: fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)), weight: 1 },
      );
      const arb = fc.record({
        method: fc.constantFrom('GET', 'GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'PURGE'),
        path,
        authorization: operatorAuthorization(token()),
        body: bodyArb(fc.constant<Record<string, unknown>>({ type: 'order.paid', data: {} })),
        encoding,
        stray: strayHeaders,
      });
      return fc.asyncProperty(arb, async (g) => {
        const built = build(g.method === 'GET' || g.method === 'HEAD' ? { kind: 'none' } : g.body, g.encoding);
        const headers = { ...g.stray, ...built.headers, ...(g.authorization !== undefined ? { authorization: g.authorization } : {}) };
        const request: WireRequest = { method: g.method, path: g.path, headers, ...(built.body ? { body: built.body } : {}), chunked: built.chunked };
        const x = await session.exchange(request, tally);
        if (x.parserRefused) return;
        const reads = ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND'].includes(g.method);
        if (reads || x.response.status >= 300) checkNothingWritten(reads ? 'a read writes nothing' : 'a refused request writes nothing', x.before, x.after, x.request, x.response);
        if (g.method === 'GET' && /^\/healthz(\?.*)?$/.test(g.path)) {
          const answer = x.response.json as { status?: unknown };
          if (x.response.status !== 200 || answer?.status !== 'ok') throw new BrokenRule('/healthz is 200 ok while PostgreSQL and Temporal are up', x.request, x.response);
        }
      });
    },
  );
});
