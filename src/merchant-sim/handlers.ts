/**
 * What the reference merchant does for each V2 activity (spec §2.1–2.7), as functions over
 * the store. Transport, signatures and faults live in server.ts; these functions only see a
 * body that has already been authenticated.
 *
 * Idempotency (spec §4) is the point of this module:
 * - newInstance: same orderId + orderLineId (pay-per-use: orderId + productId) → same
 *   instanceId, no second instance; the instanceId is the businessId of the first call.
 * - updateInstanceStatus and releaseInstance: a repeat changes nothing and answers 000000.
 * - upgradeInstance: a retried upgrade order is recorded once.
 * A released instance is gone for every activity except a repeated release.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  merchantRequestSchema,
  ResultCode,
  type AppInfo,
  type ChangeInstanceCheckRequest,
  type NewInstanceRequest,
  type QueryInstanceRequest,
  type RefreshInstanceRequest,
  type ReleaseInstanceRequest,
  type UpdateInstanceStatusRequest,
  type UpgradeInstanceRequest,
} from '../protocol';
import type { MerchantInstance, MerchantStore } from './store';

/** Asynchronous provisioning: create answers 000004 and the instance becomes ready later. */
export interface AsyncProvisioningOptions {
  /** Number of queryInstance calls answered 000004 before the instance is ready (default 1 when `readyAfterMs` is absent). */
  readyAfterQueries?: number;
  /** Time after the create before the instance is ready. When both are set, both must pass. */
  readyAfterMs?: number;
}

/** How the merchant behaves; built once per simulator. */
export interface MerchantBehaviour {
  now: () => number;
  /** Base of the generated `frontEndUrl` / `adminUrl`. */
  frontEndBaseUrl: string;
  asyncProvisioning?: AsyncProvisioningOptions;
  /** skuCodes that changeInstanceCheck refuses. */
  refuseChangesTo: readonly string[];
}

export interface InstanceInfoOut {
  instanceId: string;
  appInfo: AppInfo;
}

/** The JSON answered to the marketplace. */
export interface MerchantResponse {
  resultCode: string;
  resultMsg: string;
  instanceId?: string;
  info?: InstanceInfoOut[];
}

/** resultMsg is at most 255 characters (spec §2). */
const MAX_RESULT_MSG = 255;

function answer(resultCode: string, resultMsg: string, extra: Partial<MerchantResponse> = {}): MerchantResponse {
  return { resultCode, resultMsg: resultMsg.slice(0, MAX_RESULT_MSG), ...extra };
}

const notFound = (instanceId: string): MerchantResponse =>
  answer(ResultCode.InstanceNotFound, `instance ${instanceId} does not exist`);

/**
 * `merchantRequestSchema` strips fields it does not know; a pay-per-use create carries the
 * billing item's `productId` (spec §2.1), which keys its idempotency, so it is read separately.
 */
const payPerUseFieldsSchema = z.object({ productId: z.string().min(1).max(64).optional() });

/** A live (not released) instance, or undefined. */
function liveInstance(store: MerchantStore, instanceId: string): MerchantInstance | undefined {
  const instance = store.get(instanceId);
  return instance && instance.status !== 'released' ? instance : undefined;
}

/** Finishes provisioning once every configured condition has passed. */
function promoteIfReady(store: MerchantStore, instance: MerchantInstance, now: number): void {
  const pending = instance.pending;
  if (!pending || pending.queriesLeft > 0 || now < pending.notBeforeMs) return;
  delete instance.pending;
  instance.readyAt = now;
  if (instance.status === 'provisioning') instance.status = 'active';
  store.recordEffect({ kind: 'ready', instanceId: instance.instanceId, at: now });
}

function makeAppInfo(baseUrl: string, instanceId: string): AppInfo {
  const base = `${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(instanceId)}`;
  return {
    frontEndUrl: base,
    adminUrl: `${base}/admin`,
    userName: `admin-${instanceId.slice(0, 8)}`,
    // A fresh random password per instance, as a real merchant would issue.
    password: randomBytes(12).toString('base64url'),
    memo: 'Provisioned by the saas-fulfillment reference merchant.',
  };
}

