/** The subscription's inbox: events queue in arrival order, and a repeated event id has one effect. */
import { log } from '@temporalio/workflow';
import type { Subscription } from './context';
import type { SubscriptionEvent } from './state';

/** Event ids remembered for de-duplication; old ones fall out (the API de-duplicates too). */
const SEEN_EVENT_LIMIT = 500;

/** Queues an event unless its id was seen already. */
export function receive(sub: Subscription, event: SubscriptionEvent): void {
  const { seenEventIds, inbox } = sub.state;
  if (seenEventIds.includes(event.eventId)) {
    log.info('duplicate event ignored', { workflowId: sub.workflowId, eventId: event.eventId, kind: event.kind });
    return;
  }
  seenEventIds.push(event.eventId);
  if (seenEventIds.length > SEEN_EVENT_LIMIT) seenEventIds.shift();
  inbox.push(event);
}

export function logIgnored(sub: Subscription, event: SubscriptionEvent, reason: string): void {
  log.info('event ignored', { workflowId: sub.workflowId, eventId: event.eventId, kind: event.kind, reason });
}
