/**
 * In-memory state of the reference merchant: its instances, the idempotency index that makes
 * repeated creates return the same instance (spec §2.1, §4), a log of the side effects it
 * really performed, and a log of every request it received. Tests assert on all of them, so
 * everything here is JSON-plain (epoch ms, no Dates) and can be served by the control API.
 */
import type { AppInfo, V2VerifyFailure } from '../protocol';
import type { FaultMode } from './faults';

export type InstanceStatus = 'provisioning' | 'active' | 'frozen' | 'released';

/** One change of what an instance runs: the create, a renewal's new product, an upgrade order. */
export interface SkuChange {
  kind: 'create' | 'refresh' | 'upgrade';
  at: number;
  orderId: string;
  orderLineId?: string;
  productId?: string;
  scene?: string;
  expireTime?: string;
}

/** What is still missing before an asynchronously provisioned instance becomes ready. */
export interface PendingProvisioning {
  /** queryInstance calls still to be answered 000004. */
  queriesLeft: number;
  /** Epoch ms before which the instance is not ready. */
  notBeforeMs: number;
}

export interface MerchantInstance {
  instanceId: string;
  orderId: string;
  orderLineId: string;
  /** Set for pay-per-use creates, which are keyed on orderId + productId (spec §2.1). */
  productId?: string;
  status: InstanceStatus;
  expireTime?: string;
  skuHistory: SkuChange[];
  appInfo: AppInfo;
  createdAt: number;
  /** When provisioning finished; undefined while it is still running. */
  readyAt?: number;
  /** Present only while asynchronous provisioning is running. */
  pending?: PendingProvisioning;
  releasedAt?: number;
}

/** A side effect the merchant really performed; repeats that are no-ops record nothing. */
export interface StoreEffect {
  kind: 'created' | 'ready' | 'refreshed' | 'frozen' | 'unfrozen' | 'released' | 'upgraded';
  instanceId: string;
  at: number;
}

/** How the signature check of a request ended. */
export type VerifyOutcome = 'ok' | V2VerifyFailure;

/** One request as the merchant saw and answered it. */
export interface RecordedRequest {
  at: number;
  /** `activity` read from the body when it was JSON with a string `activity`. */
  activity?: string;
  /** The raw body, decoded as UTF-8. */
  body: string;
  verify: VerifyOutcome;
  /** The fault rule mode applied to this request, if any. */
  fault?: FaultMode;
  httpStatus: number;
  /** The `resultCode` answered; absent for malformed or non-200 answers. */
  resultCode?: string;
}

/** JSON view served by `GET /_control/state`. */
export interface StoreSnapshot {
  createdCount: number;
  instances: MerchantInstance[];
  requests: number;
}

// NUL cannot occur in the IDs the marketplace sends, so joined keys cannot collide.
const orderLineKey = (orderId: string, orderLineId: string): string => `line\u0000${orderId}\u0000${orderLineId}`;
const productKey = (orderId: string, productId: string): string => `product\u0000${orderId}\u0000${productId}`;

/** The merchant's state. One store per simulator; `reset()` empties it between tests. */
export class MerchantStore {
  private readonly instances = new Map<string, MerchantInstance>();
  /** Idempotency index: order key → instanceId. */
  private readonly byOrder = new Map<string, string>();
  private readonly effectLog: StoreEffect[] = [];
  private readonly requestLog: RecordedRequest[] = [];
  private created = 0;

  /** Instances really created; repeated creates for the same order do not count. */
  get createdCount(): number {
    return this.created;
  }

  get(instanceId: string): MerchantInstance | undefined {
    return this.instances.get(instanceId);
  }

  /** The instance created for an order line, or for a pay-per-use order + product when `productId` is given. */
  findByOrder(orderId: string, orderLineId: string, productId?: string): MerchantInstance | undefined {
    const key = productId === undefined ? orderLineKey(orderId, orderLineId) : productKey(orderId, productId);
    const instanceId = this.byOrder.get(key);
    return instanceId === undefined ? undefined : this.instances.get(instanceId);
  }

  /** Unindexes a released instance's order key, so that order's next create makes a new instance (debug calls). */
  forgetOrder(instance: MerchantInstance): void {
    this.byOrder.delete(instance.productId === undefined ? orderLineKey(instance.orderId, instance.orderLineId) : productKey(instance.orderId, instance.productId));
  }

  /**
   * Adds a new instance and indexes it by its order key. Callers check `findByOrder` first;
   * adding a second instance for the same key is a programming error.
   */
  add(instance: MerchantInstance): MerchantInstance {
    const key =
      instance.productId === undefined
        ? orderLineKey(instance.orderId, instance.orderLineId)
        : productKey(instance.orderId, instance.productId);
    if (this.byOrder.has(key) || this.instances.has(instance.instanceId)) {
      throw new Error(`instance ${instance.instanceId} or its order key already exists`);
    }
    this.instances.set(instance.instanceId, instance);
    this.byOrder.set(key, instance.instanceId);
    this.created += 1;
    this.recordEffect({ kind: 'created', instanceId: instance.instanceId, at: instance.createdAt });
    return instance;
  }

  list(): MerchantInstance[] {
    return [...this.instances.values()];
  }

  recordEffect(effect: StoreEffect): void {
    this.effectLog.push(effect);
  }

  /** Side effects performed, oldest first. */
  effects(): readonly StoreEffect[] {
    return this.effectLog;
  }

  recordRequest(request: RecordedRequest): void {
    this.requestLog.push(request);
  }

  /** Every request received, oldest first. */
  requests(): readonly RecordedRequest[] {
    return this.requestLog;
  }

  snapshot(): StoreSnapshot {
    return { createdCount: this.created, instances: this.list(), requests: this.requestLog.length };
  }

  reset(): void {
    this.instances.clear();
    this.byOrder.clear();
    this.effectLog.length = 0;
    this.requestLog.length = 0;
    this.created = 0;
  }
}
