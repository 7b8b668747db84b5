/**
 * Schedules the worker registers at start (the bill run, the dial tests): created the first
 * time, brought in line with the configuration on every later start, so changing a setting
 * and restarting is all an operator does.
 */
import { ScheduleAlreadyRunning, type Client, type ScheduleOptions, type ScheduleUpdateOptions } from '@temporalio/client';

export type ScheduleDefinition = Pick<ScheduleOptions, 'scheduleId' | 'spec' | 'action' | 'policies'>;

/** Creates the schedule, or updates it to the definition; answers which it did. */
export async function ensureSchedule(client: Client, definition: ScheduleDefinition): Promise<'created' | 'updated'> {
  const { scheduleId, spec, action, policies } = definition;
  try {
    await client.schedule.create(definition);
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(scheduleId).update((previous): ScheduleUpdateOptions => ({ ...previous, spec, action, policies }));
    return 'updated';
  }
}
