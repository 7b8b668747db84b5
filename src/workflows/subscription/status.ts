/**
 * Where a subscription stands, as operators see it: its status, the step it waits in (the
 * status query and the API), and the FulfillmentStatus search attribute (the Web UI).
 */
import { upsertSearchAttributes } from '@temporalio/workflow';
import { FulfillmentStatusAttribute, MerchantIdAttribute, OrderIdAttribute } from '../../shared/search-attributes';
import type { Subscription } from './context';
import type { FulfillmentStatus, PaidOrder, StepName } from './messages';
import type { SearchStatus } from './state';

/** Moves to a step; staying in the same step for the same reason keeps its "since". */
export function setStep(sub: Subscription, name: StepName, reason?: string): void {
  const { step } = sub.state;
  if (step.name === name && step.reason === reason) return;
  sub.state.step = { name, sinceMs: Date.now(), ...(reason ? { reason } : {}) };
}

export function setStatus(sub: Subscription, status: FulfillmentStatus, searchStatus: SearchStatus = status): void {
  sub.state.status = status;
  setSearchStatus(sub, searchStatus);
}

export function setSearchStatus(sub: Subscription, searchStatus: SearchStatus): void {
  sub.state.searchStatus = searchStatus;
  upsertSearchAttributes([{ key: FulfillmentStatusAttribute, value: searchStatus }]);
}

/** Back to the subscription's own status after `retrying` or `waiting-for-restart`; nothing to write when it is there already. */
export function restoreSearchStatus(sub: Subscription): void {
  if (sub.state.searchStatus !== sub.state.status) setSearchStatus(sub, sub.state.status);
}

/** Takes the paid order in: the specification in force, the expiry, and the search attributes operators find it by. */
export function setOrder(sub: Subscription, order: PaidOrder, expireAtMs: number | undefined): void {
  sub.state.order = order;
  sub.state.skuCode = order.skuCode;
  sub.state.productId = order.productId;
  sub.state.trial = order.trialFlag;
  sub.state.expireAtMs = expireAtMs;
  upsertSearchAttributes([
    { key: OrderIdAttribute, value: order.orderId },
    { key: MerchantIdAttribute, value: order.merchantId },
  ]);
}
