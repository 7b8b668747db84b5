/**
 * supervisionWorkflow: the delivery-and-acceptance flow of one supervised order line (spec
 * §9.1), `supervision:<orderId>:<orderLineId>`. The parties' and operators' actions arrive as
 * one update, checked against the node (./state); each node passed is written to the order's
 * timeline. After 180 days without acceptance the merchant and the customer's account
 * manager are reminded every week, with no automatic closure (the rule since 2024-03-05).
 * On acceptance the validity is computed (./validity) and handed to the subscription as its
 * new expiry, through the subscription's own renewal path (refreshInstance to the merchant).
 * The order's unsubscription (a signal) closes an open supervision: no validity, never settleable.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ErrorType } from '../../shared/errors';
import { stepKey } from '../../shared/ids';
import { MerchantIdAttribute, OrderIdAttribute, SupervisionNodeAttribute } from '../../shared/search-attributes';
import { lifecycleEventSignal, type OrderRenewedEvent } from '../subscription/messages';
import {
  supervisionActionUpdate,
  supervisionClosedSignal,
  supervisionStatusQuery,
  type SupervisionAction,
  type SupervisionSnapshot,
  type SupervisionWorkflowInput,
} from './messages';
import { notices, records } from './proxies';
import { applyAction, close, initialState, isFinished, queueEntry, refusal, snapshot, type SupervisionState, type TimelineEntry } from './state';
import { validityAfterAcceptance } from './validity';

const DAY_MS = 86_400_000;
/** Orders not accepted this long after payment start the reminders (spec §9.1, since 2024-03-05). */
export const REMINDERS_START_AFTER_MS = 180 * DAY_MS;
/** Then one reminder a week, for as long as the order stays unaccepted. */
export const REMINDER_INTERVAL_MS = 7 * DAY_MS;

const SYSTEM = { type: 'system', id: 'supervision' } as const;

export async function supervisionWorkflow(input: SupervisionWorkflowInput): Promise<SupervisionSnapshot> {
  if (!input?.workflowId || !input.order?.orderId || !input.subscriptionWorkflowId || (input.variant !== 'service' && input.variant !== 'licence')) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'workflowId, variant, order and subscriptionWorkflowId are required', nonRetryable: true });
  }
  const state: SupervisionState = input.state ?? initialState(input, Date.now());
  if (!input.state) queueEntry(state, 'started', SYSTEM, Date.now(), { variant: state.variant });
  upsertSearchAttributes([
    { key: OrderIdAttribute, value: state.order.orderId },
    { key: MerchantIdAttribute, value: state.order.merchantId },
    { key: SupervisionNodeAttribute, value: state.node },
  ]);

  setHandler(supervisionStatusQuery, () => snapshot(input.workflowId, state));
  setHandler(supervisionClosedSignal, (closure) => close(state, closure, Date.now()));
  setHandler(
    supervisionActionUpdate,
    (action: SupervisionAction) => {
      applyAction(state, action, Date.now());
      return { node: state.node, ...(state.frozenNode ? { frozenNode: state.frozenNode } : {}) };
    },
    {
      // A validator's throw refuses the update before it enters history: nothing changes.
      validator: (action: SupervisionAction) => {
        const reason = refusal(state, action, Date.now());
        if (reason) throw new Error(reason);
      },
    },
  );

  for (;;) {
    await writeTimeline(input.workflowId, state);
    if (isFinished(state)) break;
    const dueMs = REMINDERS_START_AFTER_MS + state.remindersSent * REMINDER_INTERVAL_MS + state.order.paidAtMs;
    const waitMs = dueMs - Date.now();
    if (waitMs <= 0) {
      await remindUnaccepted(input.workflowId, state);
      continue;
    }
    await condition(() => state.outbox.length > 0, waitMs);
    if (state.outbox.length === 0 && workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (state.outbox.length === 0) await continueAsNew<typeof supervisionWorkflow>({ ...input, state });
    }
  }

  if (state.node === 'completed') await handOverValidity(state);
  await writeTimeline(input.workflowId, state);
  await condition(allHandlersFinished);
  return snapshot(input.workflowId, state);
}

