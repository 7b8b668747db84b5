/**
 * All activities, one flat object for the worker: the merge of every capability's factory.
 * The dependencies are interfaces built once in worker.ts (tests pass their own).
 */
import { createGovernanceActivities, type GovernanceActivityDeps } from './governance';
import { createNoticeActivities, type NoticeActivityDeps } from './notices';
import { createRefundActivities, type RefundActivityDeps } from './refunds';
import { createSettlementActivities, type SettlementActivityDeps } from './settlement';
import { createSubscriptionActivities, type SubscriptionActivityDeps } from './subscription';
import { createSupervisionActivities, type SupervisionActivityDeps } from './supervision';
import { createTenantSyncActivities, type TenantSyncActivityDeps } from './tenant-sync';

export type ActivityDeps = SubscriptionActivityDeps & NoticeActivityDeps & TenantSyncActivityDeps & SupervisionActivityDeps & SettlementActivityDeps & GovernanceActivityDeps & RefundActivityDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createSubscriptionActivities(deps),
    ...createNoticeActivities(deps),
    ...createTenantSyncActivities(deps),
    ...createSupervisionActivities(deps),
    ...createSettlementActivities(deps),
    ...createGovernanceActivities(deps),
    ...createRefundActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
