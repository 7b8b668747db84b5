/**
 * A real Temporal server (not the dev server) on PostgreSQL, in the foreground until
 * SIGINT/SIGTERM, for measuring against the persistence production uses: run it through
 * `npm run temporal:postgres [-- --port 7243]` (scripts/temporal-postgres.sh, which builds the
 * binaries), then point `TEMPORAL_ADDRESS=127.0.0.1:<port>` at it.
 *
 *   --port N          frontend gRPC port (default 7233, like the dev server)
 *   TEMPORAL_DB_URL   postgres://user:password@host:port of a PostgreSQL to use; the databases
 *                     temporal and temporal_visibility are created there when missing and kept.
 *                     Without it, an embedded PostgreSQL on a free port, deleted on exit.
 *
 * Everything else (config, log, embedded data) is in a scratch folder, deleted on exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres';
import { isListening } from '../../src/dev/ports';
import { cacheDir, waitForTemporal } from '../../src/dev/temporal-servers';
import { choosePorts, writeServerConfig, type TemporalDatabase } from './config';
import { prepareNamespace } from './namespace';
import { setUpTemporalDatabases } from './schema';

// The sample config's shard count; the design's measurements were taken with it.
const HISTORY_SHARDS = 4;
const log = (message: string): void => console.error(`[temporal-postgres] ${message}`);

function frontendPort(argv: string[]): number {
  const at = argv.indexOf('--port');
  const port = Number(at >= 0 ? argv[at + 1] : 7233);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`--port wants a TCP port, got ${argv[at + 1]}`);
  return port;
}

function databaseFromUrl(url: string): TemporalDatabase {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}

function binary(name: string): string {
  const file = path.join(cacheDir(), 'bin', name);
  if (!existsSync(file)) throw new Error(`${file} is missing: start this through npm run temporal:postgres, which builds it`);
  return file;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  // The server drains its shards on SIGTERM; give it a while before cutting it off.
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<void> {
  const port = frontendPort(process.argv.slice(2));
  const serverSource = process.env.TEMPORAL_SERVER_SOURCE;
  if (!serverSource) throw new Error('TEMPORAL_SERVER_SOURCE (the server module folder) is not set: start this through npm run temporal:postgres');
  if (await isListening(port)) throw new Error(`something already listens on 127.0.0.1:${port}; choose another with --port`);

  // What to stop, last started first. A signal during start-up is acted on between steps
  // (the longest is the namespace cache refresh, about 10 s), so that nothing started is left
  // behind; once the server is ready, a signal stops everything at once.
  const stops: Array<() => Promise<void>> = [];
  const onStop = (stop: () => Promise<void>): void => void stops.push(stop);
  const stopAll = async (): Promise<void> => {
    for (let stop = stops.pop(); stop; stop = stops.pop()) await stop().catch((error: unknown) => log(`stop failed: ${String(error)}`));
  };
  let ready = false;
  let stopping = false;
  const checkpoint = (): void => {
    if (stopping) throw new Error('interrupted during start-up');
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: stopping the server (and the embedded PostgreSQL, if any)`);
      if (ready) void stopAll().then(() => process.exit(0));
    });
  }

  const scratch = mkdtempSync(path.join(os.tmpdir(), 'saas-fulfillment-temporal-pg-'));
  // As root, the embedded PostgreSQL runs as the `postgres` account, which must reach its data here.
  chmodSync(scratch, 0o755);
  onStop(async () => rmSync(scratch, { recursive: true, force: true }));
  const logFile = path.join(scratch, 'temporal.log');
  try {
    let database: TemporalDatabase;
    if (process.env.TEMPORAL_DB_URL) {
      database = databaseFromUrl(process.env.TEMPORAL_DB_URL);
      log(`PostgreSQL from TEMPORAL_DB_URL at ${database.host}:${database.port}`);
    } else {
      const postgres = await startEmbeddedPostgres({ dataDir: path.join(scratch, 'postgres'), persistent: false });
      onStop(postgres.stop);
      checkpoint();
      database = databaseFromUrl(postgres.urlFor('postgres'));
      log(`embedded PostgreSQL on 127.0.0.1:${database.port}`);
    }
    await setUpTemporalDatabases({ sqlTool: binary('temporal-sql-tool'), serverSource, database, log });
    checkpoint();

    const ports = await choosePorts(port);
    writeServerConfig({ serverSource, root: scratch, database, ports, historyShards: HISTORY_SHARDS, logLevel: 'warn' });
    const out = openSync(logFile, 'a');
    const server = spawn(binary('temporal-server'), ['--root', scratch, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], {
      stdio: ['ignore', out, out],
    });
    onStop(() => stopChild(server));
    const address = `127.0.0.1:${port}`;
    await waitForTemporal(address, 120_000, server);
    checkpoint();
    await prepareNamespace(address, log);
    checkpoint();

    server.once('exit', (code, signal) => {
      if (stopping) return;
      stopping = true;
      log(`the server exited on its own (code ${code}, signal ${signal}); last lines of its log:\n${tail(logFile)}`);
      void stopAll().then(() => process.exit(1));
    });
    ready = true;
    console.log(`Temporal server on PostgreSQL ready: TEMPORAL_ADDRESS=${address} (namespace default, ${HISTORY_SHARDS} history shards, log ${logFile}); Ctrl-C stops it.`);
  } catch (error) {
    if (existsSync(logFile)) log(`last lines of the server log:\n${tail(logFile)}`);
    await stopAll();
    throw error;
  }
}

function tail(file: string, lines = 30): string {
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

main().catch((error: unknown) => {
  log(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
