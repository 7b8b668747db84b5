/**
 * Renewal change check (spec §2.7, changeInstanceCheck), answered synchronously: the order
 * system asks through a Temporal update and gets "allowed" or "refused" with the
 * merchant's reason. One attempt; a merchant that does not answer before the deadline is
 * a refusal, so a renewal is never held up waiting.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../../activities';
import type { ChangeCheckAnswer, ChangeCheckRequest } from '../messages';
import type { MerchantCallOutcome } from '../../../protocol/outcome';
import type { SubscriptionState } from '../state';

export async function checkChange(state: SubscriptionState, request: ChangeCheckRequest): Promise<ChangeCheckAnswer> {
  // The deadline is configuration, so the activity options are made per call. It bounds the
  // wait for a worker as well as the call itself: the order system is waiting on the answer.
  const { callChangeInstanceCheck } = proxyActivities<Activities>({
    scheduleToCloseTimeout: state.lifecycle.changeCheckDeadlineMs,
    retry: { maximumAttempts: 1 },
  });
  const outcome: MerchantCallOutcome = await state.attempt('renewal', 'changeInstanceCheck', () =>
    callChangeInstanceCheck({
      ...state.instanceCall(),
      productInfo: { productId: request.productId, skuCode: request.skuCode, productName: request.productName, linearValue: request.linearValue },
    }),
  );
  if (outcome.kind === 'success') return { allowed: true, reason: outcome.resultMsg ?? 'allowed', resultCode: outcome.resultCode };
  if (!outcome.resultCode) return { allowed: false, reason: `refused: merchant did not answer (${outcome.error ?? 'no answer'})` };
  return { allowed: false, reason: `refused: ${outcome.resultMsg ?? outcome.error ?? 'no reason given'}`, resultCode: outcome.resultCode };
}
