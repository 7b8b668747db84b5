/**
 * `npm run bench:ingest`: the hot path measured against its limits, in one run, on one
 * Temporal server and one PostgreSQL:
 *
 *   raw signalWithStart (no worker)          vs  signed order.paid webhooks through the API
 *   a one-activity workflow's completions/s  vs  paid orders made active per second
 *   one bare activity round trip             vs  paid → active at light load
 *
 * The API and the worker run as their own processes, as in production. Ingest is measured
 * twice: with the worker paused (the API's own cost against Temporal's, as when they do not
 * share two cores; the creates run once the worker is back) and with the worker running
 * beside it. TEMPORAL_ADDRESS and
 * DATABASE_URL point it at servers you run (a Temporal server on PostgreSQL, say); otherwise
 * it starts a dev server (SQLite file, as `npm start` does) and an embedded PostgreSQL.
 * BENCH_ORDERS sets the batch size (default 400). Prints figures and ratios; asserts nothing.
 * Beside the raw and the ingest rates it prints CPU ms per order of each process on this
 * machine (Temporal, PostgreSQL, the API, this process): where an order's cost goes, a figure
 * that moves far less than rates do on two shared cores.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { installRuntimeLogger } from '../../src/platform/temporal/connection';
import { createLogger } from '../../src/platform/logger';
import { startBenchServers } from './servers';
import { pidsMatching, processTrees, startCpuMeter, thisProcess, type Roles } from './cpu';
import { closedLoop, describeLoad, fmt, goal, line, openLoop, percentile } from './load';
import { sendOrder, startTheService } from './service';
import { pokeSignal } from './workflows';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 400);
const CONCURRENCY = 16;
const LIGHT_LOAD_SAMPLES = 30;

async function main(): Promise<void> {
  installRuntimeLogger(createLogger('warn', 'bench'), 'WARN');
  const servers = await startBenchServers();
  const stops: Array<() => Promise<void>> = [servers.stop];
  try {
    const connection = await Connection.connect({ address: servers.temporalAddress });
    stops.unshift(() => connection.close());
    const client = new Client({ connection });
    console.log(`# Ingest and create path — Temporal ${servers.temporalLabel}, PostgreSQL ${servers.postgresLabel}, ${os.cpus().length} cores`);

    console.log('\n## Limits (same servers, no application code)');
    const serverRoles = serverCpu(servers);
    const rawCpu = startCpuMeter(serverRoles);
    const raw = await rawSignalWithStart(client);
    describeLoad(`raw signalWithStart, ${CONCURRENCY} concurrent`, raw);
    rawCpu('raw signalWithStart', raw.count);
    const { completions, roundTrip } = await oneActivityWorkflow(client, servers.temporalAddress);
    describeLoad(`one-activity workflow completions, ${CONCURRENCY} concurrent starters`, completions);
    describeLoad('one bare activity round trip (start → result), one at a time', roundTrip);

    console.log('\n## The service (API and worker in their own processes, reference merchant)');
    const service = await startTheService(servers);
    stops.unshift(service.stop);
    const run = Date.now().toString(36);
    const send = (i: number, tag: string): Promise<void> => sendOrder(service.apiUrl, `${tag}${run}-${i}`);

    // Ingest alone: the worker paused, as when the API and the worker do not share two cores;
    // the orders' creates wait in Temporal and run once the worker is back.
    await service.pauseWorker();
    const ingestCpu = startCpuMeter({ ...serverRoles, api: processTrees(() => [service.apiPid()]) });
    const full = await closedLoop(ORDERS, CONCURRENCY, (i) => send(i, 'FULL-'));
    describeLoad(`signed order.paid webhooks, ${CONCURRENCY} concurrent, worker paused`, full);
    ingestCpu('order.paid webhooks', full.count);
    const half = await openLoop(full.rate / 2, 10_000, (i) => send(i, 'HALF-'));
    describeLoad(`the same at half that rate (${fmt(full.rate / 2)} /s), worker paused`, half);
    const resumedFrom = performance.now();
    await service.resumeWorker();
    await service.waitForActive(full.count, 'FULL-', resumedFrom);
    await service.waitForActive(half.count, 'HALF-', resumedFrom);
    line('paid orders made active per second (the backlog, worker back)', `${fmt((full.count + half.count) / ((performance.now() - resumedFrom) / 1000))} /s`);

    // Ingest and creates together on the same two cores, as `npm start` runs them.
    const mixedFrom = performance.now();
    const mixed = await closedLoop(ORDERS, CONCURRENCY, (i) => send(i, 'MIXED-'));
    describeLoad(`signed order.paid webhooks, ${CONCURRENCY} concurrent, worker running`, mixed);
    const activeMixed = await service.waitForActive(mixed.count, 'MIXED-', mixedFrom);
    line('paid orders made active per second (first paid → last active)', `${fmt(activeMixed.rate)} /s over ${fmt(activeMixed.seconds)} s`);

    const light: number[] = [];
    for (let i = 0; i < LIGHT_LOAD_SAMPLES; i += 1) {
      const orderId = `LIGHT-${run}-${i}`;
      const t0 = performance.now();
      await sendOrder(service.apiUrl, orderId);
      await service.provisioned(orderId);
      light.push(performance.now() - t0);
    }
    light.sort((a, b) => a - b);
    line('paid → active (provisioned callback), one at a time', `p50 ${fmt(percentile(light, 50))} ms   p99 ${fmt(percentile(light, 99))} ms`);

    console.log('\n## Goals (ratios against the limits above)');
    goal('ingest rate / raw signalWithStart rate (worker paused)', full.rate / raw.rate, '≥ 0.80', full.rate / raw.rate >= 0.8);
    line('  the same with the worker running (not a goal: two cores shared)', fmt(mixed.rate / raw.rate, 2));
    const halfP99 = percentile(half.latencies, 99);
    goal('API p99 at half load / 50 ms (worker paused)', halfP99 / 50, '≤ 1.00', halfP99 <= 50);
    goal('orders made active per s / one-activity completions per s', activeMixed.rate / completions.rate, '≥ 0.50', activeMixed.rate / completions.rate >= 0.5);
    const latencyRatio = percentile(light, 50) / percentile(roundTrip.latencies, 50);
    goal('paid → active p50 / bare activity round trip p50', latencyRatio, '≤ 2.00', latencyRatio <= 2);
    line('instances created at the reference merchant', `${service.merchantCalls()}`);
    line('bench process RSS', `${fmt(process.memoryUsage().rss / 1024 / 1024, 0)} MiB`);
  } finally {
    for (const stop of stops) await stop().catch((error: unknown) => console.error('stop failed:', error));
  }
}

/**
 * The servers' and this process's CPU, for the per-order figures. The servers are found by
 * the ports they listen on when they run on this machine (the dev server and an embedded
 * PostgreSQL name theirs on the command line; a Temporal server on PostgreSQL, started by
 * `npm run temporal:postgres`, is `temporal-server`).
 */
