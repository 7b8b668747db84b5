/**
 * Activity option presets, one per purpose, for every capability's proxies. A capability
 * proxies each purpose's activity type with its preset, so a merchant call cannot be made
 * through a retrying proxy (it would repeat a create under one businessId) and a record
 * cannot be written through the no-retry one.
 */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import { ErrorType } from '../shared/errors';

/**
 * Merchant operations: one attempt per activity, because the workflow owns retries (a fresh
 * businessId per create attempt, and a restart must be able to cut a backoff short). The
 * timeout covers the 5 s request plus the merchant lookup.
 */
export const MERCHANT_OPERATION: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 1 },
};

/**
 * The same, as a local activity: one attempt, and the 30 s covers the call. A worker lost
 * in the middle of it loses the workflow task too, which another worker runs again after the
 * task's timeout (10 s) with the same attempt: the call is made again, with the same
 * businessId, which is what that id is for.
 */
export const LOCAL_MERCHANT_OPERATION: LocalActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 1 },
};

/** Our own database writes and notifications: idempotent, retried until they land. */
export const BOOKKEEPING: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: [ErrorType.InvalidInput] },
};

/**
 * Short database writes on the hot path, as local activities: the worker runs them inside the
 * workflow task and records only a marker. Retried the same way; a retry that waits longer
 * than the local threshold becomes a timer, so a database outage does not hold a task open.
 */
export const LOCAL_BOOKKEEPING: LocalActivityOptions = {
  startToCloseTimeout: '10s',
  localRetryThreshold: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: [ErrorType.InvalidInput] },
};

/** Callbacks to the order system: retried while it is down; a 4xx rejection comes back to the workflow. */
export const ORDER_SYSTEM_CALLBACK: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '10m', nonRetryableErrorTypes: [ErrorType.OrderSystemRejected] },
};
