/**
 * Replay: the histories recorded from real runs (test/replay/histories, `npm run
 * replay:record`) must replay on today's workflow code without a nondeterminism error, so
 * a change cannot break subscriptions already running. The second test proves the harness
 * would notice: a copy of the workflows with two steps swapped must fail on them.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker, type ReplayResult } from '@temporalio/worker';
import { loadHistories } from '../helpers/histories';

const ROOT = path.resolve(__dirname, '../..');
// Inside the project, so the copy resolves the same node_modules.
const ALTERED = path.join(ROOT, 'test/replay/.altered');

async function replayAll(workflowsPath: string): Promise<ReplayResult[]> {
  const histories = loadHistories().map(({ workflowId, history }) => ({ workflowId, history }));
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath }, histories)) {
    results.push(result);
  }
  return results;
}

beforeAll(() => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
});

afterAll(() => {
  rmSync(ALTERED, { recursive: true, force: true });
});

test('every recorded history replays on the current workflow code', async () => {
  const histories = loadHistories();
  expect(histories.length).toBeGreaterThanOrEqual(5);

  const results = await replayAll(path.join(ROOT, 'src/workflows/index.ts'));

  expect(results).toHaveLength(histories.length);
  expect(results.filter((r) => r.error).map((r) => `${r.workflowId}: ${String(r.error)}`)).toEqual([]);
});

test('a workflow that changed the order of its steps fails replay', async () => {
  rmSync(ALTERED, { recursive: true, force: true });
  mkdirSync(ALTERED, { recursive: true });
  for (const dir of ['workflows', 'shared']) cpSync(path.join(ROOT, 'src', dir), path.join(ALTERED, 'src', dir), { recursive: true });
  // The change: record the order line before the instance when an instance comes up.
  const file = path.join(ALTERED, 'src/workflows/subscription/steps/create-instance.ts');
  const original = readFileSync(file, 'utf8');
  const markLine = "  await updateOrderLine(sub, { status: 'active', instanceId });\n";
  const claim = '  sub.state.instanceId = instanceId;\n  try {\n';
  const swapped = original.replace(markLine, '').replace(claim, `  sub.state.instanceId = instanceId;\n${markLine}  try {\n`);
  expect(swapped).not.toBe(original);
  writeFileSync(file, swapped);

  const results = await replayAll(path.join(ALTERED, 'src/workflows/index.ts'));

  const failed = results.filter((r) => r.error);
  // Every history that got past the create (all but the exhausted window) must be caught.
  expect(failed.map((r) => r.workflowId)).toEqual(expect.arrayContaining(['subscription-create-at-once', 'subscription-create-after-failures']));
  for (const result of failed) expect(result.error?.name).toBe('DeterminismViolationError');
  expect(results.find((r) => r.workflowId === 'subscription-create-window-exhausted')?.error).toBeUndefined();
});
