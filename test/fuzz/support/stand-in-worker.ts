/** Runs the stand-in subscription workflow (stand-in-workflow.ts) on a harness's task queue. */
import path from 'node:path';
import { startApiWorker, type ApiWorker } from '../../helpers/api-worker';

export type StandInWorker = ApiWorker;

export function startStandInWorker(taskQueue: string): Promise<StandInWorker> {
  if (!process.env.TEST_TEMPORAL_ADDRESS) throw new Error('run through jest: the global setup provides Temporal');
  return startApiWorker({ taskQueue, workflowsPath: path.resolve(__dirname, 'stand-in-workflow.ts') });
}
