/**
 * exitWorkflow: one merchant leaving the marketplace, `exit:<merchantId>` (spec §9.4), started
 * by the merchant's signed request or an operator (a forced exit, e.g. a termination penalty).
 *
 * The merchant goes to `exiting` (no new orders). The preconditions are read from PostgreSQL;
 * while one fails the exit shows it with its blocking orders (query, ExitStep, current details)
 * and waits for a re-check signal (a fact that may have cleared, such as a proof uploaded) or
 * the hourly re-check, never polling faster. With nothing blocking, an operator approves or
 * rejects it with a reason. Rejected: the merchant trades again. Approved: its remaining
 * products are delisted, trading frozen, every live subscription refunded pro rata through the
 * refund workflow and released through its own subscription (the merchant still answers those
 * calls), and only once every release is done is the merchant removed (清退: credentials
 * erased). The exit record is kept in PostgreSQL.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ErrorType } from '../../../shared/errors';
import { ExitStepAttribute, MerchantIdAttribute } from '../../../shared/search-attributes';
import { merchantExitRefundInput, refundWorkflowId, type RefundSnapshot } from '../../refunds/messages';
import type { RefundChargingMode } from '../../refunds/rules';
import { lifecycleEventSignal, type OrderUnsubscribedEvent } from '../../subscription/messages';
import {
  exitRecheckSignal,
  exitReviewUpdate,
  exitStatusQuery,
  type ExitFacts,
  type ExitRefund,
  type ExitSnapshot,
  type ExitStep,
  type ExitTimelineEntry,
  type ExitWorkflowInput,
  type LiveSubscription,
} from './messages';
import { proRataRefund } from './pro-rata';
import { records } from './proxies';

/** The periodic re-check of the preconditions while nothing signals: a blocking fact may clear without telling us (a statement paid). */
export const PRECONDITION_RECHECK_MS = 60 * 60 * 1000;
/** Releases go through the subscriptions; they are checked after 5 s, doubling to every 10 minutes. */
const RELEASE_CHECK_FIRST_MS = 5_000;
const RELEASE_CHECK_MAX_MS = 10 * 60 * 1000;

const SYSTEM = 'system';
/** Checks per run before continuing as new: an hourly re-check for three weeks. */
const DEFAULT_CHECKS_PER_RUN = 500;

