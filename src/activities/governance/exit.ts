/**
 * The exit's activities (spec §9.4): its row and timeline, the precondition check read from
 * PostgreSQL, the listing changes it makes (exiting, delisting, freezing, back to active), the
 * live subscriptions to refund and release, the removal with its credentials erased, and the
 * exit record.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../../db/pool';
import { lockMerchantListing, setMerchantListing, setProductListing } from '../../db/repositories/governance/listing';
import {
  eraseMerchantCredentials,
  exitTimeline,
  insertExit,
  liveSubscriptionsOf,
  noInvoiceProofsForRecord,
  recordExitStep,
  saveExitRecord,
  settlementForRecord,
  unreleasedSubscriptions,
  type ExitStartRow,
} from '../../db/repositories/governance/exit';
import { ordersInFulfilment, productsNotDelisted, uninvoicedOrders, unsettledOrders } from '../../db/repositories/governance/exit-preconditions';
import { ErrorType } from '../../shared/errors';
import { createNotificationActivities, type NotificationDeps } from '../notices/notifications';
import { exitNotice } from './exit-notices';
import type { ExitFacts, ExitRefund, ExitStep, ExitTimelineEntry, LiveSubscription } from '../../workflows/governance/exit/messages';

export type ExitActivityDeps = NotificationDeps & { db: Db };

/** Who made a listing change for the exit, and why. */
export interface ExitActor {
  merchantId: string;
  actor: string;
  reason: string;
}

export interface ExitRecordInput {
  exitId: string;
  merchantId: string;
  outcome: 'removed' | 'rejected' | 'withdrawn';
  kind: string;
  requestedBy: string;
  reason: string;
  penaltyId?: string;
  review?: { decision: string; actor: string; reason: string; atMs: number };
  refunds: ExitRefund[];
}

const notFound = (merchantId: string): ApplicationFailure =>
  ApplicationFailure.create({ type: ErrorType.InvalidInput, message: `merchant ${merchantId} is not registered`, nonRetryable: true });