/** Writes the timeline entries waiting in the outbox, each with where the supervision stood after it. */
async function writeTimeline(workflowId: string, state: SupervisionState): Promise<void> {
  while (state.outbox.length > 0) {
    const entry = state.outbox[0] as TimelineEntry;
    upsertSearchAttributes([{ key: SupervisionNodeAttribute, value: state.node }]);
    const { order } = state;
    await records.recordSupervisionStep({
      workflowId,
      orderId: order.orderId,
      orderLineId: order.orderLineId,
      merchantId: order.merchantId,
      customerId: order.customerId,
      productId: order.productId,
      variant: state.variant,
      node: state.node,
      ...(state.frozenNode ? { frozenNode: state.frozenNode } : {}),
      nodeSinceMs: state.nodeSinceMs,
      ...(state.acceptedAtMs !== undefined ? { acceptedAtMs: state.acceptedAtMs } : {}),
      ...(state.validity ? { validity: state.validity } : {}),
      ...(state.node === 'completed' && state.acceptedAtMs !== undefined ? { completedAtMs: state.acceptedAtMs } : {}),
      entry: { seq: entry.seq, node: entry.node, action: entry.action, actorType: entry.actor.type, actorId: entry.actor.id, atMs: entry.atMs, detail: entry.detail },
    });
    state.outbox.shift();
  }
}

/** The weekly reminder after 180 days: to the merchant, and to the customer's account manager. */
async function remindUnaccepted(workflowId: string, state: SupervisionState): Promise<void> {
  const { order } = state;
  const n = state.remindersSent + 1;
  const days = Math.floor((Date.now() - order.paidAtMs) / DAY_MS);
  const subject = `Order ${order.orderId} is still not accepted after ${days} days`;
  const body = `The supervised order line ${order.orderLineId} (paid ${new Date(order.paidAtMs).toISOString()}) has stood at "${state.node}" since ${new Date(state.nodeSinceMs).toISOString()}. Supervision is not closed automatically; reminder ${n}.`;
  await notices.notifyMerchant({ idempotencyKey: stepKey(workflowId, `reminder:${n}:merchant`), merchantId: order.merchantId, subject, body });
  await notices.notifyAccountManager({ idempotencyKey: stepKey(workflowId, `reminder:${n}:account-manager`), customerId: order.customerId, subject, body });
  state.remindersSent = n;
  queueEntry(state, 'reminder.sent', SYSTEM, Date.now(), { reminder: n, days });
}

/**
 * The validity that follows acceptance (spec §9.1), handed to the subscription as a renewal
 * of its own order with the new expiry: the subscription calls the merchant's
 * refreshInstance and moves its expiry timer. A licence's periodic clock starts at
 * acceptance (§9.1), so only a service's actual activation time moves the start.
 */
async function handOverValidity(state: SupervisionState): Promise<void> {
  const { order } = state;
  const acceptedAtMs = state.acceptedAtMs ?? Date.now();
  const activation = state.variant === 'service' ? state.actualActivationMs : undefined;
  const validity = validityAfterAcceptance(
    { periodType: order.periodType, periodNumber: order.periodNumber, paidAtMs: order.paidAtMs, orderExpireAtMs: order.expireTime ? Date.parse(order.expireTime) : undefined },
    acceptedAtMs,
    activation,
  );
  if (!validity || order.chargingMode !== 'PERIOD') {
    queueEntry(state, 'validity.none', SYSTEM, Date.now(), { reason: 'the order has no period' });
    return;
  }
  state.validity = validity;
  const event: OrderRenewedEvent = {
    kind: 'order.renewed',
    // One id per supervision: the subscription applies it once.
    eventId: `supervision-validity:${order.orderId}:${order.orderLineId}`,
    acceptedAtMs: Date.now(),
    scene: 'RENEWAL',
    orderId: order.orderId,
    orderLineId: order.orderLineId,
    expireTime: new Date(validity.endMs).toISOString(),
  };
  const detail = { start: new Date(validity.startMs).toISOString(), end: event.expireTime, subscription: state.subscriptionWorkflowId };
  try {
    await getExternalWorkflowHandle(state.subscriptionWorkflowId).signal(lifecycleEventSignal, event);
    state.validityDelivered = true;
    queueEntry(state, 'validity.set', SYSTEM, Date.now(), detail);
  } catch (error) {
    // The subscription has ended (its create failed, or it was released): nothing to move.
    state.validityDelivered = false;
    log.warn('validity not delivered: the subscription is not running', { subscription: state.subscriptionWorkflowId, error: String(error) });
    queueEntry(state, 'validity.not-delivered', SYSTEM, Date.now(), { ...detail, error: error instanceof Error ? error.message : String(error) });
  }
}
