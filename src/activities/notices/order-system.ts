/**
 * Fulfilment callbacks to the marketplace's order system: "instance provisioned" and
 * "unsubscribe and refund this order". Each is recorded before it is sent and carries its
 * idempotency key as the Standard Webhooks `webhook-id`, so a retried delivery is one event
 * to the order system. Temporal retries failed deliveries until they land, each with the
 * payload stored by the first attempt (its timestamp included).
 */
import { ApplicationFailure, cancellationSignal, log } from '@temporalio/activity';
import type { OrderSystemCallback } from './callbacks';
import type { Queryable } from '../../db/pool';
import { ensureCallback, markCallback } from '../../db/repositories/notices/order-system-callbacks';
import { signWebhook } from '../../platform/security/standard-webhooks';
import { describeNetworkError } from '../../clients/merchant';
import { ErrorType } from '../../shared/errors';

export interface OrderSystemDeps {
  db: Queryable;
  orderSystem: { url: string | undefined; secret: string };
  timeoutMs?: number;
}

export function createOrderSystemActivities({ db, orderSystem, timeoutMs = 10_000 }: OrderSystemDeps) {
  return {
    async notifyOrderSystem(callback: OrderSystemCallback): Promise<'delivered' | 'not-configured'> {
      const payload = { type: callback.type, timestamp: new Date().toISOString(), data: callback.data };
      const { status, body } = await ensureCallback(db, { idempotencyKey: callback.idempotencyKey, eventType: callback.type, payload });
      if (status === 'delivered') return 'delivered';
      if (!orderSystem.url) {
        // Development without an order system: the callback stays on record for inspection.
        await markCallback(db, callback.idempotencyKey, 'not-configured');
        log.warn('order system URL not configured; callback recorded only', { idempotencyKey: callback.idempotencyKey, type: callback.type });
        return 'not-configured';
      }
      const headers = signWebhook(orderSystem.secret, callback.idempotencyKey, body);
      let response: Response;
      try {
        response = await fetch(orderSystem.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
          signal: AbortSignal.any([cancellationSignal(), AbortSignal.timeout(timeoutMs)]),
        });
      } catch (error) {
        const message = describeNetworkError(error);
        await markCallback(db, callback.idempotencyKey, 'pending', message);
        throw new Error(`order system unreachable: ${message}`);
      }
      if (response.ok) {
        await markCallback(db, callback.idempotencyKey, 'delivered');
        return 'delivered';
      }
      const error = `order system answered HTTP ${response.status}`;
      await markCallback(db, callback.idempotencyKey, 'pending', error);
      // 4xx other than 408/429 will not get better by retrying; the workflow decides.
      const permanent = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
      if (permanent) throw ApplicationFailure.create({ type: ErrorType.OrderSystemRejected, message: error, nonRetryable: true });
      throw new Error(error);
    },
  };
}

/** Callbacks to the order system: retried while it is down; a rejection comes back to the workflow. */
export type OrderSystemActivities = ReturnType<typeof createOrderSystemActivities>;
