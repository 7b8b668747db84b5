/**
 * The tenant sync's marketplace events (spec §7), one handler per type:
 *
 *   tenant.added | tenant.modified | tenant.deleted                  → tenantSync
 *   application.added | application.modified | application.deleted   → applicationSync
 *   users.added | users.modified | users.deleted                     → authSync, 500 users per call
 *   organizations.synced                                             → allOrgSync
 *   organization.added | organization.modified | organization.deleted → orgSync
 *   tenant_sync.retry_requested | tenant_sync.skip_requested         → the buyer admin's decision
 *
 * Each sync event is stored in sync_events (the clientSecret encrypted at rest, and blanked
 * in the ingress's stored payload) and its workflow gets a reference to it.
 */
import type { z } from 'zod';
import type { Db } from '../../db/pool';
import { insertOperatorAction } from '../../db/repositories/operations/operator-actions';
import { findSyncTarget, type SyncTarget } from '../../db/repositories/tenant-sync/merchant-keys';
import { blankStoredClientSecret, insertSyncEvent } from '../../db/repositories/tenant-sync/sync-events';
import { ensureTenantSync, findTenantSync, type TenantSyncView } from '../../db/repositories/tenant-sync/tenant-syncs';
import type { Encryptor } from '../../platform/security/encryption';
import { callsFor, KIT_OPERATION_OF, type SyncEventKind } from '../../protocol/kit';
import { AppError } from '../errors';
import { eventHandler, type Answer, type EventHandler, type EventTable } from '../ingress/handlers';
import { tenantSyncWorkflowId, type TenantSyncGateway } from './gateway';
import {
  applicationDataSchema,
  applicationDeletedDataSchema,
  decisionDataSchema,
  organizationDataSchema,
  organizationDeletedDataSchema,
  organizationsDataSchema,
  tenantDataSchema,
  tenantDeletedDataSchema,
  usersDataSchema,
  usersDeletedDataSchema,
} from './schemas';

export interface TenantSyncEventDeps {
  db: Db;
  gateway: TenantSyncGateway;
  encryptor: Encryptor;
}

type Flag = 0 | 1 | 2;
interface SyncData {
  instanceId: string;
  tenantId: string;
  testFlag?: 0 | 1;
}

/** What an event stores for its Kit calls. */
interface Prepared {
  payload: Record<string, unknown>;
  /** The clientSecret, encrypted at rest before it is stored. */
  secret?: string;
  appId?: string;
  calls?: number;
}

const FLAG_OF = { added: 1, modified: 2, deleted: 0 } as const;
type Change = keyof typeof FLAG_OF;

/** The instance the event names, able to take Kit calls; 422 naming why not. */
async function syncTarget(db: Db, data: SyncData, needsAppKey: boolean): Promise<SyncTarget> {
  const target = await findSyncTarget(db, data.instanceId);
  if (!target) throw new AppError(422, 'unknown_instance', `instance ${data.instanceId} is unknown`, [{ field: 'data.instanceId', reason: 'unknown instance' }]);
  if (!target.syncKeyEnc) {
    throw new AppError(422, 'sync_not_configured', `merchant ${target.merchantId} has no sync key registered`, [
      { field: 'data.instanceId', reason: `merchant ${target.merchantId} has no sync key` },
    ]);
  }
  if (needsAppKey && !target.appPublicKey) {
    throw new AppError(422, 'no_app_public_key', `product ${target.productId} has no application public key registered to encrypt the clientSecret`, [
      { field: 'data.clientSecret', reason: `product ${target.productId} has no application public key` },
    ]);
  }
  return target;
}

