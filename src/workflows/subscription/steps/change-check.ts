/**
 * Renewal change check (spec §2.7, changeInstanceCheck), answered synchronously: the order
 * system asks through a Temporal update and gets "allowed" or "refused" with the
 * merchant's reason. One attempt; a merchant that does not answer before the deadline is
 * a refusal, so a renewal is never held up waiting.
 */
import { recordedCall } from '../../windows/runner';
import { changeCheckCall } from '../proxies';
import { instanceCall, type Subscription } from '../context';
import type { ChangeCheckAnswer, ChangeCheckRequest } from '../messages';
import { windowHost } from '../window-host';

export async function checkChange(sub: Subscription, request: ChangeCheckRequest): Promise<ChangeCheckAnswer> {
  const { callChangeInstanceCheck } = changeCheckCall(sub.lifecycle.changeCheckDeadlineMs);
  const outcome = await recordedCall(windowHost(sub), 'renewal', 'changeInstanceCheck', (attempt) =>
    callChangeInstanceCheck({
      attempt,
      ...instanceCall(sub),
      productInfo: { productId: request.productId, skuCode: request.skuCode, productName: request.productName, linearValue: request.linearValue },
    }),
  );
  if (outcome.kind === 'success') return { allowed: true, reason: outcome.resultMsg ?? 'allowed', resultCode: outcome.resultCode };
  if (!outcome.resultCode) return { allowed: false, reason: `refused: merchant did not answer (${outcome.error ?? 'no answer'})` };
  return { allowed: false, reason: `refused: ${outcome.resultMsg ?? outcome.error ?? 'no reason given'}`, resultCode: outcome.resultCode };
}
