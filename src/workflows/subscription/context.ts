/**
 * A running subscription: its identity and settings from the input, its carried state, and
 * this run's own flags. Every step takes one of these.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { InstanceCall } from '../../activities/subscription/merchant-operations';
import { ErrorType } from '../../shared/errors';
import type { PolicyTable } from '../windows/policy';
import type { LifecycleSettings, PaidOrder } from './messages';
import type { SubscriptionState } from './state';

export interface Subscription {
  readonly workflowId: string;
  readonly policy: PolicyTable;
  readonly lifecycle: LifecycleSettings;
  /** Carried whole to the next run. */
  readonly state: SubscriptionState;
  /** This run's flags, not carried: a restart pressed, the subscription ended, events applied (the continue-as-new threshold counts these). */
  readonly run: { restartPending: boolean; ended: boolean; eventsApplied: number };
}

export function requireOrder(sub: Subscription): PaidOrder {
  if (!sub.state.order) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'no order received yet', nonRetryable: true });
  }
  return sub.state.order;
}

/** The common fields of every call about the existing instance. */
export function instanceCall(sub: Subscription): InstanceCall {
  const order = requireOrder(sub);
  if (!sub.state.instanceId) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'no instance yet', nonRetryable: true });
  }
  return { workflowId: sub.workflowId, merchantId: order.merchantId, instanceId: sub.state.instanceId, testFlag: order.testFlag };
}

/** Whether the subscription has an instance to apply events to. */
export function isLive(sub: Subscription): boolean {
  return !!sub.state.instanceId && sub.state.status !== 'released' && sub.state.status !== 'failed';
}
