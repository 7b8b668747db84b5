/**
 * GET /v1/instances/:instanceId (operator): the instance as we know it — status, SKU,
 * expiry, what the merchant's last queryInstance reported (app info, usage), the
 * subscription's renewal/upgrade/unsubscribe orders — and, while the subscription runs,
 * the step it waits in, since when and why.
 */
import { Router } from 'express';
import type { Db } from '../../db/pool';
import { findInstance } from '../../db/repositories/subscription/instances';
import { listSubscriptionOrders } from '../../db/repositories/subscription/subscription-orders';
import type { Encryptor } from '../../platform/security/encryption';
import type { SubscriptionSnapshot } from '../../workflows/subscription/messages';
import type { SubscriptionGateway } from './gateway';
import { AppError } from '../errors';
import { parsePathId } from '../request-body';

export interface InstanceRouterDeps {
  db: Db;
  gateway: SubscriptionGateway;
  encryptor: Encryptor;
}

/** App info without the initial password: operators see that one exists, not what it is. */
function readableAppInfo(encryptor: Encryptor, envelope: string | null): Record<string, unknown> | null {
  if (!envelope) return null;
  const appInfo = JSON.parse(encryptor.decrypt(envelope)) as Record<string, unknown>;
  return appInfo.password === undefined ? appInfo : { ...appInfo, password: '********' };
}

export function createInstanceRouter({ db, gateway, encryptor }: InstanceRouterDeps): Router {
  const router = Router();
  router.get('/v1/instances/:instanceId', async (req, res) => {
    const instanceId = parsePathId(req.params.instanceId, 'instanceId');
    const instance = await findInstance(db, instanceId);
    if (!instance) throw new AppError(404, 'instance_not_found', `instance ${instanceId} is unknown`);
    const { appInfoEnc, workflowId, ...rest } = instance;
    let live: SubscriptionSnapshot | undefined;
    if (workflowId) live = await gateway.status(workflowId, { timeoutMs: 2000 }).catch(() => undefined);
    res.json({
      ...rest,
      appInfo: readableAppInfo(encryptor, appInfoEnc),
      workflowId,
      subscription: live
        ? {
            status: live.status,
            step: { name: live.step.name, since: new Date(live.step.sinceMs).toISOString(), reason: live.step.reason },
            frozenBy: live.frozenBy,
            trial: live.trial,
            pendingEvents: live.pendingEvents,
            runs: live.runs,
          }
        : null,
      orders: workflowId ? await listSubscriptionOrders(db, workflowId) : [],
    });
  });
  return router;
}