function serverCpu(servers: { temporalAddress: string; databaseUrl: string }): Roles {
  const temporalPort = servers.temporalAddress.split(':').pop();
  const postgresPort = new URL(servers.databaseUrl).port || '5432';
  return {
    temporal: processTrees(() => pidsMatching(new RegExp(`start-dev .*--port ${temporalPort}\\b|temporal-server .*start`))),
    postgres: processTrees(() => pidsMatching(new RegExp(`bin/postgres .*-p ${postgresPort}\\b`))),
    bench: thisProcess,
  };
}

/** signalWithStart on a task queue that no worker polls: the server's own cost of taking an event in. */
async function rawSignalWithStart(client: Client): Promise<Awaited<ReturnType<typeof closedLoop>>> {
  const taskQueue = `bench-raw-${randomUUID()}`;
  const result = await closedLoop(ORDERS, CONCURRENCY, async (i) => {
    await client.workflow.signalWithStart('benchSignalled', { workflowId: `bench-raw-${taskQueue}-${i}`, taskQueue, signal: pokeSignal, signalArgs: [{ i }] });
  });
  // Leave nothing for the server to keep: these never run.
  await Promise.all(Array.from({ length: ORDERS }, (_, i) => client.workflow.getHandle(`bench-raw-${taskQueue}-${i}`).terminate('benchmark done').catch(() => undefined)));
  return result;
}

/** A worker in this process runs the one-activity workflow; completions/s with 16 starters, and one at a time for latency. */
async function oneActivityWorkflow(client: Client, address: string) {
  const taskQueue = `bench-one-activity-${randomUUID()}`;
  const { NativeConnection } = await import('@temporalio/worker');
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowsPath: path.join(__dirname, 'workflows.ts'),
    activities: { benchNoop: async () => undefined },
  });
  try {
    return await worker.runUntil(async () => {
      const run = (id: string): Promise<void> => client.workflow.execute('benchOneActivity', { workflowId: id, taskQueue });
      await run(`warm-${taskQueue}`);
      const completions = await closedLoop(ORDERS, CONCURRENCY, (i) => run(`bench-one-${taskQueue}-${i}`));
      const roundTrip = await closedLoop(LIGHT_LOAD_SAMPLES, 1, (i) => run(`bench-rt-${taskQueue}-${i}`));
      return { completions, roundTrip };
    });
  } finally {
    await nativeConnection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
