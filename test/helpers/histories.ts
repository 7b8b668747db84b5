/**
 * Workflow histories for the replay suite. `npm run replay:record` runs the workflow suites
 * with RECORD_HISTORIES=1, and each scenario that calls `recordHistory` writes its history
 * (every run of it, when it continued as new) to test/replay/histories. The replay suite
 * then checks that today's workflow code still reproduces them exactly.
 *
 * A history already on file is never overwritten: it stands for the workflows that older
 * code left running, which is what the replay suite protects. To record a scenario again
 * with today's code, give it a tag (RECORD_HISTORIES_TAG=2026-12, say): the history is
 * written beside the old one as `subscription-<scenario>@<tag>.json`.
 *
 * The files are protobuf's JSON object form (enums by name, 64-bit numbers and bytes as
 * strings), written and read with the same History type the SDK uses. (The SDK's
 * historyToJSON trips over the two protobufjs copies npm installs here.)
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

export const HISTORIES_DIR = path.resolve(__dirname, '../replay/histories');

const History = temporal.api.history.v1.History;
const AS_JSON = { longs: String, enums: String, bytes: String } as const;

/** `family` names the workflow in the file name: `<family>-<scenario>.json` (subscription unless said). */
export async function recordHistory(client: Client, workflowId: string, scenario: string, family = 'subscription'): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  // Walk the chain of runs from the first one, so continue-as-new is covered too.
  const described = await client.workflow.getHandle(workflowId).describe();
  let runId: string | undefined = described.raw.workflowExecutionInfo?.firstRunId || described.runId;
  for (let run = 1; runId; run += 1) {
    const history = History.fromObject(await client.workflow.getHandle(workflowId, runId).fetchHistory());
    const tag = process.env.RECORD_HISTORIES_TAG ? `@${process.env.RECORD_HISTORIES_TAG}` : '';
    const file = path.join(HISTORIES_DIR, `${family}-${scenario}${run > 1 ? `-run${run}` : ''}${tag}.json`);
    if (!existsSync(file)) writeFileSync(file, `${JSON.stringify(History.toObject(history, AS_JSON), null, 1)}\n`);
    const last = history.events[history.events.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId || undefined;
  }
}

/** Every recorded history, with the workflow id it was recorded under. */
export function loadHistories(): Array<{ name: string; workflowId: string; history: temporal.api.history.v1.History }> {
  return readdirSync(HISTORIES_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const history = History.fromObject(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) as object);
      return { name: file.replace(/\.json$/, ''), workflowId: file.replace(/\.json$/, ''), history };
    });
}
