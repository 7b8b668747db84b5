/**
 * The reference merchant as a real HTTP server: the merchant (ISV) side of the KooGallery V2
 * production interface (spec §1.2, §2), plus a token-protected control API for tests and demos.
 *
 * Request path on the production URL:
 *   raw body → verify signature / timestamp / nonce (000001 on failure) → fault rule, if any →
 *   zod validation (000002) → activity handler → JSON answer.
 * Protocol errors are answered with HTTP 200 and a resultCode, as the marketplace expects.
 * Faults are consulted only after authentication, so a forged request cannot use one up.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { DEFAULT_OAEP, KIT_OPERATIONS, kitPath, NonceCache, ResultCode, verifyKitRequest, verifyV2Request, type OaepSettings } from '../protocol';
import {
  DEFAULT_FAULT_HTTP_STATUS,
  DEFAULT_FAULT_RESULT_CODE,
  FaultInjector,
  faultRuleSchema,
  type FaultRule,
  type MerchantSimFaults,
} from './faults';
import { handleMerchantRequest, type AsyncProvisioningOptions, type MerchantBehaviour, type MerchantResponse } from './handlers';
import { MerchantStore, type RecordedRequest, type VerifyOutcome } from './store';
import { handleKitRequest, type KitBehaviour } from './kit-handlers';
import { KitStore } from './kit-store';

/** Path of the production URL, as in the spec's example `https://www.isvwebsite.com/saasproduce`. */
export const PRODUCTION_PATH = '/saasproduce';
const CONTROL_PATH = '/_control';
/** Allowed clock difference between marketplace and merchant (spec §1.2). */
const TIMESTAMP_TOLERANCE_MS = 60_000;
/**
 * Nonces are kept for twice the tolerance: a timestamp can be up to 60 s in the future, so its
 * request stays acceptable for 120 s after it first arrives.
 */
const NONCE_WINDOW_MS = 2 * TIMESTAMP_TOLERANCE_MS;
/** The protocol bodies are small; anything larger is not a marketplace call. */
const BODY_LIMIT = '256kb';
/** A Kit call carries up to 500 users, or a whole organisation tree. */
const KIT_BODY_LIMIT = '4mb';

export interface MerchantSimOptions {
  /** The access key bound to the production address (spec §1.2). */
  accessKey: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** When set, newInstance answers 000004 and instances become ready later. */
  asyncProvisioning?: AsyncProvisioningOptions;
  /** Base of the generated appInfo URLs; default `<server>/app`. */
  frontEndBaseUrl?: string;
  /** skuCodes that changeInstanceCheck refuses. */
  refuseChangesTo?: string[];
  /** Clock for timestamp checks, fault expiry and store times; default Date.now. */
  now?: () => number;
  /** Random source of the fault rules that carry a `probability` (values in [0, 1)); default Math.random, seededRandom(seed) for repeatable runs. */
  random?: () => number;
  /** Enables `/_control` behind `Authorization: Bearer <token>`; without it the control API answers 404. */
  controlToken?: string;
  /**
   * Enables the Kit sync endpoints (spec §7) under the production path: the sync key they are
   * signed with, the application's private key that decrypts clientSecret, and the OAEP
   * settings (default SHA-256, Base64).
   */
  kit?: { syncKey: string; privateKeyPem: string; oaep?: OaepSettings };
}

/** A running reference merchant. */
export interface MerchantSim {
  /** The production URL the marketplace calls (without signature parameters). */
  url: string;
  port: number;
  store: MerchantStore;
  /** Tenants, applications, users and organisations received through the Kit endpoints. */
  kit: KitStore;
  faults: MerchantSimFaults;
  /** Instances really created. */
  createdCount(): number;
  /** Every request received, oldest first. */
  requests(): readonly RecordedRequest[];
  /** Forgets instances, requests and fault rules. Seen nonces are kept so a reset opens no replay window. */
  reset(): void;
  /** Stops listening and drops open connections, including keep-alive ones. */
  close(): Promise<void>;
}

