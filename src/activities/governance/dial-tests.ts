/**
 * Dial-test activities (spec §1.6, §4): which products a run dials, one product's debug cases
 * replayed against its merchant's production URL (signed, testFlag=1, through the merchant
 * client), and the judgement of its days: after the configured number of consecutive failed
 * days the product is hidden and the merchant's trading frozen; a passing run lifts what the
 * dial tests imposed, and nothing else.
 */
import { randomUUID } from 'node:crypto';
import { cancellationSignal } from '@temporalio/activity';
import type { Db } from '../../db/pool';
import {
  dialTestDays,
  dialTestResultsOfRun,
  dialTestTargets,
  insertDialTestSanction,
  latestDialTestSanction,
  latestListingActor,
  liftDialTestSanction,
  merchantStillFrozenByDialTests,
  productDialTestCases,
  recordDialTestResults,
  type DialTestResult,
  type DialTestTarget,
} from '../../db/repositories/governance/dial-tests';
import { lockMerchantListing, lockProductListing, setMerchantListing, setProductListing } from '../../db/repositories/governance/listing';
import { publishingFreeze } from '../../db/repositories/governance/penalties';
import type { MerchantClient, MerchantEndpoint } from '../../clients/merchant';
import type { MerchantDirectory } from '../../clients/merchant-directory';
import type { NewInstanceBody, QueryInstanceBody, ReleaseInstanceBody } from '../../protocol/requests';
import { baseResponseSchema, newInstanceResponseSchema, queryInstanceResponseSchema } from '../../protocol/schemas';
import { keyedByProduct } from '../../shared/ids';
import { productTransition, type MerchantState, type ProductState } from '../../shared/listing-transitions';
import { classifyAnswer } from '../subscription/merchant-answers';
import { beijingDay, failedStreak, sanctionMove } from './dial-tests-verdict';

/** Who the listing changes of dial tests are recorded under. */
export const DIAL_TESTS_ACTOR = 'dial-tests';

export interface DialTestActivityDeps {
  db: Db;
  merchants: MerchantDirectory;
  merchantClient: MerchantClient;
}

export interface DialProductInput {
  /** The merchant's run: the id its results are recorded under. */
  runId: string;
  merchantId: string;
  productId: string;
  /** When the run started, on the workflow's clock: its results' time and (in Beijing) day. */
  runAtMs: number;
}

export interface DialProductResult {
  passed: boolean;
  results: DialTestResult[];
}

export interface JudgeInput extends DialProductInput {
  failedDaysToFreeze: number;
}

export interface DialTestVerdict {
  passed: boolean;
  /** Consecutive failed days ending with the run's day. */
  failedDays: number;
  /** What this run did to the listing: imposed the sanction, lifted it, or nothing. */
  action: 'frozen' | 'lifted' | 'none';
  /** With `frozen`: whether the product was hidden and the merchant's trading frozen by it (each may have been off already). */
  productHidden: boolean;
  merchantFrozen: boolean;
}

const passedAll = (results: readonly DialTestResult[]): boolean => results.length === 3 && results.every((r) => r.ok);

/** A case that was not sent because the create answered no instance to query or release. */
const notSent = (caseKind: DialTestResult['caseKind']): DialTestResult => ({ caseKind, ok: false, resultCode: null, latencyMs: 0, error: 'not sent: the create answered no instance' });

