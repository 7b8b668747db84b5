/**
 * `npm run bench:waiting`: many subscriptions active and waiting on their expiry timers.
 * Pays BENCH_SUBSCRIPTIONS orders (default 10,000) through the API, waits until every one is
 * active, then reports the worker's resident memory (its whole process tree) against the
 * cache size (WORKER_MAX_CACHED_WORKFLOWS, default 1000 here as in production), and the
 * API's latency at a light load while they all wait. Prints figures; asserts nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { installRuntimeLogger } from '../src/platform/temporal/connection';
import { createLogger } from '../src/platform/logger';
import { closedLoop, describeLoad, fmt, line, openLoop } from './ingest/load';
import { startBenchServers } from './ingest/servers';
import { sendOrder, startTheService } from './ingest/service';

const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 10_000);
const CACHE = Number(process.env.WORKER_MAX_CACHED_WORKFLOWS ?? 1000);

/** Resident memory of a process and all its descendants (tsx runs the worker in a child), in MiB. */
function treeRssMiB(pid: number): number {
  const rssKiB = (p: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
  const children = (p: number): number[] =>
    readdirSync(`/proc/${p}/task`).flatMap((task) => readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  let total = 0;
  for (const queue = [pid]; queue.length > 0; ) {
    const p = queue.pop() as number;
    try {
      total += rssKiB(p);
      queue.push(...children(p));
    } catch {
      // The process ended while we looked.
    }
  }
  return total / 1024;
}

async function main(): Promise<void> {
  installRuntimeLogger(createLogger('warn', 'bench'), 'WARN');
  const servers = await startBenchServers();
  const service = await startTheService(servers, { WORKER_MAX_CACHED_WORKFLOWS: String(CACHE) });
  try {
    console.log(`# ${SUBSCRIPTIONS} subscriptions waiting on their expiry — Temporal ${servers.temporalLabel}, worker cache ${CACHE}`);
    line('worker RSS, idle', `${fmt(treeRssMiB(service.workerPid()), 0)} MiB`);
    const run = Date.now().toString(36);
    const started = performance.now();
    const paid = await closedLoop(SUBSCRIPTIONS, 16, (i) => sendOrder(service.apiUrl, `WAIT-${run}-${i}`));
    describeLoad('orders paid through the API', paid);
    const active = await service.waitForActive(SUBSCRIPTIONS, 'WAIT-', started, 3 * 3_600_000);
    line('all active after', `${fmt(active.seconds)} s (${fmt(active.rate)} orders/s)`);
    line('worker RSS, every subscription waiting', `${fmt(treeRssMiB(service.workerPid()), 0)} MiB`);

    // The API while they all wait: a light, steady stream of new orders (a tenth of the paid rate).
    const light = await openLoop(Math.max(1, paid.rate / 10), 15_000, (i) => sendOrder(service.apiUrl, `LIGHT-${run}-${i}`));
    describeLoad('signed order.paid at a light load, all of them waiting', light);
    line('worker RSS after', `${fmt(treeRssMiB(service.workerPid()), 0)} MiB`);
  } finally {
    await service.stop();
    await servers.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
