/**
 * The HTTP client for the marketplace's order system: posts one fulfilment callback, signed
 * with Standard Webhooks, within a timeout from config, and reports what happened without
 * interpreting it (the notifyOrderSystem activity decides what is retried).
 */
import { signWebhook } from '../platform/security/standard-webhooks';
import { requestDeadline } from './http';

/** The HTTP status the order system answered, or why there was no answer (network error, timeout). */
export type OrderSystemAnswer = { httpStatus: number } | { error: string };

export interface OrderSystemClient {
  /** Sends `body` as is: a retried callback must carry the bytes its first attempt did. */
  post(callback: { webhookId: string; body: string }, signal?: AbortSignal): Promise<OrderSystemAnswer>;
}

export interface HttpOrderSystemClientOptions {
  url: string;
  /** The Standard Webhooks secret shared with the order system. */
  secret: string;
  timeoutMs: number;
  now?: () => number;
}

export function createHttpOrderSystemClient({ url, secret, timeoutMs, now = Date.now }: HttpOrderSystemClientOptions): OrderSystemClient {
  return {
    async post({ webhookId, body }, signal) {
      // Signed at each attempt: the signature's timestamp must be fresh for the receiver.
      const headers = signWebhook(secret, webhookId, body, now());
      const deadline = requestDeadline(timeoutMs, signal);
      try {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: deadline.signal });
        // Only the status matters; reading the body to the end frees the connection.
        await response.arrayBuffer();
        return { httpStatus: response.status };
      } catch (error) {
        return { error: deadline.failure(error) };
      }
    },
  };
}
