/** tenant_syncs and tenant_sync_users: what each tenant's merchant holds after our successful calls. */
import type { Queryable } from '../../pool';
import type { KitUser } from '../../../protocol/kit';

export async function ensureTenantSync(q: Queryable, t: { workflowId: string; instanceId: string; tenantId: string; merchantId: string }): Promise<void> {
  await q.query(
    `insert into tenant_syncs (workflow_id, instance_id, tenant_id, merchant_id) values ($1::text, $2::text, $3::text, $4::text)
     on conflict (workflow_id) do nothing`,
    [t.workflowId, t.instanceId, t.tenantId, t.merchantId],
  );
}

/** What one successful call changed at the merchant. */
export type SyncedChange =
  | { kind: 'tenant'; flag: number; tenant: { tenantCode: string; name: string; domainName: string } }
  | { kind: 'application'; flag: number; appId: string; clientId: string }
  | { kind: 'users'; flag: number; appId: string; users: Pick<KitUser, 'userName' | 'role'>[] }
  | { kind: 'organizations'; count: number }
  | { kind: 'organization'; flag: number };

/** Applies one successful call to our view of the merchant, and stamps the last sync. Idempotent. */
export async function applySyncedChange(q: Queryable, workflowId: string, eventId: string, change: SyncedChange): Promise<void> {
  switch (change.kind) {
    case 'tenant':
      await q.query(`update tenant_syncs set tenant = $2::jsonb where workflow_id = $1::text`, [workflowId, change.flag === 0 ? null : JSON.stringify(change.tenant)]);
      break;
    case 'application':
      await q.query(
        change.flag === 0
          ? `update tenant_syncs set applications = applications - $2::text where workflow_id = $1::text`
          : `update tenant_syncs set applications = applications || jsonb_build_object($2::text, jsonb_build_object('clientId', $3::text)) where workflow_id = $1::text`,
        change.flag === 0 ? [workflowId, change.appId] : [workflowId, change.appId, change.clientId],
      );
      break;
    case 'users': {
      const names = change.users.map((u) => u.userName);
      if (change.flag === 0) {
        await q.query(`delete from tenant_sync_users where workflow_id = $1::text and app_id = $2::text and user_name = any($3::text[])`, [workflowId, change.appId, names]);
      } else {
        await q.query(
          `insert into tenant_sync_users (workflow_id, app_id, user_name, role)
           select $1::text, $2::text, u.name, u.role from unnest($3::text[], $4::text[]) as u(name, role)
           on conflict (workflow_id, app_id, user_name) do update set role = excluded.role`,
          [workflowId, change.appId, names, change.users.map((u) => u.role)],
        );
      }
      break;
    }
    case 'organizations':
      await q.query(`update tenant_syncs set org_count = $2::int where workflow_id = $1::text`, [workflowId, change.count]);
      break;
    case 'organization':
      // The incremental change is counted only when it adds or deletes one.
      if (change.flag !== 2) await q.query(`update tenant_syncs set org_count = greatest(0, org_count + $2::int) where workflow_id = $1::text`, [workflowId, change.flag === 1 ? 1 : -1]);
      break;
  }
  await q.query(`update tenant_syncs set last_synced_at = now(), last_event_id = $2::text where workflow_id = $1::text`, [workflowId, eventId]);
}

export interface TenantSyncView {
  workflowId: string;
  instanceId: string;
  tenantId: string;
  merchantId: string;
  tenant: { tenantCode: string; name: string; domainName: string } | null;
  applications: Array<{ appId: string; clientId: string; userCount: number }>;
  userCount: number;
  orgCount: number;
  lastSync: { at: string; eventId: string } | null;
}

export async function findTenantSync(q: Queryable, instanceId: string, tenantId: string): Promise<TenantSyncView | undefined> {
  const { rows } = await q.query<{
    workflowId: string;
    instanceId: string;
    tenantId: string;
    merchantId: string;
    tenant: TenantSyncView['tenant'];
    applications: Record<string, { clientId: string }>;
    orgCount: number;
    lastSyncedAt: string | null;
    lastEventId: string | null;
  }>(
    `select workflow_id as "workflowId", instance_id as "instanceId", tenant_id as "tenantId", merchant_id as "merchantId", tenant,
            applications, org_count as "orgCount", last_event_id as "lastEventId",
            to_char(last_synced_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "lastSyncedAt"
       from tenant_syncs where instance_id = $1::text and tenant_id = $2::text`,
    [instanceId, tenantId],
  );
  const row = rows[0];
  if (!row) return undefined;
  const { rows: counts } = await q.query<{ appId: string; users: number }>(
    `select app_id as "appId", count(*)::int as users from tenant_sync_users where workflow_id = $1::text group by app_id`,
    [row.workflowId],
  );
  const usersByApp = new Map(counts.map((c) => [c.appId, c.users]));
  return {
    workflowId: row.workflowId,
    instanceId: row.instanceId,
    tenantId: row.tenantId,
    merchantId: row.merchantId,
    tenant: row.tenant,
    applications: Object.entries(row.applications).map(([appId, app]) => ({ appId, clientId: app.clientId, userCount: usersByApp.get(appId) ?? 0 })),
    userCount: counts.reduce((sum, c) => sum + c.users, 0),
    orgCount: row.orgCount,
    lastSync: row.lastSyncedAt && row.lastEventId ? { at: row.lastSyncedAt, eventId: row.lastEventId } : null,
  };
}
