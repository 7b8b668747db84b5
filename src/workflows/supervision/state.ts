/**
 * The supervision's state, one plain JSON-safe object carried whole at continue-as-new, and
 * the rules of its nodes (spec §9.1) as pure functions over it: `refusal` says why an action
 * does not fit (the update's validator), `applyAction` moves the node and queues the
 * timeline entry the workflow then writes.
 */
import type { Actor, ActorType, SupervisedOrder, SupervisionAction, SupervisionClosure, SupervisionNode, SupervisionSnapshot, SupervisionVariant } from './messages';

/** One node passed, as the order's timeline shows it. */
export interface TimelineEntry {
  seq: number;
  node: SupervisionNode;
  action: string;
  actor: Actor;
  atMs: number;
  detail: Record<string, unknown>;
}

export interface SupervisionState {
  variant: SupervisionVariant;
  order: SupervisedOrder;
  subscriptionWorkflowId: string;
  node: SupervisionNode;
  nodeSinceMs: number;
  frozenNode?: SupervisionNode;
  returns: number;
  rejections: number;
  appeals: number;
  requirementDocumentIds: string[];
  completion?: { resultDescription: string; documentId: string; actualActivationMs?: number };
  deliveryProofDocumentId?: string;
  actualActivationMs?: number;
  acceptedAtMs?: number;
  validity?: { startMs: number; endMs: number };
  /** Whether the subscription took the validity (false: it had ended; undefined: not sent yet or no period). */
  validityDelivered?: boolean;
  remindersSent: number;
  /** Timeline entries numbered so far; entries not yet written wait in `outbox`. */
  seq: number;
  outbox: TimelineEntry[];
}

export function initialState(input: { variant: SupervisionVariant; order: SupervisedOrder; subscriptionWorkflowId: string }, nowMs: number): SupervisionState {
  return {
    variant: input.variant,
    order: input.order,
    subscriptionWorkflowId: input.subscriptionWorkflowId,
    node: input.variant === 'licence' ? 'awaiting-claim' : 'awaiting-requirement',
    nodeSinceMs: nowMs,
    returns: 0,
    rejections: 0,
    appeals: 0,
    requirementDocumentIds: [],
    remindersSent: 0,
    seq: 0,
    outbox: [],
  };
}

type Kind = SupervisionAction['kind'];

/** Who may take each action, at which nodes, in which variant. */
const RULES: Readonly<Record<Kind, { actors: readonly ActorType[]; from: readonly SupervisionNode[] | 'any-open'; variant?: SupervisionVariant }>> = {
  'requirement.submitted': { actors: ['customer'], from: ['awaiting-requirement', 'requirement-returned'], variant: 'service' },
  'requirement.confirmed': { actors: ['merchant'], from: ['awaiting-confirmation'], variant: 'service' },
  'requirement.returned': { actors: ['merchant'], from: ['awaiting-confirmation'], variant: 'service' },
  // After a rejection the merchant may deliver again and confirm completion anew.
  'completion.confirmed': { actors: ['merchant'], from: ['in-delivery', 'rejected'], variant: 'service' },
  accepted: { actors: ['customer'], from: ['awaiting-acceptance'], variant: 'service' },
  rejected: { actors: ['customer'], from: ['awaiting-acceptance'], variant: 'service' },
  'licence.claimed': { actors: ['customer'], from: ['awaiting-claim'], variant: 'licence' },
  'licence.activated': { actors: ['merchant'], from: ['awaiting-activation'], variant: 'licence' },
  'delivery-proof.uploaded': { actors: ['merchant'], from: ['awaiting-proof'], variant: 'licence' },
  appealed: { actors: ['customer', 'merchant'], from: 'any-open' },
  'appeal.resolved': { actors: ['operator'], from: ['appealed'] },
};

/** Why the action cannot be taken now, or undefined when it can. */
export function refusal(state: SupervisionState, action: SupervisionAction, nowMs: number): string | undefined {
  const rule = RULES[action.kind];
  if (!rule) return `unknown action ${String(action.kind)}`;
  if (!rule.actors.includes(action.actor.type)) return `${action.kind} is not for the ${action.actor.type}`;
  if (rule.variant && rule.variant !== state.variant) return `${action.kind} does not apply to a ${state.variant} supervision`;
  const open = !isFinished(state) && state.node !== 'appealed';
  if (rule.from === 'any-open' ? !open : !rule.from.includes(state.node)) {
    return state.node === 'appealed' ? `the supervision is frozen by an appeal until an operator resolves it` : `not possible at node ${state.node}`;
  }
  if (action.kind === 'appealed' && action.actor.type === 'merchant' && state.node === 'awaiting-acceptance' && action.documentIds.length === 0) {
    return 'a merchant appeal about a customer who does not accept needs delivery proof (documentIds)';
  }
  if (action.kind === 'completion.confirmed' && action.actualActivationTime !== undefined) {
    const at = Date.parse(action.actualActivationTime);
    if (Number.isNaN(at)) return 'actualActivationTime is not a time';
    if (at > nowMs) return 'actualActivationTime lies in the future';
    if (at < state.order.paidAtMs) return 'actualActivationTime lies before the order was paid';
  }
  if (action.kind === 'appeal.resolved' && action.outcome === 'accept' && state.variant === 'service' && !state.completion) {
    return 'nothing to accept: the merchant never confirmed completion';
  }
  return undefined;
}

