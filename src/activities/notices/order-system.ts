/**
 * Fulfilment callbacks to the marketplace's order system. Each is recorded before it is sent
 * and carries its idempotency key as the Standard Webhooks `webhook-id`, so a retried
 * delivery is one event to the order system. Temporal retries failed deliveries until they
 * land, each with the payload stored by the first attempt (its timestamp included). The
 * HTTP part is the order-system client's; this activity keeps the record and decides what
 * is worth retrying.
 */
import { ApplicationFailure, cancellationSignal, log } from '@temporalio/activity';
import type { OrderSystemCallback } from './callbacks';
import type { Queryable } from '../../db/pool';
import { ensureCallback, markCallback } from '../../db/repositories/notices/order-system-callbacks';
import type { OrderSystemClient } from '../../clients/order-system';
import { ErrorType } from '../../shared/errors';

export interface OrderSystemDeps {
  db: Queryable;
  /** Absent when ORDER_SYSTEM_URL is not set (development): callbacks are recorded only. */
  orderSystem?: OrderSystemClient;
  /** The clock of the payload's timestamp. */
  now?: () => number;
}

/** 4xx other than 408 (timeout) and 429 (slow down) will not get better by retrying. */
const isPermanent = (status: number): boolean => status >= 400 && status < 500 && status !== 408 && status !== 429;

export function createOrderSystemActivities({ db, orderSystem, now = Date.now }: OrderSystemDeps) {
  return {
    async notifyOrderSystem(callback: OrderSystemCallback): Promise<'delivered' | 'not-configured'> {
      const { idempotencyKey, type } = callback;
      const payload = { type, timestamp: new Date(now()).toISOString(), data: callback.data };
      const { status, body } = await ensureCallback(db, { idempotencyKey, eventType: type, payload });
      if (status === 'delivered') return 'delivered';
      if (!orderSystem) {
        // Development without an order system: the callback stays on record for inspection.
        await markCallback(db, idempotencyKey, 'not-configured');
        log.warn('order system URL not configured; callback recorded only', { idempotencyKey, type });
        return 'not-configured';
      }
      const answer = await orderSystem.post({ webhookId: idempotencyKey, body }, cancellationSignal());
      if ('error' in answer) {
        await markCallback(db, idempotencyKey, 'pending', answer.error);
        throw new Error(`order system unreachable: ${answer.error}`);
      }
      if (answer.httpStatus >= 200 && answer.httpStatus < 300) {
        await markCallback(db, idempotencyKey, 'delivered');
        return 'delivered';
      }
      const error = `order system answered HTTP ${answer.httpStatus}`;
      await markCallback(db, idempotencyKey, 'pending', error);
      // A rejection comes back to the workflow, which decides what it means.
      if (isPermanent(answer.httpStatus)) throw ApplicationFailure.create({ type: ErrorType.OrderSystemRejected, message: error, nonRetryable: true });
      throw new Error(error);
    },
  };
}

/** Callbacks to the order system: retried while it is down; a rejection comes back to the workflow. */
export type OrderSystemActivities = ReturnType<typeof createOrderSystemActivities>;
