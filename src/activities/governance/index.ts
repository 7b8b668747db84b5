/**
 * The governance capability's activities (spec §4, §9.4, §9.5), one factory per concern merged
 * here: each engineer adds one import and one spread line.
 */
import type { Db } from '../../db/pool';
import { createDialTestActivities, type DialTestActivityDeps } from './dial-tests';
import { createExitActivities, type ExitActivityDeps } from './exit';

/** Every governance factory's dependencies; a factory that needs more intersects its own. */
export type GovernanceActivityDeps = { db: Db } & DialTestActivityDeps & ExitActivityDeps;

export function createGovernanceActivities(deps: GovernanceActivityDeps) {
  return {
    ...createExitActivities(deps),
    ...createDialTestActivities(deps),
  };
}