export function createExitActivities(deps: ExitActivityDeps) {
  const { db } = deps;
  const { notifyMerchant } = createNotificationActivities(deps);
  return {
    /**
     * The exit's row, and the merchant moved to `exiting` (it takes no new orders) unless it
     * already is. Answers the merchant's state before: `removed` means there is nothing to do.
     */
    async beginExit(start: ExitStartRow): Promise<{ merchantState: string }> {
      return db.withTransaction(async (q) => {
        const merchant = await lockMerchantListing(q, start.merchantId);
        if (!merchant) throw notFound(start.merchantId);
        if (merchant.state === 'removed') return { merchantState: merchant.state };
        await insertExit(q, start);
        if (merchant.state !== 'exiting') {
          await setMerchantListing(q, { merchantId: start.merchantId, from: merchant.state, to: 'exiting', actor: start.requestedBy, reason: `exit ${start.kind}: ${start.reason}` });
        }
        return { merchantState: merchant.state };
      });
    },

    /** The §9.4 preconditions as PostgreSQL has them now. */
    async checkExitPreconditions(merchantId: string): Promise<ExitFacts> {
      const merchant = await lockMerchantListing(db, merchantId);
      if (!merchant) throw notFound(merchantId);
      const [productsToDelist, inFulfilment, unsettled, uninvoiced] = await Promise.all([
        productsNotDelisted(db, merchantId),
        ordersInFulfilment(db, merchantId),
        unsettledOrders(db, merchantId),
        uninvoicedOrders(db, merchantId),
      ]);
      const blocking: ExitFacts['blocking'] = [];
      if (inFulfilment.length) blocking.push({ precondition: 'no-order-in-fulfilment', orders: inFulfilment });
      if (unsettled.length) blocking.push({ precondition: 'no-unsettled-order', orders: unsettled });
      if (uninvoiced.length) blocking.push({ precondition: 'no-uninvoiced-order', orders: uninvoiced });
      return { merchantState: merchant.state, productsToDelist, blocking };
    },

    /**
     * The exit's step (and blocking facts) on its row, and the timeline entries since the last
     * step, each once by its sequence number; then the merchant is told of those entries that
     * concern it (exit-notices.ts), each once by its key. After the commit: a notice never
     * tells of a step that was not recorded.
     */
    async recordExitProgress(p: { exitId: string; step: ExitStep; blocking?: ExitFacts['blocking']; checkedAtMs?: number; ended?: boolean; entries?: Array<ExitTimelineEntry & { seq: number }> }): Promise<void> {
      const exit = await db.withTransaction((q) => recordExitStep(q, p));
      if (!exit) return;
      for (const entry of p.entries ?? []) {
        const notice = exitNotice({ exitId: p.exitId, merchantId: exit.merchantId, ...(p.blocking ? { blocking: p.blocking } : {}) }, entry);
        if (notice) await notifyMerchant(notice);
      }
    },

    /** Delists every product not delisted yet (a period delisting too: its end would put it back on sale). Answers the products delisted. */
    async delistProductsForExit(a: ExitActor): Promise<string[]> {
      return db.withTransaction(async (q) => {
        // The merchant's row lock first, then its products' (the listing lock order).
        await lockMerchantListing(q, a.merchantId);
        const products = await productsNotDelisted(q, a.merchantId);
        for (const p of products) {
          await setProductListing(q, { merchantId: a.merchantId, productId: p.productId, from: p.state, to: 'delisted', until: null, actor: a.actor, reason: a.reason });
        }
        return products.map((p) => p.productId);
      });
    },

    /**
     * Moves the merchant to `to` for the exit: `trading_frozen` on approval, `active` when the
     * exit is rejected (only from `exiting`: a state an operator set meanwhile stands). Answers
     * whether it changed.
     */
    async setMerchantStateForExit(a: ExitActor & { to: 'trading_frozen' | 'active' }): Promise<boolean> {
      return db.withTransaction(async (q) => {
        const merchant = await lockMerchantListing(q, a.merchantId);
        if (!merchant) throw notFound(a.merchantId);
        const from = merchant.state;
        const allowed = a.to === 'active' ? from === 'exiting' : from === 'exiting' || from === 'active';
        if (!allowed) return false;
        await setMerchantListing(q, { merchantId: a.merchantId, from, to: a.to, actor: a.actor, reason: a.reason });
        return true;
      });
    },

    async liveSubscriptions(merchantId: string): Promise<LiveSubscription[]> {
      return liveSubscriptionsOf(db, merchantId);
    },

    async unreleasedSubscriptions(workflowIds: string[]): Promise<string[]> {
      return workflowIds.length ? unreleasedSubscriptions(db, workflowIds) : [];
    },

    /** 清退: the merchant removed and its credentials erased, in one transaction; from then on nothing is sent to it and its requests are refused. */
    async removeMerchant(a: ExitActor): Promise<void> {
      await db.withTransaction(async (q) => {
        const merchant = await lockMerchantListing(q, a.merchantId);
        if (!merchant) throw notFound(a.merchantId);
        await eraseMerchantCredentials(q, a.merchantId);
        if (merchant.state !== 'removed') await setMerchantListing(q, { merchantId: a.merchantId, from: merchant.state, to: 'removed', actor: a.actor, reason: a.reason });
      });
    },

    /**
     * The exit record (a JSON document kept on the exit's row): the merchant's statements and
     * invoices as they stand, the no-invoice proofs, the open obligations (none: an exit ends
     * only when every precondition held), the refunds charged back in its final statement, and
     * the timeline with who, why and when.
     */
    async compileExitRecord(r: ExitRecordInput): Promise<void> {
      const [settlement, noInvoiceProofs, timeline] = await Promise.all([settlementForRecord(db, r.merchantId), noInvoiceProofsForRecord(db, r.merchantId), exitTimeline(db, r.exitId)]);
      const refunded = r.refunds.filter((f) => Number(f.amount) > 0);
      const record = {
        exitId: r.exitId,
        merchantId: r.merchantId,
        outcome: r.outcome,
        kind: r.kind,
        requestedBy: r.requestedBy,
        reason: r.reason,
        ...(r.penaltyId ? { penaltyId: r.penaltyId } : {}),
        review: r.review ? { decision: r.review.decision, actor: r.review.actor, reason: r.review.reason, at: new Date(r.review.atMs).toISOString() } : null,
        finalStatements: settlement.statements,
        invoices: settlement.invoices,
        noInvoiceProofs,
        openObligations: [],
        refundsChargedBack: {
          note: 'pro-rata refunds of the live subscriptions at the exit, charged back in the merchant\'s final statement',
          refunds: refunded,
        },
        releasedSubscriptions: r.refunds.map((f) => ({ orderId: f.orderId, orderLineId: f.orderLineId, productId: f.productId, refundOrderId: f.refundOrderId, released: f.released })),
        timeline,
        compiledAt: new Date().toISOString(),
      };
      await saveExitRecord(db, r.exitId, record);
    },
  };
}

export type ExitActivities = ReturnType<typeof createExitActivities>;
