/** Temporal connections and the SDK's logger bridged to pino. */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../logger';

export interface TemporalSettings {
  address: string;
  namespace: string;
}

export async function connectClient(settings: TemporalSettings): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address: settings.address });
  return { client: new Client({ connection, namespace: settings.namespace }), connection };
}

export async function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect({ address: settings.address });
}

/** Whether the server answers within two seconds (the API's health check). */
export function temporalHealthCheck(connection: Connection): () => Promise<boolean> {
  return async () => {
    await connection.withDeadline(Date.now() + 2000, () => connection.workflowService.getSystemInfo({}));
    return true;
  };
}

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Sends the SDK's (and workflows' and activities') logs through pino. Once per process. */
export function installRuntimeLogger(logger: Logger, level: LogLevel = 'INFO'): void {
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      logger[PINO_LEVEL[entry.level]]({ ...entry.meta, component: 'temporal' }, entry.message);
    }),
  });
}
