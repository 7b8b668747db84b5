/**
 * The monthly bill-run Schedule on the Temporal dev server (the time-skipping server has no
 * Schedules): created once, updated by a later start, and its next action times read back
 * in Beijing time — the 3rd at 01:00 by default, the 7th when so configured.
 */
import { apiHarness, uniqueId, type ApiHarness } from '../helpers/api-harness';
import { ensureBillRunSchedule, type BillRunScheduleOptions } from '../../src/api/settlement/gateway';

let h: ApiHarness;
const scheduleId = uniqueId('settlement-bill-run-test');

beforeAll(async () => {
  h = await apiHarness();
});

afterAll(async () => {
  await h.client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
  await h?.close();
});

/** Next action times as Beijing wall-clock `DD HH:MM`. */
async function nextRunsInBeijing(): Promise<string[]> {
  const description = await h.client.schedule.getHandle(scheduleId).describe();
  return description.info.nextActionTimes.map((t) => new Date(t.getTime() + 8 * 3_600_000).toISOString().slice(8, 16).replace('T', ' '));
}

test('when the worker registers the schedule twice, then it is created, then updated, and runs on the configured day at 01:00 Beijing time', async () => {
  const options: BillRunScheduleOptions = {
    scheduleId,
    taskQueue: h.config.temporal.taskQueue,
    billDay: h.config.settlement.billDay,
    billHour: h.config.settlement.billHour,
    timeZone: h.config.settlement.timeZone,
    statement: h.config.settlement.statement,
  };
  expect(await ensureBillRunSchedule(h.client, options)).toBe('created');
  const defaults = await nextRunsInBeijing();
  expect(defaults.length).toBeGreaterThanOrEqual(3);
  expect(new Set(defaults)).toEqual(new Set(['03 01:00']));

  expect(await ensureBillRunSchedule(h.client, { ...options, billDay: 7 })).toBe('updated');
  const seventh = await nextRunsInBeijing();
  expect(new Set(seventh)).toEqual(new Set(['07 01:00']));
  const description = await h.client.schedule.getHandle(scheduleId).describe();
  expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'billRunWorkflow', taskQueue: h.config.temporal.taskQueue });
});
