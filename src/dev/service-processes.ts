/**
 * The API and the worker as separate operating-system processes, as production runs them
 * (`npm run api`, `npm run worker`), for the ingest benchmark and the chaos suite: each can
 * be killed with SIGKILL and started again on the same port and task queue.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
/**
 * Node with tsx's loader, not the `tsx` command: that command runs the program in a child
 * process of its own, so a SIGKILL (which it cannot pass on) would end only the wrapper and
 * leave the service running, orphaned, on its port and task queue.
 */
const NODE_ARGS = ['--import', 'tsx'];

export type ServiceKind = 'api' | 'worker';

export interface ServiceProcess {
  readonly kind: ServiceKind;
  readonly pid: number;
  /** Resolves with the exit code (or the signal's name) when the process has ended. */
  readonly exited: Promise<number | string>;
  /** SIGKILL: no shutdown hooks, connections cut mid-request. */
  kill(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const ENTRY: Record<ServiceKind, string> = { api: 'src/server.ts', worker: 'src/worker.ts' };
/** What each process logs once it is ready (pino's msg field). */
const READY: Record<ServiceKind, string> = { api: '"msg":"API listening"', worker: '"msg":"worker started"' };

/**
 * Starts `src/server.ts` or `src/worker.ts` with the given environment and resolves once it
 * says it is ready. Its output goes to `onOutput` (the benchmark and the chaos suite keep it
 * for a failure report).
 */
export async function startService(kind: ServiceKind, env: NodeJS.ProcessEnv, options: { onOutput?: (line: string) => void; readyTimeoutMs?: number } = {}): Promise<ServiceProcess> {
  const child: ChildProcess = spawn(process.execPath, [...NODE_ARGS, ENTRY[kind]], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} not ready after ${options.readyTimeoutMs ?? 60_000} ms`)), options.readyTimeoutMs ?? 60_000);
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        options.onOutput?.(line);
        if (line.includes(READY[kind])) {
          clearTimeout(timer);
          resolve();
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited (${code}) before it was ready`));
    });
  });
  try {
    await ready;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const signal = async (name: NodeJS.Signals, graceMs: number): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(name);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    kind,
    pid: child.pid ?? -1,
    exited,
    kill: () => signal('SIGKILL', 0),
    stop: (graceMs = 10_000) => signal('SIGTERM', graceMs),
  };
}
