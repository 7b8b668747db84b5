/**
 * subscriptionWorkflow: the one workflow of one subscription (an order line, or an order's
 * pay-per-use product). Everything that happens to the subscription arrives as a message
 * and is applied in order, so a later event can never overtake its create.
 *
 * This file holds the message definitions, the state and the event loop; each scenario's
 * steps live in a file named after it (create: ./scenarios/create-instance.ts).
 */
import { ApplicationFailure, condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import { ErrorType } from '../shared/errors';
import type { OrderPaidEvent, RestartRequest, SubscriptionSnapshot, SubscriptionWorkflowInput } from '../shared/types';
import { createInstance } from './scenarios/create-instance';
import { SubscriptionState, type SubscriptionEvent } from './subscription-state';

/** The order system's "order paid" event; delivered with signal-with-start. */
export const orderPaidSignal = defineSignal<[OrderPaidEvent]>('orderPaid');
/** An operator's manual retry: the next merchant attempt happens at once. */
export const restartSignal = defineSignal<[RestartRequest]>('restart');
/** Where the subscription stands: status, instance, current step. */
export const statusQuery = defineQuery<SubscriptionSnapshot>('status');

export async function subscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<SubscriptionSnapshot> {
  if (!input?.workflowId || !input.policy?.create) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'workflowId and policy are required', nonRetryable: true });
  }
  const state = new SubscriptionState(input);

  setHandler(orderPaidSignal, (event) => state.receive({ kind: 'order.paid', eventId: event.eventId, event }));
  setHandler(restartSignal, (request) => state.requestRestart(request));
  setHandler(statusQuery, () => state.snapshot());

  for (;;) {
    await condition(() => state.inbox.length > 0);
    const next = state.inbox.shift() as SubscriptionEvent;
    const outcome = await apply(state, next);
    if (outcome === 'ended') return state.snapshot();
  }
}

async function apply(state: SubscriptionState, event: SubscriptionEvent): Promise<'continue' | 'ended'> {
  switch (event.kind) {
    case 'order.paid': {
      if (state.order) {
        // A second order.paid for the same line (a new webhook id for the same order) changes nothing.
        state.logIgnored(event, 'order already received');
        return 'continue';
      }
      const created = await createInstance(state, event.event);
      return created ? 'continue' : 'ended';
    }
  }
}
