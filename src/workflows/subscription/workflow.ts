/**
 * subscriptionWorkflow: the one workflow of one subscription (an order line, or an order's
 * pay-per-use product). Everything that happens to the subscription arrives as a message
 * and is applied in order, so a later event can never overtake its create: a renewal that
 * arrives while the create is still retrying waits in the inbox until the create is done.
 * Its own clock (trial reminders, expiry, end of retention) runs between events.
 *
 * This file holds the event loop and continue-as-new; the messages are in ./messages, and
 * each scenario's steps live in a file named after it under ./steps.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { ErrorType } from '../../shared/errors';
import {
  changeCheckUpdate,
  lifecycleEventSignal,
  orderPaidSignal,
  restartSignal,
  statusQuery,
  type ChangeCheckRequest,
  type SubscriptionSnapshot,
  type SubscriptionWorkflowInput,
} from './messages';
import { checkChange } from './steps/change-check';
import { createInstance } from './steps/create-instance';
import { freeze, unfreeze } from './steps/freeze-instance';
import { fireTimer, nextTimer } from './steps/lifecycle-timers';
import { release } from './steps/release-instance';
import { refundUnappliedOrders } from './steps/refund-unapplied-orders';
import { renew } from './steps/renew-instance';
import { upgrade } from './steps/upgrade-instance';
import { SubscriptionState, type SubscriptionEvent } from './state';

export async function subscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<SubscriptionSnapshot> {
  if (!input?.workflowId || !input.policy?.create || !input.lifecycle) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'workflowId, policy and lifecycle are required', nonRetryable: true });
  }
  const state = new SubscriptionState(input);

  setHandler(orderPaidSignal, (event) => state.receive({ kind: 'order.paid', eventId: event.eventId, event }));
  setHandler(lifecycleEventSignal, (event) => state.receive(event));
  setHandler(restartSignal, (request) => state.requestRestart(request));
  setHandler(statusQuery, () => state.snapshot());
  setHandler(changeCheckUpdate, (request) => checkChange(state, request), {
    // A validator's throw rejects the update before it enters history.
    validator: (_request: ChangeCheckRequest) => {
      if (!state.instanceId || state.status === 'released' || state.status === 'failed') {
        throw new Error(`no live instance to check (status ${state.status})`);
      }
    },
  });

  while (!state.ended) {
    const event = state.inbox.shift();
    if (event) {
      await apply(state, event);
      state.eventsApplied += 1;
    } else {
      const timer = nextTimer(state);
      const waitMs = timer ? timer.atMs - Date.now() : undefined;
      if (timer && waitMs !== undefined && waitMs <= 0) {
        await fireTimer(state, timer);
      } else {
        if (state.status === 'active' || state.status === 'frozen') state.setStep(idleStep(state), idleReason(state, timer?.atMs));
        // Wake for the next event or the next timer, whichever comes first.
        if (waitMs === undefined) await condition(() => state.inbox.length > 0);
        else await condition(() => state.inbox.length > 0, waitMs);
      }
    }
    if (!state.ended && shouldContinueAsNew(state)) {
      await condition(allHandlersFinished);
      log.info('continuing as new', { workflowId: state.workflowId, runs: state.runs, eventsApplied: state.eventsApplied });
      await continueAsNew<typeof subscriptionWorkflow>({ ...input, carried: state.carry() });
    }
  }
  await refundUnappliedOrders(state);
  return state.snapshot();
}

/** Long lives stay bounded: a new run when Temporal suggests it or after the configured number of events. */
function shouldContinueAsNew(state: SubscriptionState): boolean {
  if (!state.order || state.status === 'awaiting-order' || state.status === 'provisioning') return false;
  const threshold = state.lifecycle.continueAsNewAfterEvents;
  return workflowInfo().continueAsNewSuggested || (threshold > 0 && state.eventsApplied >= threshold);
}

function idleStep(state: SubscriptionState): string {
  if (state.frozenBy.includes('expiry')) return 'retention';
  if (state.frozenBy.includes('violation')) return 'frozen-for-violation';
  return 'active';
}

function idleReason(state: SubscriptionState, nextAtMs: number | undefined): string | undefined {
  if (nextAtMs === undefined) return state.expireAtMs === undefined ? 'no expiry' : undefined;
  const at = new Date(nextAtMs).toISOString();
  if (state.frozenBy.includes('expiry')) return `released at ${at} unless renewed`;
  if (state.frozenBy.includes('violation')) return 'frozen until the violation is lifted';
  return state.trial ? `trial ends ${new Date(state.expireAtMs ?? nextAtMs).toISOString()}` : `expires ${new Date(state.expireAtMs ?? nextAtMs).toISOString()}`;
}

async function apply(state: SubscriptionState, event: SubscriptionEvent): Promise<void> {
  if (event.kind === 'order.paid') {
    if (state.order) {
      // A second order.paid for the same line (a new webhook id for the same order) changes nothing.
      state.logIgnored(event, 'order already received');
      return;
    }
    const created = await createInstance(state, event.event);
    if (!created) state.ended = true;
    return;
  }
  if (!state.instanceId || state.status === 'released' || state.status === 'failed') {
    state.logIgnored(event, `no live instance (status ${state.status})`);
    return;
  }
  switch (event.kind) {
    case 'order.renewed':
      await renew(state, event);
      return;
    case 'order.upgraded':
      await upgrade(state, event);
      return;
    case 'order.unsubscribed':
      await release(state, { kind: 'unsubscribed', orderId: event.orderId, orderLineId: event.orderLineId }, event.acceptedAtMs, event.eventId);
      await state.activities.bookkeeping.saveSubscriptionOrder({
        orderId: event.orderId,
        orderLineId: event.orderLineId ?? `${event.orderId}-unsubscribe`,
        workflowId: state.workflowId,
        kind: 'unsubscribe',
        status: 'completed',
      });
      return;
    case 'instance.violation':
      await freeze(state, 'violation', event.acceptedAtMs, event.eventId);
      return;
    case 'instance.violation_lifted':
      await unfreeze(state, 'violation', event.acceptedAtMs, event.eventId);
      return;
  }
}