export function tenantSyncEvents({ db, gateway, encryptor }: TenantSyncEventDeps): EventTable {
  /** One sync event type: read, placed on its tenant's workflow, stored, and referenced in a signal. */
  function syncEvent<S extends z.ZodType<SyncData>>(
    schema: S,
    kind: SyncEventKind,
    flag: Flag | undefined,
    prepare: (data: z.output<S>, known: TenantSyncView | undefined) => Prepared,
  ): EventHandler {
    return eventHandler(schema, async (data) => {
      const target = await syncTarget(db, data, kind === 'application' && flag !== 0);
      const workflowId = tenantSyncWorkflowId(data.instanceId, data.tenantId);
      // Deletes may leave out fields the Kit body requires: they are filled from what we last synced.
      const prepared = prepare(data, flag === 0 ? await findTenantSync(db, data.instanceId, data.tenantId) : undefined);
      const calls = prepared.calls ?? 1;
      return {
        workflowId,
        location: `/v1/instances/${encodeURIComponent(data.instanceId)}/tenants/${encodeURIComponent(data.tenantId)}`,
        async store(tx, { eventId, firstTime }) {
          // A redelivery writes nothing: its event row (secret already blanked) and the sync exist.
          if (!firstTime) return;
          await ensureTenantSync(tx, { workflowId, instanceId: data.instanceId, tenantId: data.tenantId, merchantId: target.merchantId });
          if (prepared.secret !== undefined) await blankStoredClientSecret(tx, eventId);
        },
        async deliver({ eventId, acceptedAtMs }) {
          await insertSyncEvent(db, {
            eventId,
            workflowId,
            kind,
            flag,
            payload: prepared.payload,
            secretEnc: prepared.secret === undefined ? undefined : encryptor.encrypt(prepared.secret),
            calls,
            acceptedAt: new Date(acceptedAtMs),
          });
          await gateway.deliver(
            { workflowId, instanceId: data.instanceId, tenantId: data.tenantId, merchantId: target.merchantId, orderId: target.orderId, orderLineId: target.orderLineId },
            { eventId, acceptedAtMs, kind, operation: KIT_OPERATION_OF[kind], ...(flag === undefined ? {} : { flag }), ...(prepared.appId ? { appId: prepared.appId } : {}), calls, testFlag: data.testFlag ?? 0 },
          );
          return { status: 202, body: { eventId, workflowId, status: 'accepted', calls } };
        },
      };
    });
  }

  /** The three changes of one entity, each with its own schema for deletes. */
  function changes<A extends z.ZodType<SyncData>, D extends z.ZodType<SyncData>>(
    entity: string,
    kind: SyncEventKind,
    schemas: { change: A; deleted: D },
    prepare: (data: z.output<A> | z.output<D>, known: TenantSyncView | undefined) => Prepared,
  ): EventTable {
    const table: Record<string, EventHandler> = {};
    for (const change of Object.keys(FLAG_OF) as Change[]) {
      table[`${entity}.${change}`] = change === 'deleted' ? syncEvent(schemas.deleted, kind, 0, prepare) : syncEvent(schemas.change, kind, FLAG_OF[change], prepare);
    }
    return table;
  }

  /** Retry or skip, from the buyer's admin through the order system. */
  function decision(action: 'retry' | 'skip'): EventHandler {
    return eventHandler(decisionDataSchema, async (data) => {
      const workflowId = tenantSyncWorkflowId(data.instanceId, data.tenantId);
      if (!(await findTenantSync(db, data.instanceId, data.tenantId))) {
        throw new AppError(422, 'unknown_tenant_sync', `tenant ${data.tenantId} of instance ${data.instanceId} has no sync`, [{ field: 'data.tenantId', reason: 'no sync for this tenant' }]);
      }
      return {
        workflowId,
        async deliver({ eventId }): Promise<Answer> {
          const result = await gateway.decide(workflowId, { action, requestedBy: data.requestedBy, reason: data.reason, ...(data.eventId ? { eventId: data.eventId } : {}) });
          if (result.kind === 'ended') return { status: 409, body: { error: { code: 'tenant_sync_ended', message: `the sync of tenant ${data.tenantId} has ended` } } };
          if (result.kind === 'nothing-to-decide') return { status: 409, body: { error: { code: 'nothing_to_decide', message: result.reason } } };
          await insertOperatorAction(db, {
            actor: data.requestedBy,
            action: `tenant-sync-${action}`,
            targetType: 'tenant-sync',
            targetId: workflowId,
            reason: data.reason,
            details: { via: 'order-system', webhookId: eventId, eventId: result.answer.eventId, call: result.answer.call },
          });
          return { status: 202, body: { eventId, workflowId, decision: result.answer } };
        },
      };
    });
  }

  return {
    ...changes('tenant', 'tenant', { change: tenantDataSchema, deleted: tenantDeletedDataSchema }, (d, known) => ({
      payload: {
        tenantCode: d.tenantCode ?? known?.tenant?.tenantCode ?? '',
        name: d.name ?? known?.tenant?.name ?? '',
        domainName: d.domainName ?? known?.tenant?.domainName ?? '',
      },
    })),
    ...changes('application', 'application', { change: applicationDataSchema, deleted: applicationDeletedDataSchema }, (d, known) => ({
      payload: { appId: d.appId, clientId: d.clientId ?? known?.applications.find((a) => a.appId === d.appId)?.clientId ?? '' },
      appId: d.appId,
      ...('clientSecret' in d && typeof d.clientSecret === 'string' ? { secret: d.clientSecret } : {}),
    })),
    ...changes('users', 'users', { change: usersDataSchema, deleted: usersDeletedDataSchema }, (d) => ({
      payload: { appId: d.appId, users: d.users },
      appId: d.appId,
      calls: callsFor(d.users.length),
    })),
    'organizations.synced': syncEvent(organizationsDataSchema, 'organizations', undefined, (d) => ({ payload: { orgs: d.orgs } })),
    ...changes('organization', 'organization', { change: organizationDataSchema, deleted: organizationDeletedDataSchema }, (d) => ({
      payload: { orgCode: d.orgCode, orgName: d.orgName ?? '', ...(d.parentCode !== undefined ? { parentCode: d.parentCode } : {}) },
    })),
    'tenant_sync.retry_requested': decision('retry'),
    'tenant_sync.skip_requested': decision('skip'),
  };
}
