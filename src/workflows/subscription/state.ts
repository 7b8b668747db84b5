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
import type { Activities } from '../../activities';
import { ErrorType } from '../../shared/errors';
import type { PolicyTable, Scenario } from '../windows/policy';
import { FulfillmentStatusAttribute, MerchantIdAttribute, OrderIdAttribute } from '../../shared/search-attributes';
import type { CarriedState, FulfillmentStatus, LifecycleEvent, LifecycleSettings, OrderPaidEvent, PaidOrder, RestartRequest, StepInfo, SubscriptionSnapshot, SubscriptionWorkflowInput } from './messages';
import type { OrderLineStatusUpdate } from '../../activities/subscription/records';
import type { MerchantCallOutcome } from '../../protocol/outcome';
import type { OrderSystemCallback } from '../../activities/notices/callbacks';

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

/** Everything that reaches the subscription's inbox, in arrival order. */
export type SubscriptionEvent = { kind: 'order.paid'; eventId: string; event: OrderPaidEvent } | LifecycleEvent;

/** What operators search by in the Web UI: `retrying` marks subscriptions whose merchant is failing. */
export type SearchStatus = FulfillmentStatus | 'retrying' | 'waiting-for-restart';

/** Event ids remembered for de-duplication; old ones fall out (the API de-duplicates too). */
const SEEN_EVENT_LIMIT = 500;

export class SubscriptionState {
  readonly workflowId: string;
  readonly policy: PolicyTable;
  readonly lifecycle: LifecycleSettings;
  readonly inbox: SubscriptionEvent[] = [];
  order?: PaidOrder;
  status: FulfillmentStatus = 'awaiting-order';
  instanceId?: string;
  failureReason?: string;
  step: StepInfo;
  attempts = 0;
  /** The specification in force: an upgrade changes the SKU, a renewal may change the product. */
  skuCode = '';
  productId = '';
  expireAtMs?: number;
  trial = false;
  /** Trial reminder lead times already sent for the current expiry. */
  remindersSent: number[] = [];
  /** Why the instance is frozen; it is unfrozen only when no reason is left. */
  frozenBy: Array<'expiry' | 'violation'> = [];
  frozenSinceMs?: number;
  /** Events applied in this run (the continue-as-new threshold counts these). */
  eventsApplied = 0;
  runs = 1;
  ended = false;
  private restartPending = false;
  private readonly seenEventIds: string[] = [];

  constructor(input: SubscriptionWorkflowInput) {
    this.workflowId = input.workflowId;
    this.policy = input.policy;
    this.lifecycle = input.lifecycle;
    this.step = { name: 'waiting-for-order', sinceMs: Date.now() };
    const carried = input.carried;
    if (carried) {
      this.order = carried.order;
      this.status = carried.status;
      this.instanceId = carried.instanceId;
      this.skuCode = carried.skuCode;
      this.productId = carried.productId;
      this.expireAtMs = carried.expireAtMs;
      this.trial = carried.trial;
      this.remindersSent = [...carried.remindersSent];
      this.frozenBy = [...carried.frozenBy];
      this.frozenSinceMs = carried.frozenSinceMs;
      this.attempts = carried.attempts;
      this.seenEventIds.push(...carried.seenEventIds);
      this.inbox.push(...carried.pending);
      this.step = carried.step;
      this.runs = carried.runs + 1;
    }
  }

  /** The state handed to the next run. Only lifecycle events can be pending: order.paid is applied first. */
  carry(): CarriedState {
    return {
      order: this.requireOrder(),
      status: this.status,
      instanceId: this.instanceId,
      skuCode: this.skuCode,
      productId: this.productId,
      expireAtMs: this.expireAtMs,
      trial: this.trial,
      remindersSent: [...this.remindersSent],
      frozenBy: [...this.frozenBy],
      frozenSinceMs: this.frozenSinceMs,
      attempts: this.attempts,
      seenEventIds: [...this.seenEventIds],
      pending: this.inbox.filter((event): event is LifecycleEvent => event.kind !== 'order.paid'),
      step: this.step,
      runs: this.runs,
    };
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
      skuCode: this.skuCode || undefined,
      expireTime: this.expireAtMs === undefined ? undefined : new Date(this.expireAtMs).toISOString(),
      trial: this.trial,
      frozenBy: [...this.frozenBy],
      step: this.step,
      attempts: this.attempts,
      failureReason: this.failureReason,
      runs: this.runs,
      pendingEvents: this.inbox.length,
    };
  }

  setOrder(order: PaidOrder): void {
    this.order = order;
    this.skuCode = order.skuCode;
    this.productId = order.productId;
    this.trial = order.trialFlag;
    this.expireAtMs = order.expireTime ? Date.parse(order.expireTime) : undefined;
    upsertSearchAttributes([
      { key: OrderIdAttribute, value: order.orderId },
      { key: MerchantIdAttribute, value: order.merchantId },
    ]);
  }

  /** Moves to a step; staying in the same step keeps its "since". */
  setStep(name: string, reason?: string): void {
    if (this.step.name === name && this.step.reason === reason) return;
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

  /** A restart pressed while nothing was failing must not cut a later, unrelated backoff short. */
  discardStaleRestart(): void {
    this.restartPending = false;
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

  /** Moves this subscription's order line (for pay-per-use: its billing item's row). */
  async updateOrderLine(update: Omit<OrderLineStatusUpdate, 'orderId' | 'orderLineId' | 'productId'>): Promise<void> {
    const order = this.requireOrder();
    await bookkeeping.updateOrderLine({ orderId: order.orderId, orderLineId: order.orderLineId, productId: order.productId, ...update });
  }

  /** Writes the instance as it stands now (status, specification, expiry). */
  async saveInstance(status: 'active' | 'frozen' | 'released'): Promise<void> {
    const order = this.requireOrder();
    if (!this.instanceId) return;
    await bookkeeping.saveInstance({
      instanceId: this.instanceId,
      workflowId: this.workflowId,
      merchantId: order.merchantId,
      orderId: order.orderId,
      orderLineId: order.orderLineId,
      productId: this.productId,
      skuCode: this.skuCode,
      status,
      expireTime: this.expireAtMs === undefined ? undefined : new Date(this.expireAtMs).toISOString(),
    });
  }

  /** The common fields of every call about the existing instance. */
  instanceCall(): { workflowId: string; merchantId: string; instanceId: string; testFlag?: string } {
    const order = this.requireOrder();
    if (!this.instanceId) {
      throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'no instance yet', nonRetryable: true });
    }
    return { workflowId: this.workflowId, merchantId: order.merchantId, instanceId: this.instanceId, testFlag: order.testFlag };
  }

  readonly activities = { merchant: merchantCalls, bookkeeping };
}
