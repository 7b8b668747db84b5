/**
 * The HTTP client for merchants' production URLs: signs each request per spec §1.2 with a
 * fresh nonce and timestamp, enforces the marketplace's 5-second timeout, and reports what
 * happened without interpreting it (the activities classify the answer).
 */
import { signV2Request, signedUrl } from '../protocol/signing';

export interface MerchantEndpoint {
  merchantId: string;
  productionUrl: string;
  accessKey: string;
}

export interface MerchantHttpResult {
  startedAtMs: number;
  latencyMs: number;
  httpStatus?: number;
  /** The parsed JSON body, when the body was JSON. */
  json?: unknown;
  /** Why there is no usable answer: timeout, network error, body not JSON. */
  error?: string;
}

export interface MerchantClient {
  post(endpoint: MerchantEndpoint, body: Record<string, unknown>, signal?: AbortSignal): Promise<MerchantHttpResult>;
}

export interface HttpMerchantClientOptions {
  timeoutMs: number;
  now?: () => number;
}

export function createHttpMerchantClient({ timeoutMs, now = Date.now }: HttpMerchantClientOptions): MerchantClient {
  return {
    async post(endpoint, body, signal) {
      const raw = JSON.stringify(body);
      const startedAtMs = now();
      const url = signedUrl(endpoint.productionUrl, signV2Request(endpoint.accessKey, raw, startedAtMs));
      const timeout = AbortSignal.timeout(timeoutMs);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      const elapsed = (): number => now() - startedAtMs;
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json;charset=utf-8', accept: 'application/json' },
          body: raw,
          signal: combined,
          redirect: 'error',
        });
      } catch (error) {
        // A cancelled activity (worker shutting down) is not the merchant's failure.
        if (signal?.aborted) throw signal.reason ?? error;
        const reason = timeout.aborted ? `no answer within ${timeoutMs} ms` : describeNetworkError(error);
        return { startedAtMs, latencyMs: elapsed(), error: reason };
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        if (signal?.aborted) throw signal.reason ?? error;
        const reason = timeout.aborted ? `no answer within ${timeoutMs} ms` : describeNetworkError(error);
        return { startedAtMs, latencyMs: elapsed(), httpStatus: response.status, error: reason };
      }
      const latencyMs = elapsed();
      try {
        return { startedAtMs, latencyMs, httpStatus: response.status, json: JSON.parse(text) as unknown };
      } catch {
        return { startedAtMs, latencyMs, httpStatus: response.status, error: `response is not JSON (${text.length} bytes)` };
      }
    },
  };
}

/**
 * fetch's message ("fetch failed") says little; its cause's code (ECONNREFUSED, ENOTFOUND…)
 * says what went wrong. Duck-typed, because errors from Node's internals are not always
 * instances of this realm's Error (under test sandboxes, for one).
 */
export function describeNetworkError(error: unknown): string {
  const message = typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
  const cause = typeof error === 'object' && error !== null && 'cause' in error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return cause && typeof cause.code === 'string' ? `${message}: ${cause.code}` : message;
}
