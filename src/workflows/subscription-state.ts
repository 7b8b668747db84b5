/**
 * The state of one subscription workflow and the helpers every scenario shares: running a
 * merchant call as one recorded attempt, waiting with a restart escape, status changes
 * mirrored to search attributes, and callbacks to the order system.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  log,
  proxyActivities,
  upsertSearchAttributes,
  uuid4,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType } from '../shared/errors';
import type { PolicyTable, Scenario } from '../shared/policy';
import { FulfillmentStatusAttribute, MerchantIdAttribute, OrderIdAttribute } from '../shared/search-attributes';
import type {
  FulfillmentStatus,
  MerchantCallOutcome,
  OrderPaidEvent,
  OrderSystemCallback,
  PaidOrder,
  RestartRequest,
  StepInfo,
  SubscriptionSnapshot,
  SubscriptionWorkflowInput,
} from '../shared/types';

/** Merchant calls: one attempt per activity, because the workflow owns retries (a fresh
 * businessId per create attempt, and a restart must be able to cut a backoff short). The
 * timeout covers the 5 s request plus the merchant lookup. */
const merchantCalls = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 1 },
});

/** Our own database writes and notifications: idempotent, retried until they land. */
const bookkeeping = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: [ErrorType.InvalidInput] },
});

/** Callbacks to the order system: retried while it is down; a 4xx rejection comes back to the workflow. */
const orderSystemCalls = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '10m', nonRetryableErrorTypes: [ErrorType.OrderSystemRejected] },
});

export type SubscriptionEvent = { kind: 'order.paid'; eventId: string; event: OrderPaidEvent };

/** What operators search by in the Web UI: `retrying` marks subscriptions whose merchant is failing. */
type SearchStatus = FulfillmentStatus | 'retrying' | 'waiting-for-restart';

/** Event ids remembered for de-duplication; old ones fall out (the API de-duplicates too). */
const SEEN_EVENT_LIMIT = 500;

export class SubscriptionState {
  readonly workflowId: string;
  readonly policy: PolicyTable;
  readonly inbox: SubscriptionEvent[] = [];
  order?: PaidOrder;
  status: FulfillmentStatus = 'awaiting-order';
  instanceId?: string;
  failureReason?: string;
  step: StepInfo;
  attempts = 0;
  private restartPending = false;
  private readonly seenEventIds: string[] = [];

  constructor(input: SubscriptionWorkflowInput) {
    this.workflowId = input.workflowId;
    this.policy = input.policy;
    this.step = { name: 'waiting-for-order', sinceMs: Date.now() };
  }

  /** Queues an event unless its id was seen already (a repeated delivery has one effect). */
  receive(event: SubscriptionEvent): void {
    if (this.seenEventIds.includes(event.eventId)) {
      log.info('duplicate event ignored', { workflowId: this.workflowId, eventId: event.eventId, kind: event.kind });
      return;
    }
    this.seenEventIds.push(event.eventId);
    if (this.seenEventIds.length > SEEN_EVENT_LIMIT) this.seenEventIds.shift();
    this.inbox.push(event);
  }

  logIgnored(event: SubscriptionEvent, reason: string): void {
    log.info('event ignored', { workflowId: this.workflowId, eventId: event.eventId, kind: event.kind, reason });
  }

  requestRestart(request: RestartRequest): void {
    log.info('restart requested', { workflowId: this.workflowId, requestedBy: request.requestedBy });
    this.restartPending = true;
  }

  snapshot(): SubscriptionSnapshot {
    return {
      workflowId: this.workflowId,
      status: this.status,
      orderId: this.order?.orderId,
      orderLineId: this.order?.orderLineId,
      merchantId: this.order?.merchantId,
      instanceId: this.instanceId,
      step: this.step,
      attempts: this.attempts,
      failureReason: this.failureReason,
    };
  }

  setOrder(order: PaidOrder): void {
    this.order = order;
    upsertSearchAttributes([
      { key: OrderIdAttribute, value: order.orderId },
      { key: MerchantIdAttribute, value: order.merchantId },
    ]);
  }

  setStep(name: string, reason?: string): void {
    this.step = { name, sinceMs: Date.now(), ...(reason ? { reason } : {}) };
  }

  setStatus(status: FulfillmentStatus, searchStatus: SearchStatus = status): void {
    this.status = status;
    this.setSearchStatus(searchStatus);
  }

  setSearchStatus(searchStatus: SearchStatus): void {
    upsertSearchAttributes([{ key: FulfillmentStatusAttribute, value: searchStatus }]);
  }

  requireOrder(): PaidOrder {
    if (!this.order) {
      throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'no order received yet', nonRetryable: true });
    }
    return this.order;
  }

  /**
   * Runs one merchant call as one attempt and records it in call_attempts. A call that
   * fails inside Temporal (timeout, worker lost) is an attempt that failed, not an error.
   */
  async attempt(
    scenario: Scenario,
    activity: string,
    call: () => Promise<MerchantCallOutcome>,
    businessId?: string,
  ): Promise<MerchantCallOutcome> {
    const order = this.requireOrder();
    this.attempts += 1;
    const startedAtMs = Date.now();
    let outcome: MerchantCallOutcome;
    try {
      outcome = await call();
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      outcome = { kind: 'failure', activity, startedAtMs, latencyMs: Date.now() - startedAtMs, error: error.cause?.message ?? error.message };
    }
    await bookkeeping.recordCallAttempt({
      attemptId: uuid4(),
      workflowId: this.workflowId,
      orderId: order.orderId,
      orderLineId: order.orderLineId,
      merchantId: order.merchantId,
      scenario,
      attempt: this.attempts,
      businessId,
      outcome,
    });
    return outcome;
  }

  /**
   * Waits up to `ms`, or less if a restart arrives (also one that arrived while a call was
   * in flight). Answers whether it was cut short by a restart.
   */
  async waitOrRestart(ms: number): Promise<boolean> {
    if (ms <= 0) return this.consumeRestart();
    const restarted = await condition(() => this.restartPending, ms);
    this.restartPending = false;
    return restarted;
  }

  /** Waits for as long as it takes an operator to press restart. */
  async waitForRestart(reason: string): Promise<void> {
    this.setStep('waiting-for-restart', reason);
    this.setSearchStatus('waiting-for-restart');
    await condition(() => this.restartPending);
    this.restartPending = false;
    this.setSearchStatus(this.status);
  }

  private consumeRestart(): boolean {
    const pending = this.restartPending;
    this.restartPending = false;
    return pending;
  }

  /**
   * Delivers a callback to the order system. Outages are retried by the activity; a
   * rejection waits for an operator's restart and is sent again, so no callback is lost.
   */
  async tellOrderSystem(callback: OrderSystemCallback): Promise<void> {
    for (;;) {
      try {
        await orderSystemCalls.notifyOrderSystem(callback);
        return;
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        const previousStep = this.step;
        await this.waitForRestart(`order system rejected ${callback.type}: ${error.cause?.message ?? error.message}`);
        this.step = previousStep;
      }
    }
  }

  readonly activities = { merchant: merchantCalls, bookkeeping };
}
