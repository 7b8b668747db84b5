/**
 * The HTTP client for merchants' production URLs: signs each request per spec §1.2 with a
 * fresh nonce and timestamp, enforces the marketplace's 5-second timeout (from config), and
 * reports what happened without interpreting it (the activities classify the answer).
 */
import type { MerchantOperationBody } from '../protocol/requests';
import { newNonce, signV2Request, signedUrl } from '../protocol/signing';
import { requestDeadline } from './http';

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
  post(endpoint: MerchantEndpoint, body: MerchantOperationBody, signal?: AbortSignal): Promise<MerchantHttpResult>;
}

export interface HttpMerchantClientOptions {
  timeoutMs: number;
  now?: () => number;
  /** Fresh per request by default; fixed only to reproduce the spec's test vector. */
  nonce?: () => string;
}

export function createHttpMerchantClient({ timeoutMs, now = Date.now, nonce = newNonce }: HttpMerchantClientOptions): MerchantClient {
  return {
    async post(endpoint, body, signal) {
      const raw = JSON.stringify(body);
      const startedAtMs = now();
      const url = signedUrl(endpoint.productionUrl, signV2Request(endpoint.accessKey, raw, startedAtMs, nonce()));
      const deadline = requestDeadline(timeoutMs, signal);
      const elapsed = (): number => now() - startedAtMs;
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json;charset=utf-8', accept: 'application/json' },
          body: raw,
          signal: deadline.signal,
          redirect: 'error',
        });
      } catch (error) {
        return { startedAtMs, latencyMs: elapsed(), error: deadline.failure(error) };
      }
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        return { startedAtMs, latencyMs: elapsed(), httpStatus: response.status, error: deadline.failure(error) };
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
