/**
 * Operator routes on a tenant's sync:
 *   GET  /v1/instances/:instanceId/tenants/:tenantId        what the merchant holds, the last sync,
 *                                                           pending events and the failed call waiting
 *   POST /v1/instances/:instanceId/tenants/:tenantId/retry  { reason, eventId? }: the failed call again
 *   POST /v1/instances/:instanceId/tenants/:tenantId/skip   { reason, eventId? }: past it, recorded
 * Both decisions go to operator_actions with who (X-Operator) and why.
 */
import express, { Router } from 'express';
import type { Db } from '../../db/pool';
import { insertOperatorAction } from '../../db/repositories/operations/operator-actions';
import { listSyncEvents } from '../../db/repositories/tenant-sync/sync-events';
import { findTenantSync, type TenantSyncView } from '../../db/repositories/tenant-sync/tenant-syncs';
import { AppError, WorkflowEngineUnavailable, workflowEngineUnavailable } from '../errors';
import { parsePathId, parseRequestBody } from '../request-body';
import type { TenantSyncGateway } from './gateway';
import { decisionBodySchema } from './schemas';

export interface TenantSyncRouterDeps {
  db: Db;
  gateway: TenantSyncGateway;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function createTenantSyncRouter({ db, gateway }: TenantSyncRouterDeps): Router {
  const router = Router();

  async function known(instanceIdParam: unknown, tenantIdParam: unknown): Promise<TenantSyncView> {
    const instanceId = parsePathId(instanceIdParam as string, 'instanceId');
    const tenantId = parsePathId(tenantIdParam as string, 'tenantId');
    const view = await findTenantSync(db, instanceId, tenantId);
    if (!view) throw new AppError(404, 'tenant_sync_not_found', `tenant ${tenantId} of instance ${instanceId} has no sync`);
    return view;
  }

  router.get('/v1/instances/:instanceId/tenants/:tenantId', async (req, res) => {
    const view = await known(req.params.instanceId, req.params.tenantId);
    // A query needs a worker; when none answers soon, the stored rows are the answer.
    const live = await gateway.status(view.workflowId, { timeoutMs: 2000 }).catch(() => undefined);
    const events = await listSyncEvents(db, view.workflowId);
    res.json({
      ...view,
      sync: live
        ? {
            step: { name: live.step.name, since: iso(live.step.sinceMs), reason: live.step.reason },
            pendingEvents: live.pendingEvents,
            blockedCall: live.blockedCall ? { ...live.blockedCall, since: iso(live.blockedCall.sinceMs) } : null,
            eventsApplied: live.eventsApplied,
            runs: live.runs,
          }
        : null,
      events,
    });
  });

  for (const action of ['retry', 'skip'] as const) {
    router.post(`/v1/instances/:instanceId/tenants/:tenantId/${action}`, express.json({ limit: '16kb' }), async (req, res) => {
      const view = await known(req.params.instanceId, req.params.tenantId);
      const { reason, eventId } = parseRequestBody(decisionBodySchema, req.body ?? {});
      const operator = String(res.locals.operator);
      let result;
      try {
        result = await gateway.decide(view.workflowId, { action, requestedBy: operator, reason, ...(eventId ? { eventId } : {}) });
      } catch (error) {
        if (error instanceof WorkflowEngineUnavailable) throw workflowEngineUnavailable(`repeat the ${action}`, error.cause);
        throw error;
      }
      if (result.kind === 'ended') throw new AppError(409, 'tenant_sync_ended', `the sync of tenant ${view.tenantId} has ended`);
      if (result.kind === 'nothing-to-decide') throw new AppError(409, 'nothing_to_decide', result.reason);
      const actionId = await insertOperatorAction(db, {
        actor: operator,
        action: `tenant-sync-${action}`,
        targetType: 'tenant-sync',
        targetId: view.workflowId,
        reason,
        details: { eventId: result.answer.eventId, call: result.answer.call },
      });
      res.status(202).json({ workflowId: view.workflowId, decision: result.answer, actionId });
    });
  }

  return router;
}
