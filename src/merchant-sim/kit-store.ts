/**
 * The reference merchant's Kit state (spec §7): tenants, applications with their decrypted
 * clientSecret, authorised users and organisations, keyed the way the spec's idempotency
 * rule reads (§4: instance, tenant, app and userName; a repeated add or delete succeeds).
 * It also notes every call that arrived before what it depends on, so tests can prove none did.
 */
import type { KitUserRequest } from '../protocol/kit-schemas';

export interface KitTenant {
  instanceId: string;
  orderId: string;
  tenantId: string;
  tenantCode: string;
  name: string;
  domainName: string;
}

export interface KitApp {
  instanceId: string;
  tenantId: string;
  appId: string;
  clientId: string;
  /** Decrypted with the merchant's private key. */
  clientSecret: string;
}

export interface KitOrgRecord {
  orgCode: string;
  orgName: string;
  parentCode: string;
}

export interface KitSnapshot {
  tenants: KitTenant[];
  apps: KitApp[];
  /** `<instanceId>/<tenantId>/<appId>` → users, in userName order. */
  users: Record<string, KitUserRequest[]>;
  /** `<instanceId>/<tenantId>` → organisations, in orgCode order. */
  orgs: Record<string, KitOrgRecord[]>;
  /** Calls that came before their tenant or application existed here. */
  outOfOrder: string[];
}

// NUL cannot occur in the ids, so joined keys cannot collide.
const key = (...parts: string[]): string => parts.join('\u0000');
const label = (k: string): string => k.split('\u0000').join('/');

export class KitStore {
  private readonly tenantMap = new Map<string, KitTenant>();
  private readonly appMap = new Map<string, KitApp>();
  private readonly userMap = new Map<string, Map<string, KitUserRequest>>();
  private readonly orgMap = new Map<string, Map<string, KitOrgRecord>>();
  private readonly outOfOrderLog: string[] = [];

  hasTenant(instanceId: string, tenantId: string): boolean {
    return this.tenantMap.has(key(instanceId, tenantId));
  }

  hasApp(instanceId: string, tenantId: string, appId: string): boolean {
    return this.appMap.has(key(instanceId, tenantId, appId));
  }

  putTenant(tenant: KitTenant): void {
    this.tenantMap.set(key(tenant.instanceId, tenant.tenantId), tenant);
  }

  deleteTenant(instanceId: string, tenantId: string): void {
    this.tenantMap.delete(key(instanceId, tenantId));
  }

  putApp(app: KitApp): void {
    this.appMap.set(key(app.instanceId, app.tenantId, app.appId), app);
  }

  deleteApp(instanceId: string, tenantId: string, appId: string): void {
    this.appMap.delete(key(instanceId, tenantId, appId));
  }

  putUsers(instanceId: string, tenantId: string, appId: string, users: KitUserRequest[]): void {
    const k = key(instanceId, tenantId, appId);
    const map = this.userMap.get(k) ?? new Map<string, KitUserRequest>();
    for (const user of users) map.set(user.userName, user);
    this.userMap.set(k, map);
  }

  deleteUsers(instanceId: string, tenantId: string, appId: string, userNames: string[]): void {
    const map = this.userMap.get(key(instanceId, tenantId, appId));
    for (const name of userNames) map?.delete(name);
  }

  replaceOrgs(instanceId: string, tenantId: string, orgs: KitOrgRecord[]): void {
    this.orgMap.set(key(instanceId, tenantId), new Map(orgs.map((o) => [o.orgCode, o])));
  }

  putOrg(instanceId: string, tenantId: string, org: KitOrgRecord): void {
    const k = key(instanceId, tenantId);
    const map = this.orgMap.get(k) ?? new Map<string, KitOrgRecord>();
    map.set(org.orgCode, org);
    this.orgMap.set(k, map);
  }

  deleteOrg(instanceId: string, tenantId: string, orgCode: string): void {
    this.orgMap.get(key(instanceId, tenantId))?.delete(orgCode);
  }

  noteOutOfOrder(what: string): void {
    this.outOfOrderLog.push(what);
  }

  /** Users authorised for one application. */
  userCount(instanceId: string, tenantId: string, appId: string): number {
    return this.userMap.get(key(instanceId, tenantId, appId))?.size ?? 0;
  }

  snapshot(): KitSnapshot {
    const sortedValues = <T>(map: Map<string, T>): T[] => [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
    return {
      tenants: [...this.tenantMap.values()],
      apps: [...this.appMap.values()],
      users: Object.fromEntries([...this.userMap.entries()].filter(([, m]) => m.size > 0).map(([k, m]) => [label(k), sortedValues(m)])),
      orgs: Object.fromEntries([...this.orgMap.entries()].filter(([, m]) => m.size > 0).map(([k, m]) => [label(k), sortedValues(m)])),
      outOfOrder: [...this.outOfOrderLog],
    };
  }

  reset(): void {
    this.tenantMap.clear();
    this.appMap.clear();
    this.userMap.clear();
    this.orgMap.clear();
    this.outOfOrderLog.length = 0;
  }
}
