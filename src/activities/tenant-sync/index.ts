/** The tenant-sync capability's activities: its Kit calls and their records. */
import { createKitCallActivities, type KitCallDeps } from './kit-calls';

export type TenantSyncActivityDeps = Omit<KitCallDeps, 'now'>;

export function createTenantSyncActivities(deps: TenantSyncActivityDeps) {
  return createKitCallActivities(deps);
}
