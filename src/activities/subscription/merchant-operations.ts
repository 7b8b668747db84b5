/**
 * Merchant calls, one activity per scenario. Each runs exactly one signed request (the
 * workflow owns retries, because every create attempt needs a fresh businessId and a
 * restart signal must be able to cut a backoff short) and returns a classified outcome.
 * Credentials in merchant answers never leave the activity: app info is encrypted and
 * stored here, so it never enters a workflow history.
 */
import { cancellationSignal } from '@temporalio/activity';
import type { z } from 'zod';
import type { Queryable } from '../../db/pool';
import { saveInstanceAppInfo } from '../../db/repositories/subscription/instances';
import { describeResultCode, isProcessing, isSuccess } from '../../protocol/result-codes';
import { baseResponseSchema, newInstanceResponseSchema, queryInstanceResponseSchema } from '../../protocol/schemas';
import { toKooTime } from '../../protocol/time';
import type { Encryptor } from '../../platform/security/encryption';
import type { MerchantCallOutcome } from '../../protocol/outcome';
import { instanceIdTaken } from './instance-id-taken';
import type { MerchantClient, MerchantHttpResult } from '../../clients/merchant';
import type { MerchantDirectory } from '../../clients/merchant-directory';
import type { RenewalScene } from '../../workflows/subscription/messages';

export interface NewInstanceCall {
  workflowId: string;
  merchantId: string;
  orderId: string;
  orderLineId: string;
  businessId: string;
  /**
   * Pay-per-use only: the billing item. The V2 table has no productId, yet merchants must
   * key pay-per-use creates on orderId + productId (spec §2.1), so it is sent as an extra
   * field (merchants ignore fields they do not know).
   */
  productId?: string;
  testFlag?: string;
}

export interface QueryInstanceCall {
  workflowId: string;
  merchantId: string;
  orderId: string;
  orderLineId: string;
  productId: string;
  instanceId: string;
  testFlag?: string;
}

/** The result of a queryInstance poll: ready once the merchant returned the instance's info. */
export interface QueryInstanceOutcome extends MerchantCallOutcome {
  ready: boolean;
}

/** One call to a merchant for an existing instance (refresh, status, release, upgrade, check). */
export interface InstanceCall {
  workflowId: string;
  merchantId: string;
  instanceId: string;
  testFlag?: string;
}

export interface RefreshInstanceCall extends InstanceCall {
  scene: RenewalScene;
  orderId: string;
  orderLineId: string;
  expireTime: string;
  productId?: string;
}

export interface UpdateInstanceStatusCall extends InstanceCall {
  status: 'FREEZE' | 'UNFREEZE';
}

export interface ReleaseInstanceCall extends InstanceCall {
  /** The unsubscribe order, when the release comes from an unsubscription (spec §2.5). */
  orderId?: string;
  orderLineId?: string;
}

export interface UpgradeInstanceCall extends InstanceCall {
  orderId: string;
  orderLineId: string;
}

export interface ChangeInstanceCheckCall extends InstanceCall {
  productInfo: { productId: string; skuCode: string; productName: string; linearValue?: number };
}

export interface MerchantOperationDeps {
  merchants: MerchantDirectory;
  merchantClient: MerchantClient;
  db: Queryable;
  encryptor: Encryptor;
}

