/**
 * What the reference merchant does for each Kit call (spec §7.1–7.4), as functions over the
 * Kit store. The body has already been authenticated (x-sign). Adds, modifications and
 * deletes are idempotent (§4); an add or modification that names a tenant or application
 * this merchant does not hold is refused (000005) and noted as out of order.
 */
import type { z } from 'zod';
import { decryptClientSecret, type OaepSettings } from '../protocol/kit-crypto';
import type { KitOperation } from '../protocol/kit';
import {
  allOrgSyncRequestSchema,
  applicationSyncRequestSchema,
  authSyncRequestSchema,
  orgSyncRequestSchema,
  tenantSyncRequestSchema,
} from '../protocol/kit-schemas';
import { ResultCode } from '../protocol/result-codes';
import type { KitStore } from './kit-store';

export interface KitBehaviour {
  /** The private key of the product's application (PEM), to decrypt clientSecret. */
  privateKeyPem: string;
  oaep: OaepSettings;
}

export interface KitResponse {
  resultCode: string;
  resultMsg: string;
}

const ok = (): KitResponse => ({ resultCode: ResultCode.Success, resultMsg: 'success' });
const refuse = (resultCode: string, resultMsg: string): KitResponse => ({ resultCode, resultMsg: resultMsg.slice(0, 255) });

function parse<S extends z.ZodType>(schema: S, body: unknown): { data: z.output<S> } | { error: KitResponse } {
  const parsed = schema.safeParse(body);
  if (parsed.success) return { data: parsed.data };
  const issue = parsed.error.issues[0];
  return { error: refuse(ResultCode.InvalidParameter, `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`) };
}

/** Refuses a call whose tenant (and application) this merchant does not hold. */
function missing(store: KitStore, operation: KitOperation, instanceId: string, tenantId: string, appId?: string): KitResponse | undefined {
  let what: string | undefined;
  if (!store.hasTenant(instanceId, tenantId)) what = `tenant ${tenantId}`;
  else if (appId !== undefined && !store.hasApp(instanceId, tenantId, appId)) what = `application ${appId}`;
  if (!what) return undefined;
  store.noteOutOfOrder(`${operation} before ${what} of instance ${instanceId}`);
  return refuse(ResultCode.InternalError, `${what} does not exist`);
}

interface Scoped {
  instanceId: string;
  tenantId: string;
}

/**
 * One Kit operation: its body schema, and what it does. A delete (`flag` 0) always succeeds;
 * anything else first needs its tenant (and, for users, the application) to exist here.
 */
interface KitRoute<T extends Scoped> {
  schema: z.ZodType<T>;
  /** The application the change needs besides the tenant. */
  appOf?: (data: T) => string;
  /** False for the tenant itself, which needs nothing. */
  needsTenant: boolean;
  remove?: (data: T) => void;
  put: (data: T) => KitResponse | void;
}

function apply<T extends Scoped & { flag?: 0 | 1 | 2 }>(store: KitStore, operation: KitOperation, r: KitRoute<T>, body: unknown): KitResponse {
  const parsed = parse(r.schema, body);
  if ('error' in parsed) return parsed.error;
  const data = parsed.data;
  if (data.flag === 0 && r.remove) {
    r.remove(data);
    return ok();
  }
  if (r.needsTenant) {
    const absent = missing(store, operation, data.instanceId, data.tenantId, r.appOf?.(data));
    if (absent) return absent;
  }
  return r.put(data) ?? ok();
}

export function handleKitRequest(store: KitStore, operation: KitOperation, body: unknown, behaviour: KitBehaviour): KitResponse {
  switch (operation) {
    case 'tenantSync':
      return apply(store, operation, {
        schema: tenantSyncRequestSchema,
        needsTenant: false,
        remove: (t) => store.deleteTenant(t.instanceId, t.tenantId),
        put: (t) => store.putTenant({ instanceId: t.instanceId, orderId: t.orderId, tenantId: t.tenantId, tenantCode: t.tenantCode, name: t.name, domainName: t.domainName }),
      }, body);
    case 'applicationSync':
      return apply(store, operation, {
        schema: applicationSyncRequestSchema,
        needsTenant: true,
        remove: (a) => store.deleteApp(a.instanceId, a.tenantId, a.appId),
        put: (a) => {
          let clientSecret: string;
          try {
            clientSecret = decryptClientSecret(behaviour.privateKeyPem, a.clientSecret, behaviour.oaep);
          } catch {
            return refuse(ResultCode.InvalidParameter, 'clientSecret cannot be decrypted with the application key');
          }
          store.putApp({ instanceId: a.instanceId, tenantId: a.tenantId, appId: a.appId, clientId: a.clientId, clientSecret });
        },
      }, body);
    case 'authSync':
      return apply(store, operation, {
        schema: authSyncRequestSchema,
        needsTenant: true,
        appOf: (u) => u.appId,
        remove: (u) => store.deleteUsers(u.instanceId, u.tenantId, u.appId, u.userList.map((user) => user.userName)),
        put: (u) => store.putUsers(u.instanceId, u.tenantId, u.appId, u.userList),
      }, body);
    case 'allOrgSync':
      return apply(store, operation, {
        schema: allOrgSyncRequestSchema,
        needsTenant: true,
        put: (o) => store.replaceOrgs(o.instanceId, o.tenantId, o.orgInfoList),
      }, body);
    case 'orgSync':
      return apply(store, operation, {
        schema: orgSyncRequestSchema,
        needsTenant: true,
        remove: (o) => store.deleteOrg(o.instanceId, o.tenantId, o.orgCode),
        put: (o) => store.putOrg(o.instanceId, o.tenantId, { orgCode: o.orgCode, orgName: o.orgName, parentCode: o.parentCode ?? '' }),
      }, body);
  }
}