export async function exitWorkflow(input: ExitWorkflowInput): Promise<ExitSnapshot> {
  if (!input?.merchantId || !input.requestedBy || !input.reason || (input.kind !== 'requested' && input.kind !== 'forced')) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'merchantId, kind (requested or forced), requestedBy and reason are required', nonRetryable: true });
  }
  const { merchantId } = input;
  const exitId = workflowInfo().firstExecutionRunId;
  const state: ExitSnapshot = input.carried ?? {
    merchantId,
    kind: input.kind,
    step: 'checking',
    stepSinceMs: Date.now(),
    requestedBy: input.requestedBy,
    reason: input.reason,
    ...(input.penaltyId ? { penaltyId: input.penaltyId } : {}),
    blocking: [],
    productsToDelist: [],
    refunds: [],
    timeline: [],
  };
  let recheckAsked = false;
  let reviewArrived = false;

  /** Timeline entries not yet on the exit's row: the next step's write takes them. */
  let unwritten: Array<ExitTimelineEntry & { seq: number }> = [];
  /** A timeline entry, kept in the state and written with the next step. */
  const note = (actor: string, action: string, reason?: string, detail?: Record<string, unknown>): void => {
    const entry: ExitTimelineEntry = { atMs: Date.now(), actor, action, ...(reason ? { reason } : {}), ...(detail ? { detail } : {}) };
    state.timeline.push(entry);
    unwritten.push({ ...entry, seq: state.timeline.length });
  };
  const moveTo = async (step: ExitStep, extra: { blocking?: ExitFacts['blocking']; checkedAtMs?: number } = {}): Promise<void> => {
    if (state.step !== step) state.stepSinceMs = Date.now();
    state.step = step;
    upsertSearchAttributes([{ key: ExitStepAttribute, value: step }]);
    setCurrentDetails(currentDetails(state));
    const ended = step === 'removed' || step === 'rejected' || step === 'withdrawn';
    const entries = unwritten;
    unwritten = [];
    await records.recordExitProgress({ exitId, step, ...extra, ...(ended ? { ended } : {}), ...(entries.length ? { entries } : {}) });
  };

  setHandler(exitStatusQuery, () => state);
  setHandler(exitRecheckSignal, (recheck) => {
    recheckAsked = true;
    log.info('exit re-check asked', { merchantId, actor: recheck?.actor, reason: recheck?.reason });
  });
  setHandler(
    exitReviewUpdate,
    (review) => {
      state.review = { decision: review.decision, actor: review.actor, reason: review.reason, atMs: Date.now() };
      reviewArrived = true;
      return state;
    },
    {
      validator: (review) => {
        if ((review?.decision !== 'approve' && review?.decision !== 'reject') || !review.actor || !review.reason) throw new Error('decision (approve or reject), actor and reason are required');
        if (state.review?.decision === review.decision) throw new Error(`the exit is already ${review.decision === 'approve' ? 'approved' : 'rejected'}`);
        if (!['checking', 'blocked', 'awaiting-review'].includes(state.step)) throw new Error(`the exit is past its review (step ${state.step})`);
        if (review.decision === 'approve' && state.step !== 'awaiting-review') {
          throw new Error(`the exit cannot be approved while a precondition fails: ${state.blocking.map((b) => `${b.precondition} (${b.orders.length} orders)`).join(', ') || 'not checked yet'}`);
        }
      },
    },
  );

  upsertSearchAttributes([{ key: MerchantIdAttribute, value: merchantId }]);
  if (!input.carried) {
    const begun = await records.beginExit({ exitId, merchantId, workflowId: workflowInfo().workflowId, kind: input.kind, requestedBy: input.requestedBy, reason: input.reason, ...(input.penaltyId ? { penaltyId: input.penaltyId } : {}) });
    if (begun.merchantState === 'removed') {
      // A second forced exit of a merchant already removed: nothing is left to do.
      state.step = 'removed';
      upsertSearchAttributes([{ key: ExitStepAttribute, value: 'removed' }]);
      return state;
    }
    note(input.requestedBy, input.kind === 'forced' ? 'forced-exit-started' : 'exit-requested', input.reason, input.penaltyId ? { penaltyId: input.penaltyId } : undefined);
    await moveTo('checking');
  }

  // The preconditions, until approved with nothing blocking, or rejected, or withdrawn.
  const checksPerRun = input.continueAsNewAfterChecks ?? DEFAULT_CHECKS_PER_RUN;
  for (let checks = 1; ; checks += 1) {
    const facts = await records.checkExitPreconditions(merchantId);
    const checkedAtMs = Date.now();
    state.lastCheckedAtMs = checkedAtMs;
    state.blocking = facts.blocking;
    state.productsToDelist = facts.productsToDelist;
    reviewArrived = false;
    recheckAsked = false;
    if (state.review?.decision === 'reject') {
      await reject();
      return end('rejected');
    }
    if (facts.merchantState !== 'exiting' && facts.merchantState !== 'trading_frozen') {
      // An operator set the merchant back to trading through the listing route: the exit is withdrawn.
      note(SYSTEM, 'exit-withdrawn', `the merchant is ${facts.merchantState} again (listing change)`);
      await moveTo('withdrawn', { blocking: facts.blocking, checkedAtMs });
      return end('withdrawn');
    }
    if (state.review?.decision === 'approve' && !facts.blocking.length) break;
    const step: ExitStep = facts.blocking.length ? 'blocked' : 'awaiting-review';
    if (step !== state.step) note(SYSTEM, step === 'blocked' ? 'preconditions-failing' : 'preconditions-met', undefined, summary(facts));
    await moveTo(step, { blocking: facts.blocking, checkedAtMs });
    const woken = await condition(() => recheckAsked || reviewArrived, PRECONDITION_RECHECK_MS);
    if (!woken && (checks >= checksPerRun || workflowInfo().continueAsNewSuggested)) {
      // Between checks, with nothing arrived: the next run starts with a check, carrying the state.
      await condition(allHandlersFinished);
      if (!recheckAsked && !reviewArrived) await continueAsNew<typeof exitWorkflow>({ ...input, carried: state });
    }
  }

  const approval = state.review!;
  note(approval.actor, 'exit-approved', approval.reason);
  await moveTo('delisting');
  const delisted = await records.delistProductsForExit({ merchantId, actor: approval.actor, reason: `exit approved: ${approval.reason}` });
  if (delisted.length) note(SYSTEM, 'products-delisted', undefined, { productIds: delisted });

  await moveTo('freezing');
  await records.setMerchantStateForExit({ merchantId, to: 'trading_frozen', actor: approval.actor, reason: `exit approved: trading frozen until removal` });
  note(SYSTEM, 'trading-frozen');

  await moveTo('releasing');
  const live = await records.liveSubscriptions(merchantId);
  const decidedAtMs = Date.now();
  state.refunds = await Promise.all(live.map((sub) => refundAndRelease(merchantId, sub, decidedAtMs)));
  note(SYSTEM, 'subscriptions-refunded', undefined, { refunds: state.refunds.map((r) => ({ refundOrderId: r.refundOrderId, amount: r.amount, currency: r.currency })) });

  await moveTo('awaiting-releases');
  await awaitReleases(state);
  note(SYSTEM, 'subscriptions-released', undefined, { count: state.refunds.length });

  await moveTo('revoking');
  await records.removeMerchant({ merchantId, actor: approval.actor, reason: `exit approved: ${approval.reason}` });
  note(SYSTEM, 'merchant-removed', 'credentials erased; its requests are refused and nothing is sent to it');
  await moveTo('recording');
  return end('removed');

  async function reject(): Promise<void> {
    const review = state.review!;
    await records.setMerchantStateForExit({ merchantId, to: 'active', actor: review.actor, reason: `exit rejected: ${review.reason}` });
    note(review.actor, 'exit-rejected', review.reason);
    await moveTo('rejected');
  }

  async function end(outcome: 'removed' | 'rejected' | 'withdrawn'): Promise<ExitSnapshot> {
    await records.compileExitRecord({
      exitId,
      merchantId,
      outcome,
      kind: input.kind,
      requestedBy: input.requestedBy,
      reason: input.reason,
      ...(input.penaltyId ? { penaltyId: input.penaltyId } : {}),
      ...(state.review ? { review: state.review } : {}),
      refunds: state.refunds,
    });
    if (outcome === 'removed') await moveTo('removed');
    return state;
  }
}