/** Accepted, or closed by an unsubscription: nothing moves it any more. */
export function isFinished(state: SupervisionState): boolean {
  return state.node === 'completed' || state.node === 'closed';
}

/** An unsubscription closes the supervision wherever it stands (an appeal too); a finished one stays as it is. */
export function close(state: SupervisionState, closure: SupervisionClosure, nowMs: number): void {
  if (isFinished(state)) return;
  const frozenNode = state.frozenNode;
  state.frozenNode = undefined;
  moveTo(state, 'closed', nowMs);
  queueEntry(state, 'order.unsubscribed', { type: 'system', id: 'order-system' }, nowMs, { orderId: closure.orderId, eventId: closure.eventId, ...(frozenNode ? { frozenNode } : {}) });
}

function moveTo(state: SupervisionState, node: SupervisionNode, nowMs: number): void {
  if (node !== state.node) state.nodeSinceMs = nowMs;
  state.node = node;
}

function accept(state: SupervisionState, nowMs: number): void {
  state.acceptedAtMs = nowMs;
  moveTo(state, 'completed', nowMs);
}

/** Applies an action that `refusal` allowed, and queues its timeline entry. */
export function applyAction(state: SupervisionState, action: SupervisionAction, nowMs: number): void {
  const detail: Record<string, unknown> = {};
  switch (action.kind) {
    case 'requirement.submitted':
      state.requirementDocumentIds = action.documentIds;
      Object.assign(detail, { requirement: action.requirement, documentIds: action.documentIds });
      moveTo(state, 'awaiting-confirmation', nowMs);
      break;
    case 'requirement.confirmed':
      moveTo(state, 'in-delivery', nowMs);
      break;
    case 'requirement.returned':
      state.returns += 1;
      detail.reason = action.reason;
      moveTo(state, 'requirement-returned', nowMs);
      break;
    case 'completion.confirmed': {
      const actualActivationMs = action.actualActivationTime === undefined ? undefined : Date.parse(action.actualActivationTime);
      state.completion = { resultDescription: action.resultDescription, documentId: action.documentId, ...(actualActivationMs === undefined ? {} : { actualActivationMs }) };
      state.actualActivationMs = actualActivationMs;
      Object.assign(detail, { resultDescription: action.resultDescription, documentId: action.documentId, actualActivationTime: action.actualActivationTime ?? null });
      moveTo(state, 'awaiting-acceptance', nowMs);
      break;
    }
    case 'accepted':
      accept(state, nowMs);
      break;
    case 'rejected':
      state.rejections += 1;
      detail.reason = action.reason;
      moveTo(state, 'rejected', nowMs);
      break;
    case 'licence.claimed':
      moveTo(state, 'awaiting-activation', nowMs);
      break;
    case 'licence.activated':
      // The node passes automatically; the actual activation time is the activation's (§9.1).
      state.actualActivationMs = nowMs;
      moveTo(state, 'awaiting-proof', nowMs);
      break;
    case 'delivery-proof.uploaded':
      // Non-empowerment licence orders are accepted automatically once the proof is in.
      state.deliveryProofDocumentId = action.documentId;
      detail.documentId = action.documentId;
      accept(state, nowMs);
      break;
    case 'appealed':
      state.appeals += 1;
      state.frozenNode = state.node;
      Object.assign(detail, { reason: action.reason, documentIds: action.documentIds, frozenNode: state.node });
      moveTo(state, 'appealed', nowMs);
      break;
    case 'appeal.resolved': {
      const frozen = state.frozenNode ?? state.node;
      state.frozenNode = undefined;
      Object.assign(detail, { outcome: action.outcome, reason: action.reason });
      if (action.outcome === 'accept') accept(state, nowMs);
      else if (action.outcome === 'redeliver') moveTo(state, state.variant === 'licence' ? 'awaiting-proof' : 'in-delivery', nowMs);
      else moveTo(state, frozen, nowMs);
      break;
    }
  }
  queueEntry(state, action.kind, action.actor, nowMs, detail);
}

export function queueEntry(state: SupervisionState, action: string, actor: Actor, nowMs: number, detail: Record<string, unknown> = {}): void {
  state.seq += 1;
  state.outbox.push({ seq: state.seq, node: state.node, action, actor, atMs: nowMs, detail });
}

export function snapshot(workflowId: string, state: SupervisionState): SupervisionSnapshot {
  const { variant, node, nodeSinceMs, frozenNode, returns, rejections, appeals, acceptedAtMs, actualActivationMs, validity, validityDelivered, remindersSent } = state;
  const optional = { frozenNode, acceptedAtMs, actualActivationMs, validity, validityDelivered };
  return {
    workflowId,
    orderId: state.order.orderId,
    orderLineId: state.order.orderLineId,
    merchantId: state.order.merchantId,
    variant,
    node,
    nodeSinceMs,
    returns,
    rejections,
    appeals,
    remindersSent,
    // Fields not set are left out rather than sent as undefined.
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
  };
}
