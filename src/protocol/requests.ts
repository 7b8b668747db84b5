/**
 * The request bodies of the V2 production interface as the marketplace sends them (spec §2.1–
 * 2.7), one type per operation. The activities build their bodies with `satisfies` against
 * these types, so a misspelt or missing field does not compile. The merchant side parses the
 * same bodies leniently with the schemas in schemas.ts.
 *
 * Plain types and constants only: workflows may import them too.
 */

/**
 * `testFlag` as the marketplace sends it: `"1"` marks a debug call; production calls leave the
 * field out (spec §1.6, V2 pages). `"0"`, which older pages name as the default, is never sent.
 */
export type DebugTestFlag = '1';

/** What every operation may carry besides its own fields. */
interface OperationBody {
  testFlag?: DebugTestFlag;
}

/** newInstance (spec §2.1): called after payment; `businessId` is new on every call, retries included. */
export interface NewInstanceBody extends OperationBody {
  activity: 'newInstance';
  orderId: string;
  orderLineId: string;
  businessId: string;
  /**
   * Pay-per-use only: the billing item. Not in the V2 table, yet merchants must key
   * pay-per-use creates on orderId + productId (spec §2.1), so we send it as an extra field.
   */
  productId?: string;
}

/** queryInstance (spec §2.2): one instance ID, or up to 100 separated by commas. */
export interface QueryInstanceBody extends OperationBody {
  activity: 'queryInstance';
  instanceId: string;
}

/** The reasons for a refreshInstance (spec §2.3). */
export const REFRESH_SCENES = ['TRIAL_TO_FORMAL', 'RENEWAL', 'UNSUBSCRIBE_RENEWAL_PERIOD', 'RENEWAL_CHANGE'] as const;
export type RefreshScene = (typeof REFRESH_SCENES)[number];

/** refreshInstance (spec §2.3): the instance's new expiry after a conversion, renewal or change. */
export interface RefreshInstanceBody extends OperationBody {
  activity: 'refreshInstance';
  scene: RefreshScene;
  /** The conversion, renewal or cancelled renewal order. */
  orderId: string;
  orderLineId: string;
  instanceId: string;
  /** Only when the period type changes: the new product. */
  productId?: string;
  /** `yyyyMMddHHmmss` (see time.ts for the zone). */
  expireTime: string;
}

export const INSTANCE_STATUS_CHANGES = ['FREEZE', 'UNFREEZE'] as const;
export type InstanceStatusChange = (typeof INSTANCE_STATUS_CHANGES)[number];

/** updateInstanceStatus (spec §2.4): freeze on expiry or violation, unfreeze on renewal or lift. */
export interface UpdateInstanceStatusBody extends OperationBody {
  activity: 'updateInstanceStatus';
  instanceId: string;
  status: InstanceStatusChange;
}

/** releaseInstance (spec §2.5): the order fields name the unsubscribe order when that is the cause. */
export interface ReleaseInstanceBody extends OperationBody {
  activity: 'releaseInstance';
  instanceId: string;
  orderId?: string;
  orderLineId?: string;
}

/** upgradeInstance (spec §2.6): the instance keeps its ID; the new order says what changed. */
export interface UpgradeInstanceBody extends OperationBody {
  activity: 'upgradeInstance';
  instanceId: string;
  orderId: string;
  orderLineId: string;
}

/** The target of a change check (spec §2.7, ProductInfo). */
export interface ProductInfo {
  productId: string;
  /** Stable across period-type changes. */
  skuCode: string;
  /** The quantity attribute, when the SKU has one. */
  linearValue?: number;
  productName: string;
}

/** changeInstanceCheck (spec §2.7): may the instance change to this product at renewal? */
export interface ChangeInstanceCheckBody extends OperationBody {
  activity: 'changeInstanceCheck';
  instanceId: string;
  productInfo: ProductInfo;
}

export type MerchantOperationBody =
  | NewInstanceBody
  | QueryInstanceBody
  | RefreshInstanceBody
  | UpdateInstanceStatusBody
  | ReleaseInstanceBody
  | UpgradeInstanceBody
  | ChangeInstanceCheckBody;

/** The operation names, as the body's `activity` field carries them. */
export type MerchantOperation = MerchantOperationBody['activity'];
