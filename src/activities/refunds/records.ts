/**
 * The refund's records: its `refunds` row and every decision taken on it, with the reason, who
 * took it and when (the order's timeline reads them). Each write is keyed (the refund order,
 * the step's sequence), so a retried activity changes nothing twice.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../../db/pool';
import {
  findRefund,
  insertRefundRequest,
  recordRefundSteps,
  type RefundDecisionEntry,
  type RefundRequestRow,
  type RefundVerdict,
} from '../../db/repositories/refunds/refunds';
import { ErrorType } from '../../shared/errors';

// The workflow builds these records and may import activities' types only.
export type { RefundActorType, RefundDecisionEntry, RefundVerdict } from '../../db/repositories/refunds/refunds';

export interface RefundRecordDeps {
  db: Db;
}

export interface RefundRequestRecord {
  request: RefundRequestRow;
  /** The request's own entry on the timeline. */
  entry: RefundDecisionEntry;
}

/**
 * The request is on record and pending, or refused by `refund_already_live` because the line
 * has another live refund (named the first time; a retry reads the stored refusal).
 */
export type RefundRequestRecorded = { status: 'pending' } | { status: 'refused'; rule: 'refund_already_live'; liveRefundOrderId?: string };

export interface RefundStepsRecord {
  refundOrderId: string;
  entries: RefundDecisionEntry[];
  verdict?: RefundVerdict;
}

export function createRefundActivities({ db }: RefundRecordDeps) {
  return {
    /**
     * Writes the request as pending (the API may have done so already, with the event that
     * asked) and its timeline entry. When another refund of the line is pending or approved,
     * the request is written as refused by `refund_already_live`: one live refund per line.
     */
    async recordRefundRequested({ request, entry }: RefundRequestRecord): Promise<RefundRequestRecorded> {
      return db.withTransaction(async (tx) => {
        const result = await insertRefundRequest(tx, request);
        if (result.kind === 'line-has-live-refund') {
          await insertRefundRequest(tx, request, { refusedBy: 'refund_already_live' });
          await recordRefundSteps(tx, request.refundOrderId, [entry]);
          return { status: 'refused', rule: 'refund_already_live', liveRefundOrderId: result.liveRefundOrderId };
        }
        if (result.kind === 'exists' && (result.orderId !== request.orderId || result.orderLineId !== request.orderLineId)) {
          throw ApplicationFailure.create({
            type: ErrorType.InvalidInput,
            message: `refund order ${request.refundOrderId} belongs to ${result.orderId}/${result.orderLineId}, not ${request.orderId}/${request.orderLineId}`,
            nonRetryable: true,
          });
        }
        await recordRefundSteps(tx, request.refundOrderId, [entry]);
        // A retry after a refusal by another live refund reads that refusal back.
        const stored = await findRefund(tx, request.refundOrderId);
        return stored?.rule === 'refund_already_live' ? { status: 'refused', rule: 'refund_already_live' } : { status: 'pending' };
      });
    },
    /** Steps taken on the refund, and its verdict when it has one, in one transaction. */
    async recordRefundSteps({ refundOrderId, entries, verdict }: RefundStepsRecord): Promise<void> {
      await db.withTransaction((tx) => recordRefundSteps(tx, refundOrderId, entries, verdict));
    },
  };
}

export type RefundActivities = ReturnType<typeof createRefundActivities>;
