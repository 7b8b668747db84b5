/**
 * Local Temporal servers for `npm start` and the tests, found in this order:
 *   1. TEMPORAL_ADDRESS, when it names a server that answers (the caller decides);
 *   2. the binaries that scripts/install-temporal.sh installs into the per-user cache
 *      (built from the Go module proxy and Maven Central);
 *   3. the SDK's own download, for machines that can reach Temporal's download site.
 * We start installed binaries ourselves, rather than through the SDK, because the SDK gives
 * a server 5 seconds to come up and a JVM on a busy 2-core machine can need more.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, openSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import { freePort } from './ports';

export interface RunningTemporal {
  address: string;
  uiUrl?: string;
  source: 'installed' | 'sdk-download';
  /** The SDK environment, when the SDK started the server. */
  env?: TestWorkflowEnvironment;
  stop(): Promise<void>;
}

/** The per-user cache that scripts/install-temporal.sh fills. */
export function cacheDir(): string {
  if (process.env.SAAS_FULFILLMENT_CACHE) return process.env.SAAS_FULFILLMENT_CACHE;
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'saas-fulfillment');
}

export function installedBinary(name: 'temporal' | 'temporal-test-server'): string | undefined {
  const candidate = path.join(cacheDir(), 'bin', name);
  try {
    accessSync(candidate, constants.X_OK);
    return candidate;
  } catch {
    return undefined;
  }
}

/** Polls the server's gRPC API until it answers or the time is up. */
export async function waitForTemporal(address: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`Temporal server at ${address} exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`Temporal server at ${address} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

function spawnLogged(command: string, args: string[], logFile?: string): ChildProcess {
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  return spawn(command, args, { stdio: ['ignore', out, out], detached: false });
}

/** Starts a server process and waits until it answers; stops it again if it never does. */
async function spawnServer(binary: string, args: string[], address: string, timeoutMs: number, logFile?: string): Promise<ChildProcess> {
  const child = spawnLogged(binary, args, logFile);
  try {
    await waitForTemporal(address, timeoutMs, child);
    return child;
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export interface DevServerOptions {
  port?: number;
  /** Web UI port; no UI when undefined. */
  uiPort?: number;
  /** Persist the dev server's state in this SQLite file (kept across restarts). */
  dbFilename?: string;
  logFile?: string;
  startTimeoutMs?: number;
}

/** Starts the Temporal CLI dev server with our search attributes registered. */
export async function startDevServer(options: DevServerOptions = {}): Promise<RunningTemporal> {
  const port = options.port ?? (await freePort());
  const binary = installedBinary('temporal');
  if (binary) {
    const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', 'default', '--log-level', 'warn'];
    if (options.uiPort) args.push('--ui-port', String(options.uiPort));
    else args.push('--headless');
    if (options.dbFilename) {
      mkdirSync(path.dirname(options.dbFilename), { recursive: true });
      args.push('--db-filename', options.dbFilename);
    }
    for (const key of CUSTOM_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
    const address = `127.0.0.1:${port}`;
    const child = await spawnServer(binary, args, address, options.startTimeoutMs ?? 60_000, options.logFile);
    return {
      address,
      uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
      source: 'installed',
      stop: () => stopChild(child),
    };
  }
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: '127.0.0.1',
      port,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      dbFilename: options.dbFilename,
      searchAttributes: [...CUSTOM_SEARCH_ATTRIBUTES],
    },
  });
  return {
    address: env.address,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    source: 'sdk-download',
    env,
    stop: () => env.teardown(),
  };
}

/** Starts the Java time-skipping test server (installed launcher, else the SDK's download). */
export async function startTimeSkippingServer(options: { port?: number; logFile?: string; startTimeoutMs?: number } = {}): Promise<RunningTemporal> {
  const binary = installedBinary('temporal-test-server');
  if (binary) {
    const port = options.port ?? (await freePort());
    const address = `127.0.0.1:${port}`;
    const child = await spawnServer(binary, [String(port)], address, options.startTimeoutMs ?? 120_000, options.logFile);
    return { address, source: 'installed', stop: () => stopChild(child) };
  }
  const env = await TestWorkflowEnvironment.createTimeSkipping();
  return { address: env.address, source: 'sdk-download', env, stop: () => env.teardown() };
}

/**
 * A time-skipping test environment on a server that is already running. The SDK's public
 * factories either start their own server or mark existing ones as not time-skipping;
 * its general `create` takes both settings, so we call it directly.
 */
export async function connectTimeSkippingEnvironment(address: string): Promise<TestWorkflowEnvironment> {
  const create = (TestWorkflowEnvironment as unknown as {
    create(options: {
      server: { type: 'existing' };
      address: string;
      supportsTimeSkipping: boolean;
      namespace?: string;
      connectionOptions?: { channelArgs?: Record<string, number> };
    }): Promise<TestWorkflowEnvironment>;
  }).create.bind(TestWorkflowEnvironment);
  return create({
    server: { type: 'existing' },
    address,
    supportsTimeSkipping: true,
    namespace: 'default',
    // The Java server accepts keepalive pings at most every 5 minutes and answers the client's
    // default 30-second pings with GOAWAY "too many pings"; a call cut off that way can leave
    // the test server's clock locked, after which every skip takes real time.
    connectionOptions: { channelArgs: { 'grpc.keepalive_time_ms': 6 * 60_000, 'grpc.keepalive_permit_without_calls': 0 } },
  });
}