export function createDialTestActivities({ db, merchants, merchantClient }: DialTestActivityDeps) {
  /** One signed debug call; the outcome as the subscription's calls classify it. */
  async function call(endpoint: MerchantEndpoint, body: NewInstanceBody | QueryInstanceBody | ReleaseInstanceBody) {
    return merchantClient.post(endpoint, body, cancellationSignal());
  }

  async function replay(endpoint: MerchantEndpoint | undefined, merchantId: string, productId: string, cases: NonNullable<Awaited<ReturnType<typeof productDialTestCases>>>): Promise<DialTestResult[]> {
    if (!endpoint) {
      const error = `merchant ${merchantId} is not registered`;
      return (['create', 'query', 'release'] as const).map((caseKind) => ({ caseKind, ok: false, resultCode: null, latencyMs: 0, error }));
    }
    const { create, query, release } = cases.cases;
    const created = await call(endpoint, {
      activity: 'newInstance',
      orderId: create.orderId,
      orderLineId: create.orderLineId,
      // Fresh on every call (spec §2.1), dial tests included.
      businessId: randomUUID(),
      productId: keyedByProduct(cases.chargingMode) ? productId : undefined,
      testFlag: '1',
    });
    const createAnswer = classifyAnswer('newInstance', created, newInstanceResponseSchema, true);
    const createdId = createAnswer.outcome.kind === 'failure' ? undefined : createAnswer.parsed?.instanceId;
    const results: DialTestResult[] = [result('create', createAnswer.outcome, createdId ? undefined : 'answer has no instanceId')];

    const queryId = query.instanceId ?? createdId;
    if (!queryId) results.push(notSent('query'));
    else {
      const answer = classifyAnswer('queryInstance', await call(endpoint, { activity: 'queryInstance', instanceId: queryId, testFlag: '1' }), queryInstanceResponseSchema, true);
      results.push(result('query', answer.outcome));
    }

    const releaseId = release.instanceId ?? createdId;
    if (!releaseId) results.push(notSent('release'));
    else {
      const body: ReleaseInstanceBody = { activity: 'releaseInstance', instanceId: releaseId, orderId: release.orderId ?? undefined, orderLineId: release.orderLineId ?? undefined, testFlag: '1' };
      results.push(result('release', classifyAnswer('releaseInstance', await call(endpoint, body), baseResponseSchema, false).outcome));
    }
    return results;
  }

  return {
    /** The products a run dials, by merchant: a page of merchants after `afterMerchantId`. */
    async dialTestTargets(page: { afterMerchantId: string; limit: number }): Promise<DialTestTarget[]> {
      return dialTestTargets(db, page);
    },

    /**
     * Replays a product's cases (create, query, release) and records the three results at
     * once. A retry of a run already recorded answers the recorded results without calling.
     */
    async dialProduct(input: DialProductInput): Promise<DialProductResult> {
      const recorded = await dialTestResultsOfRun(db, input.runId, input.productId);
      if (recorded.length) return { passed: passedAll(recorded), results: recorded };
      const cases = await productDialTestCases(db, input);
      if (!cases) return { passed: false, results: [] };
      const results = await replay(await merchants.endpoint(input.merchantId), input.merchantId, input.productId, cases);
      const ranAt = new Date(input.runAtMs).toISOString();
      await recordDialTestResults(db, { ...input, ranAt, day: beijingDay(input.runAtMs) }, results);
      return { passed: passedAll(results), results };
    },

    /**
     * Judges the product's days after its run and imposes or lifts the sanction, in one
     * transaction under the merchant's row lock, then the product's (the listing lock order). A retry of a run already judged answers what
     * that run did.
     */
    async judgeDialTests(input: JudgeInput): Promise<DialTestVerdict> {
      const day = beijingDay(input.runAtMs);
      return db.withTransaction(async (q) => {
        const product = await lockProductListing(q, input);
        const results = await dialTestResultsOfRun(q, input.runId, input.productId);
        const passed = passedAll(results);
        // A year of days: enough to count any streak the merchant is told of ("day n").
        const streak = failedStreak(await dialTestDays(q, input.productId, day, 366), day);
        const latest = await latestDialTestSanction(q, input.productId);
        const verdict = { passed, failedDays: streak.days, action: 'none' as DialTestVerdict['action'], productHidden: false, merchantFrozen: false };
        if (!product) return verdict;
        if (latest?.imposedRunId === input.runId) return { ...verdict, action: 'frozen', productHidden: latest.productHidden, merchantFrozen: latest.merchantFrozen };
        if (latest?.liftedRunId === input.runId) return { ...verdict, action: 'lifted' };
        const open = latest && latest.liftedRunId === null ? latest : undefined;
        const move = sanctionMove({ passed, streak, failedDaysToFreeze: input.failedDaysToFreeze, sanctionOpen: !!open });

        if (move === 'impose') {
          const reason = `dial tests failed ${streak.days} consecutive days (${streak.since} to ${day}, Beijing time); trading returns when they pass again`;
          const productHidden = productTransition(product.state as ProductState, 'hidden', product.merchantState as MerchantState).allowed;
          if (productHidden) await setProductListing(q, { merchantId: input.merchantId, productId: input.productId, from: product.state, to: 'hidden', until: null, actor: DIAL_TESTS_ACTOR, reason });
          const merchant = await lockMerchantListing(q, input.merchantId);
          // Frozen by this sanction, or already by another product's: then both hold the freeze, and it ends with the last lift.
          const merchantFrozen = merchant?.state === 'active' || (merchant?.state === 'trading_frozen' && (await merchantStillFrozenByDialTests(q, input.merchantId)));
          if (merchant?.state === 'active') await setMerchantListing(q, { merchantId: input.merchantId, from: 'active', to: 'trading_frozen', actor: DIAL_TESTS_ACTOR, reason: `product ${input.productId}: ${reason}` });
          await insertDialTestSanction(q, { productId: input.productId, merchantId: input.merchantId, imposedRunId: input.runId, imposedDay: day, failedDays: streak.days, productHidden, merchantFrozen });
          return { ...verdict, action: 'frozen', productHidden, merchantFrozen };
        }

        if (move === 'lift' && open) {
          const reason = `dial tests passed again on ${day} (Beijing time)`;
          // Only what the dial tests did and nobody changed since: an operator's own decision stands.
          const ours = async (productId: string | null) => (await latestListingActor(q, { merchantId: input.merchantId, productId })) === DIAL_TESTS_ACTOR;
          // Back on sale as the listing rules allow: not under a publishing freeze (a penalty), which leaves it hidden for an operator to relist.
          const freeze = await publishingFreeze(q, input.merchantId);
          const relist = productTransition('hidden', 'on_sale', product.merchantState as MerchantState, freeze?.frozenUntil ?? null).allowed;
          if (open.productHidden && product.state === 'hidden' && relist && (await ours(input.productId))) {
            await setProductListing(q, { merchantId: input.merchantId, productId: input.productId, from: 'hidden', to: 'on_sale', until: null, actor: DIAL_TESTS_ACTOR, reason });
          }
          await liftDialTestSanction(q, open.sanctionId, { runId: input.runId, day });
          if (open.merchantFrozen && !(await merchantStillFrozenByDialTests(q, input.merchantId))) {
            const merchant = await lockMerchantListing(q, input.merchantId);
            if (merchant?.state === 'trading_frozen' && (await ours(null))) {
              await setMerchantListing(q, { merchantId: input.merchantId, from: 'trading_frozen', to: 'active', actor: DIAL_TESTS_ACTOR, reason: `product ${input.productId}: ${reason}` });
            }
          }
          return { ...verdict, action: 'lifted' };
        }
        return verdict;
      });
    },
  };
}

function result(caseKind: DialTestResult['caseKind'], outcome: { kind: string; resultCode?: string; latencyMs: number; error?: string }, missing?: string): DialTestResult {
  const ok = outcome.kind !== 'failure' && !missing;
  return { caseKind, ok, resultCode: outcome.resultCode ?? null, latencyMs: outcome.latencyMs, error: ok ? null : (outcome.error ?? missing ?? null) };
}

/** The dial tests' activities: replays and judgements, retried (a replay of a recorded run calls no one). */
export type DialTestActivities = ReturnType<typeof createDialTestActivities>;