/** The body's `activity`, if it is JSON carrying one; used for recording and fault matching. */
function parseBody(raw: Buffer): { json: unknown; ok: boolean; activity?: string } {
  try {
    const json: unknown = JSON.parse(raw.toString('utf8'));
    const activity =
      typeof json === 'object' && json !== null && 'activity' in json && typeof json.activity === 'string'
        ? json.activity
        : undefined;
    return activity === undefined ? { json, ok: true } : { json, ok: true, activity };
  } catch {
    return { json: undefined, ok: false };
  }
}

/** A single query value; repeated parameters are treated as absent rather than guessed at. */
function queryParam(req: Request, name: string): string | undefined {
  const value: unknown = req.query[name];
  return typeof value === 'string' ? value : undefined;
}

/** Waits `ms`, or less if `signal` aborts; resolves to false when aborted. */
function delay(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function tokensEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Starts the reference merchant and resolves once it is listening. */
export async function startMerchantSim(options: MerchantSimOptions): Promise<MerchantSim> {
  if (!options.accessKey) throw new Error('merchant sim: accessKey is required');
  const now = options.now ?? Date.now;
  const host = options.host ?? '127.0.0.1';
  const store = new MerchantStore();
  const kitStore = new KitStore();
  const faults = new FaultInjector(now, options.random);
  const nonces = new NonceCache(NONCE_WINDOW_MS, now);
  // Aborted on close so requests held by a 'slow' fault stop waiting.
  const closing = new AbortController();
  const behaviour: MerchantBehaviour = {
    now,
    // The default depends on the port, so it is filled in once the server listens.
    frontEndBaseUrl: options.frontEndBaseUrl ?? '',
    refuseChangesTo: [...(options.refuseChangesTo ?? [])],
    ...(options.asyncProvisioning ? { asyncProvisioning: { ...options.asyncProvisioning } } : {}),
  };

  const app = express();
  app.disable('x-powered-by');

  /**
   * One signed route: raw body → signature (000001) → fault rule, if any → the handler. The
   * production interface and the Kit endpoints differ only in how they verify and what they do.
   */
  function signedRoute(
    verify: (req: Request, raw: Buffer) => { ok: true } | { ok: false; reason: VerifyOutcome },
    activityOf: (req: Request, body: ReturnType<typeof parseBody>) => string | undefined,
    handle: (req: Request, body: ReturnType<typeof parseBody>) => MerchantResponse,
  ) {
    return async (req: Request, res: Response): Promise<void> => {
      const at = now();
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const body = parseBody(raw);
      const activity = activityOf(req, body);
      const record = (verify: VerifyOutcome, httpStatus: number, resultCode?: string, fault?: FaultRule): void => {
        const entry: RecordedRequest = { at, body: raw.toString('utf8'), verify, httpStatus };
        if (activity !== undefined) entry.activity = activity;
        if (resultCode !== undefined) entry.resultCode = resultCode;
        if (fault) entry.fault = fault.mode;
        store.recordRequest(entry);
      };
      const reply = (response: MerchantResponse, verify: VerifyOutcome, fault?: FaultRule): void => {
        record(verify, 200, response.resultCode, fault);
        res.status(200).json(response);
      };

      const verified = verify(req, raw);
      if (!verified.ok) {
        // The reason is recorded for tests but not told to the caller.
        reply({ resultCode: ResultCode.AuthFailed, resultMsg: 'signature check failed' }, verified.reason);
        return;
      }

      const fault = faults.take(activity);
      switch (fault?.mode) {
        case 'http-error': {
          const status = fault.httpStatus ?? DEFAULT_FAULT_HTTP_STATUS;
          record('ok', status, undefined, fault);
          res.status(status).type('text/plain').send('injected HTTP error');
          return;
        }
        case 'malformed':
          record('ok', 200, undefined, fault);
          // Declared as JSON but cut short, like a response truncated by a crashing merchant.
          res.status(200).type('application/json').send('{"resultCode":"000000","instanceId":');
          return;
        case 'fail':
          reply(
            { resultCode: fault.resultCode ?? DEFAULT_FAULT_RESULT_CODE, resultMsg: 'injected failure' },
            'ok',
            fault,
          );
          return;
        case 'slow':
          if (!(await delay(fault.delayMs ?? 0, closing.signal))) return;
          break;
        case 'code':
        case undefined:
          break;
      }

      const response = body.ok
        ? handle(req, body)
        : { resultCode: ResultCode.InvalidParameter, resultMsg: 'body is not valid JSON' };
      if (fault?.mode === 'code') {
        response.resultCode = fault.resultCode ?? DEFAULT_FAULT_RESULT_CODE;
        response.resultMsg = 'injected result code';
      }
      reply(response, 'ok', fault);
    };
  }

  app.post(
    PRODUCTION_PATH,
    express.raw({ type: () => true, limit: BODY_LIMIT }),
    signedRoute(
      (req, raw) =>
        verifyV2Request({
          accessKey: options.accessKey,
          body: raw,
          params: {
            signature: queryParam(req, 'signature'),
            timestamp: queryParam(req, 'timestamp'),
            nonce: queryParam(req, 'nonce'),
          },
          nowMs: now(),
          toleranceMs: TIMESTAMP_TOLERANCE_MS,
          rememberNonce: nonces.remember,
        }),
      (_req, body) => body.activity,
      (_req, body) => handleMerchantRequest(store, body.json, behaviour),
    ),
  );

  // The Kit sync endpoints (spec §7): sub-paths of the production address, signed with x-sign.
  const kit = options.kit;
  if (kit) {
    const kitBehaviour: KitBehaviour = { privateKeyPem: kit.privateKeyPem, oaep: kit.oaep ?? DEFAULT_OAEP };
    for (const operation of KIT_OPERATIONS) {
      app.post(
        `${PRODUCTION_PATH}${kitPath(operation)}`,
        express.raw({ type: () => true, limit: KIT_BODY_LIMIT }),
        signedRoute(
          (req, raw) =>
            verifyKitRequest({
              syncKey: kit.syncKey,
              body: raw,
              headers: { 'x-sign': req.get('x-sign'), 'x-timestamp': req.get('x-timestamp'), 'x-nonce': req.get('x-nonce') },
              nowMs: now(),
              toleranceMs: TIMESTAMP_TOLERANCE_MS,
              rememberNonce: nonces.remember,
            }),
          () => operation,
          (_req, body) => handleKitRequest(kitStore, operation, body.json, kitBehaviour),
        ),
      );
    }
  }

  if (options.controlToken) {
    app.use(CONTROL_PATH, createControlRouter(options.controlToken, { store, kit: kitStore, faults }));
  }

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // body-parser errors carry a status (413 too large, 400 bad encoding); anything else is ours.
    const status =
      typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' ? err.status : 500;
    if (!res.headersSent) res.status(status).json({ error: status === 500 ? 'internal error' : 'bad request' });
  });

  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!behaviour.frontEndBaseUrl) behaviour.frontEndBaseUrl = `${origin}/app`;

  let closed: Promise<void> | undefined;
  return {
    url: `${origin}${PRODUCTION_PATH}`,
    port,
    store,
    kit: kitStore,
    faults,
    createdCount: () => store.createdCount,
    requests: () => store.requests(),
    reset: () => {
      store.reset();
      kitStore.reset();
      faults.clear();
    },
    close: () => {
      closed ??= new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** `/_control`: JSON endpoints to inject faults, read state and reset, behind a bearer token. */
function createControlRouter(token: string, deps: { store: MerchantStore; kit: KitStore; faults: FaultInjector }): express.Router {
  const router = express.Router();
  router.use((req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (!match?.[1] || !tokensEqual(match[1], token)) {
      res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized' });
      return;
    }
    next();
  });
  router.use(express.json({ limit: '16kb' }));

  router.post('/faults', (req: Request, res: Response) => {
    const parsed = faultRuleSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'invalid fault rule', issues: parsed.error.issues });
      return;
    }
    deps.faults.add(parsed.data);
    res.status(201).json({ rules: deps.faults.list() });
  });
  router.delete('/faults', (_req: Request, res: Response) => {
    deps.faults.clear();
    res.status(204).end();
  });
  router.get('/state', (_req: Request, res: Response) => {
    res.status(200).json({ ...deps.store.snapshot(), kit: deps.kit.snapshot() });
  });
  router.post('/reset', (_req: Request, res: Response) => {
    deps.store.reset();
    deps.kit.reset();
    deps.faults.clear();
    res.status(204).end();
  });
  return router;
}
