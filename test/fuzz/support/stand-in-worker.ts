/** Runs the stand-in subscription workflow (stand-in-workflow.ts) on a harness's task queue. */
import path from 'node:path';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';

export interface StandInWorker {
  stop(): Promise<void>;
}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

export async function startStandInWorker(taskQueue: string): Promise<StandInWorker> {
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('run through jest: the global setup provides Temporal');
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, 'stand-in-workflow.ts'), logger: quiet });
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({ connection, taskQueue, workflowBundle });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
