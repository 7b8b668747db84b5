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
  type StepName,
  type SubscriptionSnapshot,
  type SubscriptionWorkflowInput,
} from './messages';
import { isLive, type Subscription } from './context';
import { logIgnored, receive } from './inbox';
import { records } from './proxies';
import { requestRestart } from './restart';
import { initialState, snapshot, type SubscriptionEvent } from './state';
import { setStep } from './status';
import { checkChange } from './steps/change-check';
import { createInstance } from './steps/create-instance';
import { freeze, unfreeze } from './steps/freeze-instance';
import { fireTimer, nextTimer } from './steps/lifecycle-timers';
import { release } from './steps/release-instance';
import { refundUnappliedOrders } from './steps/refund-unapplied-orders';
import { renew } from './steps/renew-instance';
import { upgrade } from './steps/upgrade-instance';

export async function subscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<SubscriptionSnapshot> {
  if (!input?.workflowId || !input.policy?.create || !input.lifecycle) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'workflowId, policy and lifecycle are required', nonRetryable: true });
  }
  const sub: Subscription = {
    workflowId: input.workflowId,
    policy: input.policy,
    lifecycle: input.lifecycle,
    state: initialState(input),
    run: { restartPending: false, ended: false, eventsApplied: 0 },
  };
  const { state } = sub;

  setHandler(orderPaidSignal, (event) => receive(sub, { kind: 'order.paid', eventId: event.eventId, event }));
  setHandler(lifecycleEventSignal, (event) => receive(sub, event));
  setHandler(restartSignal, (request) => requestRestart(sub, request));
  setHandler(statusQuery, () => snapshot(sub.workflowId, state));
  setHandler(changeCheckUpdate, (request) => checkChange(sub, request), {
    // A validator's throw rejects the update before it enters history.
    validator: (_request: ChangeCheckRequest) => {
      if (!isLive(sub)) throw new Error(`no live instance to check (status ${state.status})`);
    },
  });

  while (!sub.run.ended) {
    const event = state.inbox.shift();
    if (event) {
      await apply(sub, event);
      sub.run.eventsApplied += 1;
    } else {
      const timer = nextTimer(sub);
      const waitMs = timer ? timer.atMs - Date.now() : undefined;
      if (timer && waitMs !== undefined && waitMs <= 0) {
        await fireTimer(sub, timer);
      } else {
        if (state.status === 'active' || state.status === 'frozen') setStep(sub, idleStep(sub), idleReason(sub, timer?.atMs));
        // Wake for the next event or the next timer, whichever comes first.
        if (waitMs === undefined) await condition(() => state.inbox.length > 0);
        else await condition(() => state.inbox.length > 0, waitMs);
      }
    }
    if (!sub.run.ended && shouldContinueAsNew(sub)) {
      await condition(allHandlersFinished);
      log.info('continuing as new', { workflowId: sub.workflowId, runs: state.runs, eventsApplied: sub.run.eventsApplied });
      // The whole state, as it stands: nothing can be left behind.
      await continueAsNew<typeof subscriptionWorkflow>({ workflowId: input.workflowId, policy: input.policy, lifecycle: input.lifecycle, state });
    }
  }
  await refundUnappliedOrders(sub);
  return snapshot(sub.workflowId, state);
}

/** Long lives stay bounded: a new run when Temporal suggests it or after the configured number of events. */
function shouldContinueAsNew(sub: Subscription): boolean {
  const { state } = sub;
  if (!state.order || state.status === 'awaiting-order' || state.status === 'provisioning') return false;
  const threshold = sub.lifecycle.continueAsNewAfterEvents;
  return workflowInfo().continueAsNewSuggested || (threshold > 0 && sub.run.eventsApplied >= threshold);
}

function idleStep(sub: Subscription): StepName {
  if (sub.state.frozenBy.includes('expiry')) return 'retention';
  if (sub.state.frozenBy.includes('violation')) return 'frozen-for-violation';
  return 'active';
}

function idleReason(sub: Subscription, nextAtMs: number | undefined): string | undefined {
  const { state } = sub;
  if (nextAtMs === undefined) return state.expireAtMs === undefined ? 'no expiry' : undefined;
  const at = new Date(nextAtMs).toISOString();
  if (state.frozenBy.includes('expiry')) return `released at ${at} unless renewed`;
  if (state.frozenBy.includes('violation')) return 'frozen until the violation is lifted';
  return state.trial ? `trial ends ${new Date(state.expireAtMs ?? nextAtMs).toISOString()}` : `expires ${new Date(state.expireAtMs ?? nextAtMs).toISOString()}`;
}

async function apply(sub: Subscription, event: SubscriptionEvent): Promise<void> {
  if (event.kind === 'order.paid') {
    if (sub.state.order) {
      // A second order.paid for the same line (a new webhook id for the same order) changes nothing.
      logIgnored(sub, event, 'order already received');
      return;
    }
    const created = await createInstance(sub, event.event);
    if (!created) sub.run.ended = true;
    return;
  }
  if (!isLive(sub)) {
    logIgnored(sub, event, `no live instance (status ${sub.state.status})`);
    return;
  }
  switch (event.kind) {
    case 'order.renewed':
      await renew(sub, event);
      return;
    case 'order.upgraded':
      await upgrade(sub, event);
      return;
    case 'order.unsubscribed':
      await release(sub, { kind: 'unsubscribed', orderId: event.orderId, orderLineId: event.orderLineId }, event.acceptedAtMs, event.eventId);
      await records.saveSubscriptionOrder({
        orderId: event.orderId,
        orderLineId: event.orderLineId ?? `${event.orderId}-unsubscribe`,
        workflowId: sub.workflowId,
        kind: 'unsubscribe',
        status: 'completed',
      });
      return;
    case 'instance.violation':
      await freeze(sub, 'violation', event.acceptedAtMs, event.eventId);
      return;
    case 'instance.violation_lifted':
      await unfreeze(sub, 'violation', event.acceptedAtMs, event.eventId);
      return;
  }
}
