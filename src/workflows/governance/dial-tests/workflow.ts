/**
 * Dial tests (spec §1.6, §4).
 *
 * dialTestRunWorkflow: what the Schedule starts every morning and afternoon. It takes its own
 * start as the run's time, pages through the merchants with products to dial, and runs one
 * merchantDialTestsWorkflow per merchant, a few at a time; it continues as new after a batch
 * of merchants, carrying the run's time and its cursor.
 *
 * merchantDialTestsWorkflow, `dial-tests:<merchantId>:<run>`: the merchant's products one
 * after another (debug instances of the same mock order would collide if dialled at once):
 * replay the saved cases, judge the product's days (freeze after the failed-day limit, lift
 * on a pass), and tell the merchant at each failure, freeze and lift. In the Web UI:
 * `MerchantId` and `FulfillmentStatus` = `dial-tests:running|passed|failed|frozen`.
 */
import { ApplicationFailure, continueAsNew, executeChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../../../shared/errors';
import { FulfillmentStatusAttribute, MerchantIdAttribute } from '../../../shared/search-attributes';
import type { DialProductResult, DialTestVerdict } from '../../../activities/governance/dial-tests';
import {
  DIAL_TEST_MERCHANTS_AT_ONCE,
  DIAL_TEST_MERCHANTS_PER_PAGE,
  DIAL_TEST_MERCHANTS_PER_RUN,
  dialTestRunKey,
  merchantDialTestsWorkflowId,
  type DialTestRunInput,
  type DialTestRunTotals,
  type MerchantDialTestsInput,
  type MerchantDialTestsResult,
  type MerchantDialTestsStatus,
  type ProductDialOutcome,
} from './messages';
import { dialing, notices, records } from './proxies';

function requireFreezeLimit(failedDaysToFreeze: unknown): void {
  if (!Number.isInteger(failedDaysToFreeze) || (failedDaysToFreeze as number) < 1) {
    throw ApplicationFailure.create({ type: ErrorType.InvalidInput, message: 'failedDaysToFreeze must be a positive integer', nonRetryable: true });
  }
}

export async function dialTestRunWorkflow(input: DialTestRunInput): Promise<DialTestRunTotals & { runAtMs: number }> {
  requireFreezeLimit(input?.failedDaysToFreeze);
  const runAtMs = input.progress?.runAtMs ?? Date.now();
  const run = dialTestRunKey(runAtMs);
  const totals: DialTestRunTotals = { merchants: 0, merchantRunsFailed: 0, products: 0, failed: 0, frozen: 0, lifted: 0, ...input.progress?.totals };
  let afterMerchantId = input.progress?.afterMerchantId ?? '';
  upsertSearchAttributes([{ key: FulfillmentStatusAttribute, value: 'dial-tests:running' }]);

  let thisRun = 0;
  for (;;) {
    const page = await records.dialTestTargets({ afterMerchantId, limit: DIAL_TEST_MERCHANTS_PER_PAGE });
    for (let i = 0; i < page.length; i += DIAL_TEST_MERCHANTS_AT_ONCE) {
      // One merchant's failed run (its activities kept failing) does not stop the others'.
      const settled = await Promise.allSettled(
        page.slice(i, i + DIAL_TEST_MERCHANTS_AT_ONCE).map((target) =>
          executeChild(merchantDialTestsWorkflow, {
            workflowId: merchantDialTestsWorkflowId(target.merchantId, run),
            args: [{ merchantId: target.merchantId, productIds: target.productIds, runAtMs, failedDaysToFreeze: input.failedDaysToFreeze }],
          }),
        ),
      );
      for (const outcome of settled) {
        totals.merchants += 1;
        if (outcome.status === 'rejected') {
          totals.merchantRunsFailed += 1;
          continue;
        }
        const r = outcome.value;
        totals.products += r.products.length;
        totals.failed += r.products.filter((p) => !p.passed).length;
        totals.frozen += r.products.filter((p) => p.action === 'frozen').length;
        totals.lifted += r.products.filter((p) => p.action === 'lifted').length;
      }
    }
    thisRun += page.length;
    if (page.length < DIAL_TEST_MERCHANTS_PER_PAGE) break;
    afterMerchantId = page[page.length - 1]!.merchantId;
    if (thisRun >= DIAL_TEST_MERCHANTS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof dialTestRunWorkflow>({ failedDaysToFreeze: input.failedDaysToFreeze, progress: { runAtMs, afterMerchantId, totals } });
    }
  }
  upsertSearchAttributes([{ key: FulfillmentStatusAttribute, value: 'dial-tests:done' }]);
  return { runAtMs, ...totals };
}

function showStatus(status: MerchantDialTestsStatus): void {
  upsertSearchAttributes([{ key: FulfillmentStatusAttribute, value: `dial-tests:${status}` }]);
}

export async function merchantDialTestsWorkflow(input: MerchantDialTestsInput): Promise<MerchantDialTestsResult> {
  requireFreezeLimit(input?.failedDaysToFreeze);
  const { merchantId, runAtMs, failedDaysToFreeze } = input;
  const runId = workflowInfo().workflowId;
  upsertSearchAttributes([{ key: MerchantIdAttribute, value: merchantId }]);
  showStatus('running');

  const products: ProductDialOutcome[] = [];
  for (const productId of input.productIds) {
    const run = { runId, merchantId, productId, runAtMs };
    const dialed = await dialing.dialProduct(run);
    const verdict = await records.judgeDialTests({ ...run, failedDaysToFreeze });
    await tellMerchant(runId, merchantId, productId, dialed, verdict, failedDaysToFreeze);
    products.push({ productId, passed: verdict.passed, failedDays: verdict.failedDays, action: verdict.action });
  }
  const status: MerchantDialTestsStatus = products.some((p) => p.action === 'frozen') ? 'frozen' : products.every((p) => p.passed) ? 'passed' : 'failed';
  showStatus(status);
  return { merchantId, status, products };
}

/** The merchant's notices of a product's run: each failure, and the freeze or its lift (once per run each). */
async function tellMerchant(runId: string, merchantId: string, productId: string, dialed: DialProductResult, verdict: DialTestVerdict, limit: number): Promise<void> {
  // The run id is the merchant's workflow id, dial-tests:<merchantId>:<run>.
  const key = (what: string): string => `${runId}:${productId}:${what}`;
  if (!verdict.passed) {
    const failures = dialed.results.filter((r) => !r.ok).map((r) => `- ${r.caseKind}: ${r.resultCode ? `result code ${r.resultCode}` : 'no result code'}${r.error ? `, ${r.error}` : ''}`);
    await notices.notifyMerchant({
      idempotencyKey: key('failed'),
      merchantId,
      subject: `Dial test failed: product ${productId} (day ${verdict.failedDays} of ${limit})`,
      body:
        `The marketplace's dial test replayed the saved debug cases of product ${productId} (testFlag=1) against your production interface, and it failed:\n` +
        `${failures.join('\n') || '- no case could be run'}\n` +
        `This is day ${verdict.failedDays} of failed dial tests in a row; after ${limit} days trading is frozen and the product hidden until the tests pass again.`,
    });
  }
  if (verdict.action === 'frozen') {
    await notices.notifyMerchant({
      idempotencyKey: key('frozen'),
      merchantId,
      subject: `Trading frozen: dial tests of product ${productId} failed ${verdict.failedDays} days in a row`,
      body:
        `Dial tests of product ${productId} failed ${verdict.failedDays} consecutive days. ` +
        `${verdict.productHidden ? 'The product is hidden' : 'The product stays as it was'}${verdict.merchantFrozen ? ' and your trading is frozen' : ''}. ` +
        'Fix the interface: the next passing dial test lifts this, or ask the marketplace operators.',
    });
  }
  if (verdict.action === 'lifted') {
    await notices.notifyMerchant({
      idempotencyKey: key('lifted'),
      merchantId,
      subject: `Dial tests of product ${productId} pass again`,
      body: `Dial tests of product ${productId} passed. What the failed dial tests froze or hid is lifted, unless an operator has decided otherwise since.`,
    });
  }
}
