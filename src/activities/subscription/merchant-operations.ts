/**
 * Merchant operations, one activity each. Each runs exactly one signed request (the workflow
 * owns retries, because every create attempt needs a fresh businessId and a restart signal
 * must be able to cut a backoff short) and returns a classified outcome. Every body is
 * checked against its protocol type (`satisfies`), so a misspelt field does not compile.
 * Credentials in merchant answers never leave the activity: app info is encrypted and
 * stored here, so it never enters a workflow history.
 */
import { cancellationSignal, log } from '@temporalio/activity';
import type { Queryable } from '../../db/pool';
import { insertCallAttempt, type AttemptContext } from '../../db/repositories/subscription/call-attempts';
import { saveInstanceAppInfo } from '../../db/repositories/subscription/instances';
import type { MerchantCallOutcome } from '../../protocol/outcome';
import type {
  ChangeInstanceCheckBody,
  DebugTestFlag,
  InstanceStatusChange,
  MerchantOperationBody,
  NewInstanceBody,
  ProductInfo,
  QueryInstanceBody,
  RefreshInstanceBody,
  RefreshScene,
  ReleaseInstanceBody,
  UpdateInstanceStatusBody,
  UpgradeInstanceBody,
} from '../../protocol/requests';
import { baseResponseSchema, newInstanceResponseSchema, queryInstanceResponseSchema } from '../../protocol/schemas';
import { toKooTime } from '../../protocol/time';
import type { Encryptor } from '../../platform/security/encryption';
import type { MerchantClient, MerchantHttpResult } from '../../clients/merchant';
import type { MerchantDirectory } from '../../clients/merchant-directory';
import { instanceIdTaken } from './instance-id-taken';
import { classifyAnswer, merchantMissing } from './merchant-answers';

/** What every merchant operation needs to know about its call. */
interface MerchantCall {
  workflowId: string;
  merchantId: string;
  /** The order's flag as the order system sent it: "1" debug, "0" or absent production. */
  testFlag?: string;
  /**
   * The attempt this call is, to be written to the timeline (call_attempts) by the call
   * itself, in the same activity: one server round trip instead of two. Absent in runs
   * recorded before that change: the workflow then records the attempt.
   */
  attempt?: AttemptContext;
}

export interface NewInstanceCall extends MerchantCall {
  orderId: string;
  orderLineId: string;
  businessId: string;
  /** Pay-per-use only: the billing item, which keys the merchant's idempotency (see NewInstanceBody). */
  productId?: string;
}

export interface QueryInstanceCall extends MerchantCall {
  orderId: string;
  orderLineId: string;
  productId: string;
  instanceId: string;
}

/** The result of a queryInstance poll: ready once the merchant returned the instance's info. */
export interface QueryInstanceOutcome extends MerchantCallOutcome {
  ready: boolean;
}

/** One call to a merchant for an existing instance (refresh, status, release, upgrade, check). */
export interface InstanceCall extends MerchantCall {
  instanceId: string;
}

export interface RefreshInstanceCall extends InstanceCall {
  scene: RefreshScene;
  orderId: string;
  orderLineId: string;
  /** The new expiry, as an ISO instant; sent as `yyyyMMddHHmmss` in UTC. */
  expireTime: string;
  /** Only when the period type changes. */
  productId?: string;
}

export interface UpdateInstanceStatusCall extends InstanceCall {
  status: InstanceStatusChange;
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
  productInfo: ProductInfo;
}

export interface MerchantOperationDeps {
  merchants: MerchantDirectory;
  merchantClient: MerchantClient;
  db: Queryable;
  encryptor: Encryptor;
}

/**
 * Only "1" (debug) is ever sent to a merchant. "0" and absent both mean production, and V2
 * production calls leave the field out (spec §1.6).
 */
function debugFlag(testFlag: string | undefined): DebugTestFlag | undefined {
  return testFlag === '1' ? '1' : undefined;
}

/** An optional field left out of the body when it is absent or empty. */
function given(value: string | undefined): string | undefined {
  return value || undefined;
}