/** Waits until every released subscription's line reads released, checking with a growing durable timer. */
async function awaitReleases(state: ExitSnapshot): Promise<void> {
  let waitMs = RELEASE_CHECK_FIRST_MS;
  for (;;) {
    const pending = new Set(await records.unreleasedSubscriptions(state.refunds.map((r) => r.subscriptionWorkflowId)));
    for (const r of state.refunds) r.released = !pending.has(r.subscriptionWorkflowId);
    setCurrentDetails(currentDetails(state));
    if (!pending.size) return;
    await sleep(waitMs);
    waitMs = Math.min(waitMs * 2, RELEASE_CHECK_MAX_MS);
  }
}

/**
 * One live subscription: its unused paid time refunded through the refund workflow (which
 * tells the order system and hands the release to the subscription), or, with nothing left to
 * refund, the release handed to the subscription directly, under the same refund order id.
 */
async function refundAndRelease(merchantId: string, sub: LiveSubscription, decidedAtMs: number): Promise<ExitRefund> {
  const refundOrderId = `exit-${merchantId}-${sub.orderId}-${sub.orderLineId}`;
  const amount = proRataRefund(sub.paidAmount, sub.paidAtMs, sub.expiresAtMs, decidedAtMs);
  const base: ExitRefund = {
    orderId: sub.orderId,
    orderLineId: sub.orderLineId,
    productId: sub.productId,
    subscriptionWorkflowId: sub.subscriptionWorkflowId,
    refundOrderId,
    amount,
    currency: sub.currency,
    paidAmount: sub.paidAmount,
    released: false,
  };
  if (amount !== '0.00') {
    const workflowId = refundWorkflowId(refundOrderId);
    const result = await executeChild<(input: ReturnType<typeof merchantExitRefundInput>) => Promise<RefundSnapshot>>('refundWorkflow', {
      workflowId,
      args: [
        merchantExitRefundInput({
          refundOrderId,
          orderId: sub.orderId,
          orderLineId: sub.orderLineId,
          merchantId,
          customerId: sub.customerId,
          currency: sub.currency,
          subscriptionWorkflowId: sub.subscriptionWorkflowId,
          chargingMode: sub.chargingMode as RefundChargingMode,
          paidAmount: sub.paidAmount,
          paidAt: sub.paidAtMs,
          amount,
          requestedAt: decidedAtMs,
        }),
      ],
      // The refund is the customer's money: it completes even if the exit were ended.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    if (result.step === 'approved') return { ...base, refundWorkflowId: workflowId };
    // Refused (another refund of the line is already live): that refund stands; the release still goes through below.
    log.warn('exit refund refused; releasing without it', { merchantId, refundOrderId, rule: result.rule });
  }
  const event: OrderUnsubscribedEvent = { kind: 'order.unsubscribed', eventId: `merchant-exit:${refundOrderId}`, acceptedAtMs: Date.now(), orderId: refundOrderId };
  try {
    await getExternalWorkflowHandle(sub.subscriptionWorkflowId).signal(lifecycleEventSignal, event);
  } catch (error) {
    // The subscription ended meanwhile (its line then reads released or failed).
    log.warn('exit release not delivered: the subscription is not running', { subscription: sub.subscriptionWorkflowId, error: String(error) });
  }
  return { ...base, amount: '0.00' };
}

function summary(facts: ExitFacts): Record<string, unknown> {
  return { blocking: facts.blocking.map((b) => ({ precondition: b.precondition, orders: b.orders.length })), productsToDelist: facts.productsToDelist.length };
}

/** The Web UI's current details: the step, and what it waits on. */
function currentDetails(state: ExitSnapshot): string {
  const lines = [`**Exit of ${state.merchantId}**: ${state.step} since ${new Date(state.stepSinceMs).toISOString()}`];
  for (const b of state.blocking) {
    if (state.step !== 'blocked') break;
    lines.push(`- precondition failing: \`${b.precondition}\` (${b.orders.length} order lines)`);
    for (const o of b.orders.slice(0, 10)) lines.push(`  - ${o.orderId} / ${o.orderLineId}: ${o.why}`);
    if (b.orders.length > 10) lines.push(`  - … and ${b.orders.length - 10} more (status query)`);
  }
  if (state.step === 'awaiting-review') lines.push(`- nothing blocks: waiting for an operator to approve or reject; ${state.productsToDelist.length} products to delist on approval`);
  if (state.step === 'awaiting-releases') {
    const pending = state.refunds.filter((r) => !r.released);
    lines.push(`- waiting for ${pending.length} of ${state.refunds.length} subscriptions to be released`);
    for (const r of pending.slice(0, 10)) lines.push(`  - ${r.subscriptionWorkflowId}`);
  }
  return lines.join('\n');
}
