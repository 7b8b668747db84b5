/**
 * penaltyNoticeWorkflow: `penalty-notice:<entryId>`, started by the penalty route after the
 * entry's commit. The API writes the entry's in-site message in the entry's transaction and has
 * no mail transport; this hands the message to the notices capability's `notifyMerchant`
 * activity on the worker, which finds that message by its key and sends its e-mail once.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { ErrorType } from '../../../shared/errors';
import type { PenaltyNoticeInput } from './messages';
import { notices } from './proxies';

export async function penaltyNoticeWorkflow(input: PenaltyNoticeInput): Promise<{ notificationId: string; email: string }> {
  const n = input?.notice;
  if (!n?.idempotencyKey || !n.merchantId || !n.subject || !n.body) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'notice with idempotencyKey, merchantId, subject and body is required', nonRetryable: true });
  }
  return notices.notifyMerchant(n);
}
