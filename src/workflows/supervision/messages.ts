/**
 * The supervision workflow's messages: its input, the parties' and operators' actions (one
 * update, so the caller learns at once whether the action fits the node), and the status
 * query. All JSON-plain: they are stored in workflow histories.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SupervisionState } from './state';

export type SupervisionVariant = 'service' | 'licence';

/**
 * Where a supervision stands (spec §9.1). Service: the customer's requirement, the merchant's
 * confirmation (or a return for edits), delivery, the merchant's completion, the customer's
 * acceptance (or rejection). Licence: the customer claims the code, the merchant activates it,
 * the merchant uploads delivery proof, accepted automatically. An appeal freezes any node.
 */
export type SupervisionNode =
  | 'awaiting-requirement'
  | 'awaiting-confirmation'
  | 'requirement-returned'
  | 'in-delivery'
  | 'awaiting-acceptance'
  | 'rejected'
  | 'awaiting-claim'
  | 'awaiting-activation'
  | 'awaiting-proof'
  | 'appealed'
  | 'completed'
  /** The order was unsubscribed before acceptance: the supervision ends, never settleable. */
  | 'closed';

export type ActorType = 'customer' | 'merchant' | 'operator' | 'system';

export interface Actor {
  type: ActorType;
  id: string;
}

/** The supervised order line, as the order system described it when it was paid. */
export interface SupervisedOrder {
  orderId: string;
  orderLineId: string;
  merchantId: string;
  productId: string;
  customerId: string;
  chargingMode: string;
  periodType?: string;
  periodNumber?: number;
  /** The expiry the order system sent (ISO 8601); only the period's length is read from it when periodType is unknown. */
  expireTime?: string;
  /** When our API accepted order.paid: the 180-day limit counts from here. */
  paidAtMs: number;
}

export interface SupervisionWorkflowInput {
  workflowId: string;
  variant: SupervisionVariant;
  order: SupervisedOrder;
  /** The subscription whose expiry the validity moves. */
  subscriptionWorkflowId: string;
  /** The state the previous run handed over through continue-as-new. */
  state?: SupervisionState;
}

/** What a party or an operator does; `documentIds` name stored documents of this order line. */
export type SupervisionActionBody =
  | { kind: 'requirement.submitted'; requirement: string; documentIds: string[] }
  | { kind: 'requirement.confirmed' }
  | { kind: 'requirement.returned'; reason: string }
  | { kind: 'completion.confirmed'; resultDescription: string; actualActivationTime?: string; documentId: string }
  | { kind: 'accepted' }
  | { kind: 'rejected'; reason: string }
  | { kind: 'licence.claimed' }
  | { kind: 'licence.activated' }
  | { kind: 'delivery-proof.uploaded'; documentId: string }
  | { kind: 'appealed'; reason: string; documentIds: string[] }
  | { kind: 'appeal.resolved'; outcome: AppealOutcome; reason: string };

/**
 * How an operator ends an appeal: `resume` the frozen node as it was, `redeliver` (back to
 * delivery: the merchant must complete again), or `accept` on the customer's behalf (a
 * merchant's appeal about a customer who never accepts, upheld).
 */
export type AppealOutcome = 'resume' | 'redeliver' | 'accept';

export type SupervisionAction = SupervisionActionBody & {
  /** Idempotency: the webhook-id or the request's key; also the update id. */
  actionId: string;
  actor: Actor;
};

export interface SupervisionAnswer {
  node: SupervisionNode;
  /** The node an appeal froze, while frozen. */
  frozenNode?: SupervisionNode;
}

/** What the status query answers: the state's public fields, and the line it supervises. */
export type SupervisionSnapshot = Pick<
  SupervisionState,
  'variant' | 'node' | 'nodeSinceMs' | 'frozenNode' | 'returns' | 'rejections' | 'appeals' | 'acceptedAtMs' | 'actualActivationMs' | 'validity' | 'validityDelivered' | 'remindersSent'
> & { workflowId: string; orderId: string; orderLineId: string; merchantId: string };

/** The order line was unsubscribed (refunded): an open supervision closes. */
export interface SupervisionClosure {
  /** The webhook-id of the unsubscription. */
  eventId: string;
  /** The unsubscribe order. */
  orderId: string;
}

/** A party's or an operator's action; refused by the validator when it does not fit the node. */
export const supervisionActionUpdate = defineUpdate<SupervisionAnswer, [SupervisionAction]>('supervisionAction');
export const supervisionStatusQuery = defineQuery<SupervisionSnapshot>('supervisionStatus');
/** The order's unsubscription: a signal, since nobody waits for the supervision's answer. */
export const supervisionClosedSignal = defineSignal<[SupervisionClosure]>('supervisionClosed');