export function createMerchantOperationActivities({ merchants, merchantClient, db, encryptor }: MerchantOperationDeps) {
  /** Sends one operation to the call's merchant; undefined when the merchant is not registered. */
  async function send(call: MerchantCall, body: MerchantOperationBody): Promise<MerchantHttpResult | undefined> {
    const endpoint = await merchants.endpoint(call.merchantId);
    if (!endpoint) return undefined;
    return merchantClient.post(endpoint, { ...body, testFlag: debugFlag(call.testFlag) }, cancellationSignal());
  }

  /** One operation on an existing instance whose answer is only a result code. */
  async function instanceOperation(call: InstanceCall, body: MerchantOperationBody): Promise<MerchantCallOutcome> {
    const result = await send(call, body);
    if (!result) return merchantMissing(body.activity, call.merchantId);
    return { ...classifyAnswer(body.activity, result, baseResponseSchema, false).outcome, instanceId: call.instanceId };
  }

  /**
   * Writes the attempt to the timeline when the workflow handed it over. A write that fails
   * (the database is restarting) does not lose the merchant's answer: the outcome says it was
   * not recorded, and the workflow records it through its own, retried, activity.
   */
  function recordingItsAttempt<C extends MerchantCall, O extends MerchantCallOutcome>(operation: (call: C) => Promise<O>): (call: C) => Promise<O> {
    return async (call) => {
      const outcome = await operation(call);
      if (!call.attempt) return outcome;
      try {
        await insertCallAttempt(db, { ...call.attempt, outcome });
        return { ...outcome, attemptRecorded: true };
      } catch (error) {
        log.warn('could not record the attempt; the workflow will', { workflowId: call.workflowId, attemptId: call.attempt.attemptId, error: String(error) });
        return outcome;
      }
    };
  }

  return {
    /** refreshInstance (spec §2.3): the new expiry after a renewal, conversion or change. */
    callRefreshInstance: recordingItsAttempt(async (call: RefreshInstanceCall): Promise<MerchantCallOutcome> => {
      return instanceOperation(call, {
        activity: 'refreshInstance',
        scene: call.scene,
        orderId: call.orderId,
        orderLineId: call.orderLineId,
        instanceId: call.instanceId,
        productId: given(call.productId),
        expireTime: toKooTime(call.expireTime),
      } satisfies RefreshInstanceBody);
    }),

    /** updateInstanceStatus (spec §2.4): FREEZE at expiry or violation, UNFREEZE after renewal or lift. */
    callUpdateInstanceStatus: recordingItsAttempt(async (call: UpdateInstanceStatusCall): Promise<MerchantCallOutcome> => {
      return instanceOperation(call, {
        activity: 'updateInstanceStatus',
        instanceId: call.instanceId,
        status: call.status,
      } satisfies UpdateInstanceStatusBody);
    }),

    /** releaseInstance (spec §2.5): the unsubscribe order is named when that is the cause. */
    callReleaseInstance: recordingItsAttempt(async (call: ReleaseInstanceCall): Promise<MerchantCallOutcome> => {
      return instanceOperation(call, {
        activity: 'releaseInstance',
        instanceId: call.instanceId,
        orderId: given(call.orderId),
        orderLineId: given(call.orderLineId),
      } satisfies ReleaseInstanceBody);
    }),

    /** upgradeInstance (spec §2.6): the instance keeps its id; the new order says what changed. */
    callUpgradeInstance: recordingItsAttempt(async (call: UpgradeInstanceCall): Promise<MerchantCallOutcome> => {
      return instanceOperation(call, {
        activity: 'upgradeInstance',
        instanceId: call.instanceId,
        orderId: call.orderId,
        orderLineId: call.orderLineId,
      } satisfies UpgradeInstanceBody);
    }),

    /** changeInstanceCheck (spec §2.7): any code but 000000 is a refusal, with the merchant's reason. */
    callChangeInstanceCheck: recordingItsAttempt(async (call: ChangeInstanceCheckCall): Promise<MerchantCallOutcome> => {
      return instanceOperation(call, {
        activity: 'changeInstanceCheck',
        instanceId: call.instanceId,
        productInfo: call.productInfo,
      } satisfies ChangeInstanceCheckBody);
    }),

    /** One newInstance call (spec §2.1). Success and 000004 both need an instanceId. */
    callNewInstance: recordingItsAttempt(async (call: NewInstanceCall): Promise<MerchantCallOutcome> => {
      const result = await send(call, {
        activity: 'newInstance',
        orderId: call.orderId,
        orderLineId: call.orderLineId,
        businessId: call.businessId,
        productId: given(call.productId),
      } satisfies NewInstanceBody);
      if (!result) return merchantMissing('newInstance', call.merchantId);
      const { outcome, parsed } = classifyAnswer('newInstance', result, newInstanceResponseSchema, true);
      if (outcome.kind === 'failure') return outcome;
      if (!parsed?.instanceId) return { ...outcome, kind: 'failure', error: 'answer has no instanceId' };
      return { ...outcome, instanceId: parsed.instanceId };
    }),

    /**
     * One queryInstance poll (spec §2.2). Ready when the merchant returns the instance's
     * info; its app info is encrypted and stored on the instance row. Fails with a
     * non-retryable InstanceIdTaken when that row belongs to another subscription.
     */
    callQueryInstance: recordingItsAttempt(async (call: QueryInstanceCall): Promise<QueryInstanceOutcome> => {
      const result = await send(call, { activity: 'queryInstance', instanceId: call.instanceId } satisfies QueryInstanceBody);
      if (!result) return { ...merchantMissing('queryInstance', call.merchantId), ready: false };
      const { outcome, parsed } = classifyAnswer('queryInstance', result, queryInstanceResponseSchema, true);
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
    }),
  };
}

/** The merchant operations of a subscription; workflows may call them only through a no-retry proxy. */
export type MerchantOperationActivities = ReturnType<typeof createMerchantOperationActivities>;