/** newInstance (spec §2.1). `productId` is the optional pay-per-use billing item. */
export function handleNewInstance(
  store: MerchantStore,
  request: NewInstanceRequest,
  behaviour: MerchantBehaviour,
  productId?: string,
): MerchantResponse {
  const now = behaviour.now();
  let instance = store.findByOrder(request.orderId, request.orderLineId, productId);
  // Debug calls (testFlag 1: the console's debugging and the dial tests, spec §1.6) use the spec's
  // fixed mock orders, and dial tests replay create → query → release of one twice a day: a
  // debug create of a mock order whose instance was released starts a new one.
  if (instance?.status === 'released' && request.testFlag === '1') {
    store.forgetOrder(instance);
    instance = undefined;
  }
  if (!instance) {
    // businessId differs on every call, so only the first call's one is used (spec recommendation).
    const instanceId = request.businessId;
    if (store.get(instanceId)) {
      return answer(ResultCode.InvalidParameter, `businessId ${instanceId} was already used for another order`);
    }
    const provisioning = behaviour.asyncProvisioning;
    instance = store.add({
      instanceId,
      orderId: request.orderId,
      orderLineId: request.orderLineId,
      ...(productId === undefined ? {} : { productId }),
      status: provisioning ? 'provisioning' : 'active',
      skuHistory: [
        {
          kind: 'create',
          at: now,
          orderId: request.orderId,
          orderLineId: request.orderLineId,
          ...(productId === undefined ? {} : { productId }),
        },
      ],
      appInfo: makeAppInfo(behaviour.frontEndBaseUrl, instanceId),
      createdAt: now,
      ...(provisioning
        ? {
            pending: {
              queriesLeft: provisioning.readyAfterQueries ?? (provisioning.readyAfterMs === undefined ? 1 : 0),
              notBeforeMs: now + (provisioning.readyAfterMs ?? 0),
            },
          }
        : { readyAt: now }),
    });
  } else {
    promoteIfReady(store, instance, now);
  }
  if (instance.readyAt === undefined) {
    return answer(ResultCode.Processing, 'provisioning in progress', { instanceId: instance.instanceId });
  }
  return answer(ResultCode.Success, 'success', { instanceId: instance.instanceId });
}

/**
 * queryInstance (spec §2.2): info for every ready instance asked for. Any instance still
 * provisioning makes the answer 000004 (and is left out of `info`); each such query counts
 * towards `readyAfterQueries`. IDs the merchant does not know are skipped; 000003 only when
 * none is known.
 */
export function handleQueryInstance(
  store: MerchantStore,
  request: QueryInstanceRequest,
  behaviour: MerchantBehaviour,
): MerchantResponse {
  const now = behaviour.now();
  const ids = [
    ...new Set(
      request.instanceId
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id !== ''),
    ),
  ];
  const known = ids.map((id) => liveInstance(store, id)).filter((instance) => instance !== undefined);
  if (known.length === 0) return notFound(request.instanceId);

  const info: InstanceInfoOut[] = [];
  let provisioning = 0;
  for (const instance of known) {
    promoteIfReady(store, instance, now);
    if (instance.pending) {
      instance.pending.queriesLeft = Math.max(0, instance.pending.queriesLeft - 1);
      provisioning += 1;
    } else {
      info.push({ instanceId: instance.instanceId, appInfo: { ...instance.appInfo } });
    }
  }
  if (provisioning > 0) {
    return answer(ResultCode.Processing, `${provisioning} instance(s) still provisioning`, { info });
  }
  return answer(ResultCode.Success, 'success', { info });
}

/** refreshInstance (spec §2.3): new expiry, and a new product when `productId` is sent. */
export function handleRefreshInstance(
  store: MerchantStore,
  request: RefreshInstanceRequest,
  behaviour: MerchantBehaviour,
): MerchantResponse {
  const instance = liveInstance(store, request.instanceId);
  if (!instance) return notFound(request.instanceId);
  const now = behaviour.now();
  // Setting the same expiry again is harmless, so a retried refresh needs no special case,
  // but the history and effect are recorded only for a real change.
  const changesProduct = request.productId !== undefined && request.productId !== instance.productId;
  if (instance.expireTime === request.expireTime && !changesProduct) return answer(ResultCode.Success, 'success');
  instance.expireTime = request.expireTime;
  if (request.productId !== undefined) instance.productId = request.productId;
  instance.skuHistory.push({
    kind: 'refresh',
    at: now,
    orderId: request.orderId,
    orderLineId: request.orderLineId,
    scene: request.scene,
    expireTime: request.expireTime,
    ...(request.productId === undefined ? {} : { productId: request.productId }),
  });
  store.recordEffect({ kind: 'refreshed', instanceId: instance.instanceId, at: now });
  return answer(ResultCode.Success, 'success');
}