/** Turns an HTTP result into an outcome; `parsed` is set when the body matched the schema. */
function classify<S extends typeof baseResponseSchema>(
  activity: string,
  result: MerchantHttpResult,
  schema: S,
  processingAllowed: boolean,
): { outcome: MerchantCallOutcome; parsed?: z.infer<S> } {
  const base = { activity, startedAtMs: result.startedAtMs, latencyMs: result.latencyMs, httpStatus: result.httpStatus };
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

const testFlagOf = (call: { testFlag?: string }): { testFlag?: string } => (call.testFlag ? { testFlag: call.testFlag } : {});

function merchantMissing(activity: string, merchantId: string): MerchantCallOutcome {
  const now = Date.now();
  return { kind: 'failure', activity, startedAtMs: now, latencyMs: 0, error: `merchant ${merchantId} is not registered` };
}

export function createMerchantOperationActivities({ merchants, merchantClient, db, encryptor }: MerchantOperationDeps) {
  /** One call about an existing instance whose answer is only a result code. */
  async function instanceCall(call: InstanceCall, body: Record<string, unknown> & { activity: string }): Promise<MerchantCallOutcome> {
    const endpoint = await merchants.endpoint(call.merchantId);
    if (!endpoint) return merchantMissing(body.activity, call.merchantId);
    const result = await merchantClient.post(endpoint, { ...body, ...testFlagOf(call) }, cancellationSignal());
    return { ...classify(body.activity, result, baseResponseSchema, false).outcome, instanceId: call.instanceId };
  }

  return {
    /** refreshInstance (spec §2.3): the new expiry after a renewal, conversion or change. */
    async callRefreshInstance(call: RefreshInstanceCall): Promise<MerchantCallOutcome> {
      return instanceCall(call, {
        activity: 'refreshInstance',
        scene: call.scene,
        orderId: call.orderId,
        orderLineId: call.orderLineId,
        instanceId: call.instanceId,
        ...(call.productId ? { productId: call.productId } : {}),
        expireTime: toKooTime(call.expireTime),
      });
    },

    /** updateInstanceStatus (spec §2.4): FREEZE at expiry or violation, UNFREEZE after renewal or lift. */
    async callUpdateInstanceStatus(call: UpdateInstanceStatusCall): Promise<MerchantCallOutcome> {
      return instanceCall(call, { activity: 'updateInstanceStatus', instanceId: call.instanceId, status: call.status });
    },

    /** releaseInstance (spec §2.5): the unsubscribe order is named when that is the cause. */
    async callReleaseInstance(call: ReleaseInstanceCall): Promise<MerchantCallOutcome> {
      return instanceCall(call, {
        activity: 'releaseInstance',
        instanceId: call.instanceId,
        ...(call.orderId ? { orderId: call.orderId } : {}),
        ...(call.orderLineId ? { orderLineId: call.orderLineId } : {}),
      });
    },

    /** upgradeInstance (spec §2.6): the instance keeps its id; the new order says what changed. */
    async callUpgradeInstance(call: UpgradeInstanceCall): Promise<MerchantCallOutcome> {
      return instanceCall(call, { activity: 'upgradeInstance', instanceId: call.instanceId, orderId: call.orderId, orderLineId: call.orderLineId });
    },

    /** changeInstanceCheck (spec §2.7): any code but 000000 is a refusal, with the merchant's reason. */
    async callChangeInstanceCheck(call: ChangeInstanceCheckCall): Promise<MerchantCallOutcome> {
      return instanceCall(call, { activity: 'changeInstanceCheck', instanceId: call.instanceId, productInfo: call.productInfo });
    },

    /** One newInstance call (spec §2.1). Success and 000004 both need an instanceId. */
    async callNewInstance(call: NewInstanceCall): Promise<MerchantCallOutcome> {
      const endpoint = await merchants.endpoint(call.merchantId);
      if (!endpoint) return merchantMissing('newInstance', call.merchantId);
      const body = {
        activity: 'newInstance',
        orderId: call.orderId,
        orderLineId: call.orderLineId,
        businessId: call.businessId,
        ...(call.productId ? { productId: call.productId } : {}),
        ...testFlagOf(call),
      };
      const result = await merchantClient.post(endpoint, body, cancellationSignal());
      const { outcome, parsed } = classify('newInstance', result, newInstanceResponseSchema, true);
      if (outcome.kind !== 'failure') {
        if (!parsed?.instanceId) return { ...outcome, kind: 'failure', error: 'answer has no instanceId' };
        return { ...outcome, instanceId: parsed.instanceId };
      }
      return outcome;
    },

    /**
     * One queryInstance poll (spec §2.2). Ready when the merchant returns the instance's
     * info; its app info is encrypted and stored on the instance row. Fails with a
     * non-retryable InstanceIdTaken when that row belongs to another subscription.
     */
    async callQueryInstance(call: QueryInstanceCall): Promise<QueryInstanceOutcome> {
      const endpoint = await merchants.endpoint(call.merchantId);
      if (!endpoint) return { ...merchantMissing('queryInstance', call.merchantId), ready: false };
      const body = { activity: 'queryInstance', instanceId: call.instanceId, ...testFlagOf(call) };
      const result = await merchantClient.post(endpoint, body, cancellationSignal());
      const { outcome, parsed } = classify('queryInstance', result, queryInstanceResponseSchema, true);
      const info = outcome.kind === 'success' ? parsed?.info?.find((entry) => entry.instanceId === call.instanceId) : undefined;
      if (outcome.kind === 'success' && !info) {
        return { ...outcome, kind: 'processing', error: 'answer does not list the instance yet', instanceId: call.instanceId, ready: false };
      }
      if (info?.appInfo || info?.usageInfo) {
        const saved = await saveInstanceAppInfo(db, {
          instanceId: call.instanceId,
          workflowId: call.workflowId,
          merchantId: call.merchantId,
          orderId: call.orderId,
          orderLineId: call.orderLineId,
          productId: call.productId,
          appInfoEnc: info.appInfo ? encryptor.encrypt(JSON.stringify(info.appInfo)) : undefined,
          usageInfo: info.usageInfo,
        });
        if (!saved) throw instanceIdTaken(call);
      }
      return { ...outcome, instanceId: call.instanceId, ready: info !== undefined };
    },
  };
}

/** The merchant operations of a subscription; workflows may call them only through a no-retry proxy. */
export type MerchantOperationActivities = ReturnType<typeof createMerchantOperationActivities>;
