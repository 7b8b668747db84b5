/**
 * The HTTP client for merchants' Kit sync endpoints (spec §7): the production address plus
 * the operation's sub-path, signed with x-sign / x-timestamp / x-nonce under the merchant's
 * sync key (§1.3), a fresh nonce and timestamp per request, within the marketplace's 5-second
 * timeout. It reports what happened without interpreting it (the activity classifies).
 */
import { kitPath, type AnyKitBody, type KitOperation } from '../protocol/kit';
import { signKitRequest } from '../protocol/kit-signing';
import { newNonce } from '../protocol/signing';
import { requestDeadline } from './http';
import type { MerchantHttpResult } from './merchant';

export interface KitEndpoint {
  productionUrl: string;
  syncKey: string;
}

export interface KitClient {
  post(endpoint: KitEndpoint, operation: KitOperation, body: AnyKitBody, signal?: AbortSignal): Promise<MerchantHttpResult>;
}

/** `https://isv.example.com/saasproduce` + `/produceAPI/v2/tenantSync`, keeping any query the address has. */
export function kitUrl(productionUrl: string, operation: KitOperation): string {
  const url = new URL(productionUrl);
  url.pathname = url.pathname.replace(/\/+$/, '') + kitPath(operation);
  return url.toString();
}

export function createHttpKitClient({ timeoutMs, now = Date.now, nonce = newNonce }: { timeoutMs: number; now?: () => number; nonce?: () => string }): KitClient {
  return {
    async post(endpoint, operation, body, signal) {
      const raw = JSON.stringify(body);
      const startedAtMs = now();
      const headers = signKitRequest(endpoint.syncKey, raw, startedAtMs, nonce());
      const deadline = requestDeadline(timeoutMs, signal);
      const latency = (): number => now() - startedAtMs;
      try {
        const response = await fetch(kitUrl(endpoint.productionUrl, operation), {
          method: 'POST',
          headers: { 'content-type': 'application/json;charset=utf-8', accept: 'application/json', ...headers },
          body: raw,
          signal: deadline.signal,
          redirect: 'error',
        });
        const text = await response.text();
        try {
          return { startedAtMs, latencyMs: latency(), httpStatus: response.status, json: JSON.parse(text) as unknown };
        } catch {
          return { startedAtMs, latencyMs: latency(), httpStatus: response.status, error: `response is not JSON (${text.length} bytes)` };
        }
      } catch (error) {
        return { startedAtMs, latencyMs: latency(), error: deadline.failure(error) };
      }
    },
  };
}
