/** How a merchant's answer becomes the outcome the workflow branches on (spec §2, §3). */
import type { z } from 'zod';
import type { MerchantHttpResult } from '../../clients/merchant';
import type { MerchantCallOutcome } from '../../protocol/outcome';
import type { MerchantOperation } from '../../protocol/requests';
import { describeResultCode, isProcessing, isSuccess } from '../../protocol/result-codes';
import type { baseResponseSchema } from '../../protocol/schemas';

/** Turns an HTTP result into an outcome; `parsed` is set when the body matched the schema. */
export function classifyAnswer<S extends typeof baseResponseSchema>(
  operation: MerchantOperation,
  result: MerchantHttpResult,
  schema: S,
  processingAllowed: boolean,
): { outcome: MerchantCallOutcome; parsed?: z.infer<S> } {
  const base = { activity: operation, startedAtMs: result.startedAtMs, latencyMs: result.latencyMs, httpStatus: result.httpStatus };
  // The status says more than the body of an error page, so it is checked first.
  if (result.httpStatus !== undefined && (result.httpStatus < 200 || result.httpStatus >= 300)) {
    return { outcome: { ...base, kind: 'failure', error: `HTTP ${result.httpStatus}` } };
  }
  if (result.error !== undefined) return { outcome: { ...base, kind: 'failure', error: result.error } };
  const parsed = schema.safeParse(result.json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'body';
    return { outcome: { ...base, kind: 'failure', error: `malformed response: ${where}: ${issue?.message ?? 'invalid'}` } };
  }
  const { resultCode, resultMsg } = parsed.data;
  const common = { ...base, resultCode, resultMsg };
  if (isSuccess(resultCode)) return { outcome: { ...common, kind: 'success' }, parsed: parsed.data };
  if (processingAllowed && isProcessing(resultCode)) return { outcome: { ...common, kind: 'processing' }, parsed: parsed.data };
  // Any other code, documented or not, is a failure that the window retries (spec §3).
  return { outcome: { ...common, kind: 'failure', error: describeResultCode(resultCode) }, parsed: parsed.data };
}

/** The outcome of a call that could not be made: the merchant is not in our catalogue. */
export function merchantMissing(operation: MerchantOperation, merchantId: string): MerchantCallOutcome {
  return { kind: 'failure', activity: operation, startedAtMs: Date.now(), latencyMs: 0, error: `merchant ${merchantId} is not registered` };
}
