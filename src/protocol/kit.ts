/**
 * The joint-operation Kit sync interface (spec §7.1–7.4): sub-paths of the production
 * address, the request bodies the marketplace sends, the UTC+8 time format and the
 * 500-users-per-call limit. Plain types and pure functions: workflows may import them.
 */
import { toKooTime } from './time';

/**
 * Kit operations, named after the last segment of their V2 path (`/produceAPI/v2/<operation>`).
 * `authSync`'s V2 path is inferred by the spec (§7.3); the incremental organisation path is not
 * documented at all (§7.4): we use `orgSync`, beside `allOrgSync`, and say so in the README.
 */
export const KIT_OPERATIONS = ['tenantSync', 'applicationSync', 'authSync', 'allOrgSync', 'orgSync'] as const;
export type KitOperation = (typeof KIT_OPERATIONS)[number];

/** The operation's sub-path of the production address. */
export function kitPath(operation: KitOperation): string {
  return `/produceAPI/v2/${operation}`;
}

/** `flag` of tenant, application, user and incremental organisation sync: 0 delete, 1 add, 2 modify. */
export const KitFlag = { Delete: 0, Add: 1, Modify: 2 } as const;
export type KitFlagValue = (typeof KitFlag)[keyof typeof KitFlag];

/** `testFlag` of the Kit calls is an integer (§7): 0 production, 1 debug. */
export type KitTestFlag = 0 | 1;

/** At most this many users in one authSync call (§7.3). */
export const USERS_PER_CALL = 500;

interface KitBody {
  instanceId: string;
  testFlag: KitTestFlag;
  /** UTC+8, `yyyyMMddHHmmssSSS` (toUtc8Time). */
  timeStamp: string;
}

/** §7.1 */
export interface TenantSyncBody extends KitBody {
  orderId: string;
  tenantId: string;
  tenantCode: string;
  name: string;
  domainName: string;
  flag: KitFlagValue;
}

/** §7.2: `clientSecret` is RSA-OAEP ciphertext (kit-crypto.ts), never the secret itself. */
export interface ApplicationSyncBody extends KitBody {
  appId: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  flag: KitFlagValue;
}

/** One authorised user (§7.3). */
export interface KitUser {
  userName: string;
  name: string;
  position?: string;
  orgCode: string;
  role: 'user' | 'admin';
  enable: 'true' | 'false';
  employeeCode?: string;
  mobile?: string;
  email?: string;
  extension?: { employeeType?: 1 | 2 | 3 | 4; workPlace?: string; entryDate?: string };
}

/** §7.3: `userList` is sent as a serialised JSON array, as the field table types it (String). */
export interface AuthSyncBody extends KitBody {
  tenantId: string;
  appId: string;
  userList: string;
  currentSyncTime: string;
  flag: KitFlagValue;
}

export interface KitOrg {
  orgCode: string;
  orgName: string;
  parentCode: string;
}

/** §7.4, full tree. */
export interface AllOrgSyncBody extends KitBody {
  tenantId: string;
  orgInfoList: KitOrg[];
}

/** §7.4, one organisation changed. */
export interface OrgSyncBody extends KitBody {
  tenantId: string;
  orgCode: string;
  orgName: string;
  parentCode?: string;
  flag: KitFlagValue;
}

export type KitBodyOf = {
  tenantSync: TenantSyncBody;
  applicationSync: ApplicationSyncBody;
  authSync: AuthSyncBody;
  allOrgSync: AllOrgSyncBody;
  orgSync: OrgSyncBody;
};

export type AnyKitBody = KitBodyOf[KitOperation];

const UTC8_OFFSET_MS = 8 * 3_600_000;

/** East-8 time as the Kit bodies carry it: `yyyyMMddHHmmssSSS` (§7, e.g. `20220420114117642`). */
export function toUtc8Time(epochMs: number): string {
  const east8 = epochMs + UTC8_OFFSET_MS;
  return toKooTime(east8) + String(new Date(east8).getUTCMilliseconds()).padStart(3, '0');
}

/** Splits a list into calls of at most `size` items, in order; an empty list is one empty call. */
export function chunk<T>(items: readonly T[], size: number = USERS_PER_CALL): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('chunk size must be a positive integer');
  if (items.length === 0) return [[]];
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** How many calls a list of `count` users takes. */
export function callsFor(count: number, size: number = USERS_PER_CALL): number {
  return Math.max(1, Math.ceil(count / size));
}

/** What a sync event is about: each kind is sent as one Kit operation. */
export type SyncEventKind = 'tenant' | 'application' | 'users' | 'organizations' | 'organization';

export const KIT_OPERATION_OF: Readonly<Record<SyncEventKind, KitOperation>> = {
  tenant: 'tenantSync',
  application: 'applicationSync',
  users: 'authSync',
  organizations: 'allOrgSync',
  organization: 'orgSync',
};
