/** The dial tests' activities, proxied per purpose (presets in ../../activity-options). */
import { proxyActivities } from '@temporalio/workflow';
import type { DialTestActivities } from '../../../activities/governance/dial-tests';
import type { NotificationActivities } from '../../../activities/notices/notifications';
import { BOOKKEEPING } from '../../activity-options';

export const records = proxyActivities<Pick<DialTestActivities, 'dialTestTargets' | 'judgeDialTests'>>(BOOKKEEPING);
export const notices = proxyActivities<Pick<NotificationActivities, 'notifyMerchant'>>(BOOKKEEPING);

/**
 * One product's replay: three debug calls of at most the 5-second merchant timeout each, and
 * their results recorded at once. A retry after the results were recorded calls no one, so a
 * few attempts are safe; a merchant that fails is a recorded result, not an activity failure.
 */
export const dialing = proxyActivities<Pick<DialTestActivities, 'dialProduct'>>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 5 },
});
