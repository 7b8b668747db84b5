/**
 * What the ingress asks of a capability: one handler per event type. A handler reads its
 * event's `data`, says which workflow the event is for (refusing what it cannot place),
 * names the writes that belong with the stored event, and delivers it. The ingress does the
 * rest for every event alike: signature, envelope, idempotent storage, the stored answer.
 */
import type { z } from 'zod';
import type { Queryable } from '../../db/pool';
import type { InboundEventInsert, InboundEventRow } from '../../db/repositories/ingress/inbound-events';
import { invalidInput } from '../errors';

/** What the webhook answers. It is stored with the event, so a redelivery gets it again. */
export interface Answer {
  status: number;
  body: unknown;
}

export interface DeliveryContext {
  /** The webhook-id: the event's id in every message it causes. */
  eventId: string;
  /** When the event was first stored; windows that the event opens start here. */
  acceptedAtMs: number;
}

/** An event a handler accepted: nothing is written until the ingress stores it. */
export interface AcceptedEvent {
  /** The workflow the event is for, stored with it. */
  workflowId: string;
  /** Where the caller can follow what the event started (a Location header). */
  location?: string;
  /**
   * Writes that belong with the event, made in the transaction that stores it; it may refuse
   * the event by throwing, and then nothing is written. `firstTime` is false on a redelivery.
   */
  store?(tx: Queryable, stored: { eventId: string; firstTime: boolean; acceptedAt: Date }): Promise<void>;
  /**
   * In place of the ingress's insert and `store`: stores the event together with its writes
   * in one statement (one round trip, no transaction to open), for the events that come in
   * bursts. Returns the event's row as `insertInboundEvent` does; refuses by throwing, and
   * then nothing is written.
   */
  storeWithEvent?(q: Queryable, event: InboundEventInsert): Promise<{ inserted: boolean; row: InboundEventRow }>;
  /**
   * Hands the event to its workflow and says what to answer. Throws WorkflowEngineUnavailable
   * when that could not be done: nothing is answered, and a redelivery tries again.
   */
  deliver(context: DeliveryContext): Promise<Answer>;
}

export interface EventHandler {
  /** Reads `data` (400 naming the field) and places the event (4xx when it cannot). */
  accept(data: unknown): Promise<AcceptedEvent>;
}

/** Event type → its handler. */
export type EventTable = Readonly<Record<string, EventHandler>>;

/** A handler whose `data` is read with `schema` first; field names in errors start with `data.`. */
export function eventHandler<S extends z.ZodType>(schema: S, accept: (data: z.output<S>) => Promise<AcceptedEvent>): EventHandler {
  return {
    async accept(data) {
      const parsed = schema.safeParse(data);
      if (!parsed.success) throw invalidInput(parsed.error, 'data');
      return accept(parsed.data);
    },
  };
}

/** One table from every capability's handlers; an event type claimed twice stops the start-up. */
export function eventTable(...families: EventTable[]): EventTable {
  const table: Record<string, EventHandler> = {};
  for (const family of families) {
    for (const [type, handler] of Object.entries(family)) {
      if (table[type]) throw new Error(`event type ${type} has two handlers`);
      table[type] = handler;
    }
  }
  return table;
}
