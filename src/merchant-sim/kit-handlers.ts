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

export function handleKitRequest(store: KitStore, operation: KitOperation, body: unknown, behaviour: KitBehaviour): KitResponse {
  switch (operation) {
    case 'tenantSync': {
      const r = parse(tenantSyncRequestSchema, body);
      if ('error' in r) return r.error;
      const t = r.data;
      if (t.flag === 0) store.deleteTenant(t.instanceId, t.tenantId);
      else store.putTenant({ instanceId: t.instanceId, orderId: t.orderId, tenantId: t.tenantId, tenantCode: t.tenantCode, name: t.name, domainName: t.domainName });
      return ok();
    }
    case 'applicationSync': {
      const r = parse(applicationSyncRequestSchema, body);
      if ('error' in r) return r.error;
      const a = r.data;
      if (a.flag === 0) {
        store.deleteApp(a.instanceId, a.tenantId, a.appId);
        return ok();
      }
      const absent = missing(store, operation, a.instanceId, a.tenantId);
      if (absent) return absent;
      let clientSecret: string;
      try {
        clientSecret = decryptClientSecret(behaviour.privateKeyPem, a.clientSecret, behaviour.oaep);
      } catch {
        return refuse(ResultCode.InvalidParameter, 'clientSecret cannot be decrypted with the application key');
      }
      store.putApp({ instanceId: a.instanceId, tenantId: a.tenantId, appId: a.appId, clientId: a.clientId, clientSecret });
      return ok();
    }
    case 'authSync': {
      const r = parse(authSyncRequestSchema, body);
      if ('error' in r) return r.error;
      const u = r.data;
      if (u.flag === 0) {
        store.deleteUsers(u.instanceId, u.tenantId, u.appId, u.userList.map((user) => user.userName));
        return ok();
      }
      const absent = missing(store, operation, u.instanceId, u.tenantId, u.appId);
      if (absent) return absent;
      store.putUsers(u.instanceId, u.tenantId, u.appId, u.userList);
      return ok();
    }
    case 'allOrgSync': {
      const r = parse(allOrgSyncRequestSchema, body);
      if ('error' in r) return r.error;
      const absent = missing(store, operation, r.data.instanceId, r.data.tenantId);
      if (absent) return absent;
      store.replaceOrgs(r.data.instanceId, r.data.tenantId, r.data.orgInfoList);
      return ok();
    }
    case 'orgSync': {
      const r = parse(orgSyncRequestSchema, body);
      if ('error' in r) return r.error;
      const o = r.data;
      if (o.flag === 0) {
        store.deleteOrg(o.instanceId, o.tenantId, o.orgCode);
        return ok();
      }
      const absent = missing(store, operation, o.instanceId, o.tenantId);
      if (absent) return absent;
      store.putOrg(o.instanceId, o.tenantId, { orgCode: o.orgCode, orgName: o.orgName, parentCode: o.parentCode ?? '' });
      return ok();
    }
  }
}
