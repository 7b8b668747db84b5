/** The exit's activities, proxied per purpose (presets in ../../activity-options). */
import { proxyActivities } from '@temporalio/workflow';
import type { ExitActivities } from '../../../activities/governance/exit';
import { BOOKKEEPING } from '../../activity-options';

/** Every exit activity reads or writes PostgreSQL only: idempotent, retried until it lands. */
export const records = proxyActivities<ExitActivities>(BOOKKEEPING);
