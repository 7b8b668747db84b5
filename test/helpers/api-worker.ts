/**
 * A worker beside an API harness: it bundles the given workflows and serves the harness's
 * task queue on the dev server from the global setup, until stopped.
 */
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';

export interface ApiWorker {
  stop(): Promise<void>;
}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

export async function startApiWorker(options: { taskQueue: string; workflowsPath: string; activities?: object }): Promise<ApiWorker> {
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: options.workflowsPath, logger: quiet });
  const connection = await NativeConnection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS });
  const worker = await Worker.create({ connection, taskQueue: options.taskQueue, workflowBundle, ...(options.activities ? { activities: options.activities } : {}) });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