/** updateInstanceStatus (spec §2.4): FREEZE / UNFREEZE; a repeat is a no-op answering 000000. */
export function handleUpdateInstanceStatus(
  store: MerchantStore,
  request: UpdateInstanceStatusRequest,
  behaviour: MerchantBehaviour,
): MerchantResponse {
  const instance = liveInstance(store, request.instanceId);
  if (!instance) return notFound(request.instanceId);
  const now = behaviour.now();
  if (request.status === 'FREEZE') {
    if (instance.status === 'frozen') return answer(ResultCode.Success, 'already frozen');
    instance.status = 'frozen';
    store.recordEffect({ kind: 'frozen', instanceId: instance.instanceId, at: now });
    return answer(ResultCode.Success, 'success');
  }
  if (instance.status !== 'frozen') return answer(ResultCode.Success, 'not frozen');
  // An instance frozen while still provisioning goes back to provisioning, not to active.
  instance.status = instance.readyAt === undefined ? 'provisioning' : 'active';
  store.recordEffect({ kind: 'unfrozen', instanceId: instance.instanceId, at: now });
  return answer(ResultCode.Success, 'success');
}

/** releaseInstance (spec §2.5): idempotent; a repeat answers 000000 and does nothing. */
export function handleReleaseInstance(
  store: MerchantStore,
  request: ReleaseInstanceRequest,
  behaviour: MerchantBehaviour,
): MerchantResponse {
  const instance = store.get(request.instanceId);
  if (!instance) return notFound(request.instanceId);
  if (instance.status === 'released') return answer(ResultCode.Success, 'already released');
  const now = behaviour.now();
  instance.status = 'released';
  instance.releasedAt = now;
  store.recordEffect({ kind: 'released', instanceId: instance.instanceId, at: now });
  return answer(ResultCode.Success, 'success');
}

/** upgradeInstance (spec §2.6): records the new order; the instanceId does not change. */
export function handleUpgradeInstance(
  store: MerchantStore,
  request: UpgradeInstanceRequest,
  behaviour: MerchantBehaviour,
): MerchantResponse {
  const instance = liveInstance(store, request.instanceId);
  if (!instance) return notFound(request.instanceId);
  const alreadyApplied = instance.skuHistory.some(
    (change) =>
      change.kind === 'upgrade' && change.orderId === request.orderId && change.orderLineId === request.orderLineId,
  );
  if (alreadyApplied) return answer(ResultCode.Success, 'upgrade already applied');
  const now = behaviour.now();
  instance.skuHistory.push({ kind: 'upgrade', at: now, orderId: request.orderId, orderLineId: request.orderLineId });
  store.recordEffect({ kind: 'upgraded', instanceId: instance.instanceId, at: now });
  return answer(ResultCode.Success, 'success');
}

/**
 * changeInstanceCheck (spec §2.7): allowed unless the target skuCode is configured as
 * refused. The spec has no code for a refusal (unconfirmed); this merchant answers 000002
 * with the reason in resultMsg.
 */
export function handleChangeInstanceCheck(
  store: MerchantStore,
  request: ChangeInstanceCheckRequest,
  behaviour: MerchantBehaviour,
): MerchantResponse {
  const instance = liveInstance(store, request.instanceId);
  if (!instance) return notFound(request.instanceId);
  const { skuCode } = request.productInfo;
  if (behaviour.refuseChangesTo.includes(skuCode)) {
    return answer(
      ResultCode.InvalidParameter,
      `change to sku ${skuCode} refused: current usage of ${instance.instanceId} exceeds the target specification`,
    );
  }
  return answer(ResultCode.Success, 'change allowed');
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid request';
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(body)';
  return `invalid field ${field}: ${issue.message}`;
}

/**
 * Validates an authenticated body with `merchantRequestSchema` and dispatches it. An invalid
 * body answers 000002 naming the first bad field.
 */
export function handleMerchantRequest(store: MerchantStore, body: unknown, behaviour: MerchantBehaviour): MerchantResponse {
  const parsed = merchantRequestSchema.safeParse(body);
  if (!parsed.success) return answer(ResultCode.InvalidParameter, describeIssue(parsed.error));
  const request = parsed.data;
  switch (request.activity) {
    case 'newInstance': {
      const extra = payPerUseFieldsSchema.safeParse(body);
      if (!extra.success) return answer(ResultCode.InvalidParameter, describeIssue(extra.error));
      return handleNewInstance(store, request, behaviour, extra.data.productId);
    }
    case 'queryInstance':
      return handleQueryInstance(store, request, behaviour);
    case 'refreshInstance':
      return handleRefreshInstance(store, request, behaviour);
    case 'updateInstanceStatus':
      return handleUpdateInstanceStatus(store, request, behaviour);
    case 'releaseInstance':
      return handleReleaseInstance(store, request, behaviour);
    case 'upgradeInstance':
      return handleUpgradeInstance(store, request, behaviour);
    case 'changeInstanceCheck':
      return handleChangeInstanceCheck(store, request, behaviour);
  }
}
