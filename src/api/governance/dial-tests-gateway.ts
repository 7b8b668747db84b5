/**
 * The dial tests' Schedule (spec §1.6, §4): dialTestRunWorkflow at the configured hours
 * (default 09:00 and 15:00) in the configured time zone (default Asia/Shanghai). The worker
 * registers it at start like the bill run: created the first time, brought in line with the
 * configuration on every later start. The only file of the dial tests that imports the
 * Temporal SDK.
 */
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { ensureSchedule } from '../../platform/temporal/schedules';
import type { DialTestRunInput } from '../../workflows/governance/dial-tests/messages';
import type { dialTestRunWorkflow } from '../../workflows/governance/dial-tests/workflow';

export const DIAL_TEST_SCHEDULE_ID = 'dial-tests';

export interface DialTestScheduleOptions {
  scheduleId?: string;
  taskQueue: string;
  hours: number[];
  timeZone: string;
  failedDaysToFreeze: number;
}

/** Creates the schedule, or updates it to the options; answers which it did. */
export async function ensureDialTestSchedule(client: Client, options: DialTestScheduleOptions): Promise<'created' | 'updated'> {
  const scheduleId = options.scheduleId ?? DIAL_TEST_SCHEDULE_ID;
  const input: DialTestRunInput = { failedDaysToFreeze: options.failedDaysToFreeze };
  const spec = { calendars: [{ hour: options.hours, minute: 0 }], timezone: options.timeZone };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'dialTestRunWorkflow',
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    args: [input] as Parameters<typeof dialTestRunWorkflow>,
  };
  // Two runs never overlap; a run missed while the cluster was down is made up within the hour, not hours later.
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' };
  return ensureSchedule(client, { scheduleId, spec, action, policies });
}
