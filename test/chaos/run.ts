/**
 * One chaos run. Signed `order.paid` webhooks for periodic orders flow through the API (its
 * own process) to subscription workflows run by the worker (its own process), which create
 * instances at the reference merchant; meanwhile
 *   - the merchant fails a share of newInstance calls, half before doing the work (`fail`)
 *     and half after it (`code`: the instance exists, the answer says otherwise);
 *   - the API and the worker are killed with SIGKILL in turn, at seeded random intervals,
 *     each started again after a short pause;
 *   - PostgreSQL is restarted once, part way through the sending;
 *   - the sender redelivers each webhook on a connection error or a 5xx.
 * Then it waits, within a bound, for every create to finish, and checks what verify.ts
 * lists. The create window stays the production 3 hours; only the backoff is shortened.
 *
 * Timing: an activity that was running in a killed worker is noticed only when its 30 s
 * start-to-close timeout passes, so the final wait allows for that after the last kill.
 */
import { randomUUID } from 'node:crypto';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { registerCatalogue } from '../../src/dev/catalogue';
import { startOrderSystemSink } from '../../src/dev/order-system-sink';
import { freePort } from '../../src/dev/ports';
import { seededRandom, startMerchantSim } from '../../src/merchant-sim';
import { DEVELOPMENT_SECRETS } from '../../src/platform/config';
import { SupervisedService } from './processes';
import { sendOrders, type SentOrder } from './sender';
import { startChaosServers } from './servers';
import { gatherEvidence, verify, type Evidence, type ExplainedRepeat, type HistoryFacts } from './verify';

export interface ChaosOptions {
  orders: number;
  seed: number;
  /** The orders are sent evenly over this time; the kills go on until every order is accepted. */
  sendOverMs: number;
  /** Pause between one kill's restart and the next kill, drawn from [min, max]. */
  killGapMs: [number, number];
  /** How long a killed process stays down, drawn from [min, max]. */
  downMs: [number, number];
  /** When PostgreSQL is restarted, as a share of `sendOverMs`, and for how long it stays down. */
  postgresRestartAt: number;
  postgresDownMs: number;
  /** Share of newInstance calls the merchant fails (half `fail`, half `code`). */
  createFailureRate: number;
  /** Bound of the wait, after the last kill, for every create to finish. */
  settleWithinMs: number;
  log?: (line: string) => void;
  /** Aborting it stops everything the run started (the run then fails). */
  signal?: AbortSignal;
}

export interface ChaosReport {
  options: ChaosOptions;
  failures: string[];
  summary: string[];
}

const MERCHANT = { merchantId: 'chaos-merchant', productId: 'chaos-product', accessKey: 'chaos-merchant-access-key' };
/** The production create window (3 h) with a backoff of seconds, so a run ends in minutes. */
const RETRY_POLICY_JSON = JSON.stringify({ create: { initialIntervalMs: 200, maximumIntervalMs: 2000, pollIntervalMs: 500 } });

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const began = Date.now();
  const random = seededRandom(options.seed);
  const between = ([min, max]: [number, number]): number => min + random() * (max - min);
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop().catch((error: unknown) => log(`chaos: stop failed: ${String(error)}`));
  };
  options.signal?.addEventListener('abort', () => void stopAll(), { once: true });

  try {
    const servers = await startChaosServers();
    stops.push(servers.stop);
    const sink = await startOrderSystemSink({ secret: DEVELOPMENT_SECRETS.orderSystemSecret });
    stops.push(sink.close);
    // The merchant's dice come from their own seeded source, apart from the kill schedule's.
    const merchant = await startMerchantSim({ accessKey: MERCHANT.accessKey, random: seededRandom(options.seed ^ 0x5eed) });
    stops.push(merchant.close);
    // Rules are tried in order: `fail` takes half the failure share, `code` the same share of all calls.
    const half = options.createFailureRate / 2;
    merchant.faults.add({ activity: 'newInstance', mode: 'fail', probability: half });
    merchant.faults.add({ activity: 'newInstance', mode: 'code', probability: half / (1 - half) });

    const taskQueue = `chaos-${randomUUID()}`;
    const apiPort = await freePort();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const env = {
      APP_MODE: 'development',
      DATABASE_URL: servers.databaseUrl,
      TEMPORAL_ADDRESS: servers.temporalAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      ORDER_SYSTEM_URL: sink.url,
      PORT: String(apiPort),
      // Migrated once above; a process started while PostgreSQL is down must still come up.
      MIGRATE_ON_START: 'false',
      RETRY_POLICY_JSON,
    };
    const worker = new SupervisedService('worker', env);
    const api = new SupervisedService('api', env);
    stops.push(() => worker.stop(), () => api.stop());
    await Promise.all([worker.start(), api.start()]);
    await registerCatalogue(apiUrl, DEVELOPMENT_SECRETS.operatorToken, {
      merchantId: MERCHANT.merchantId,
      merchantName: 'Chaos merchant',
      productId: MERCHANT.productId,
      productName: 'Chaos product',
      productionUrl: merchant.url,
      accessKey: MERCHANT.accessKey,
    });
    const ready = Date.now();
    log(`# Chaos run: ${options.orders} orders, seed ${options.seed}; Temporal ${servers.temporalLabel}; PostgreSQL ${servers.postgresLabel}`);

    // The sending, the kills and the PostgreSQL restart, all at once.
    const prefix = `CHAOS${options.seed}-${Date.now().toString(36).toUpperCase()}`;
    let sending = true;
    const abort = new AbortController();
    stops.push(async () => abort.abort());
    const sent = sendOrders({
      apiUrl,
      secret: DEVELOPMENT_SECRETS.webhookSecret,
      merchantId: MERCHANT.merchantId,
      productId: MERCHANT.productId,
      prefix,
      orders: options.orders,
      spreadMs: options.sendOverMs,
      deadlineMs: Date.now() + options.sendOverMs + 120_000,
      signal: abort.signal,
    }).finally(() => {
      sending = false;
    });
    const kills = (async () => {
      const order = random() < 0.5 ? [api, worker] : [worker, api];
      for (let k = 0; sending; k += 1) {
        await sleep(between(options.killGapMs));
        if (!sending) break;
        const target = order[k % 2] as SupervisedService;
        await target.kill();
        await sleep(between(options.downMs));
        await target.start();
      }
    })();
    let postgresRestarts = 0;
    let postgresDown = 0;
    let postgresStoppedAt: number | undefined;
    const postgres = (async () => {
      if (!servers.restartPostgres) return;
      await sleep(options.sendOverMs * options.postgresRestartAt);
      const t0 = Date.now();
      postgresStoppedAt = t0;
      await servers.restartPostgres(options.postgresDownMs);
      postgresDown = Date.now() - t0;
      postgresRestarts += 1;
    })();
    const [orders] = await Promise.all([sent, kills, postgres]);
    const chaosEnded = Date.now();
    log(`chaos over after ${seconds(chaosEnded - ready)}: ${api.kills} API and ${worker.kills} worker kills; waiting for the creates to finish`);

    // The bounded wait for every create to finish, then the evidence.
    const db = new PgClient({ connectionString: servers.databaseUrl });
    await db.connect();
    stops.push(() => db.end());
    const connection = await Connection.connect({ address: servers.temporalAddress });
    stops.push(() => connection.close());
    const temporal = new TemporalClient({ connection });
    const settled = await waitUntilSettled({ db, temporal, taskQueue, orders: options.orders, sink, withinMs: options.settleWithinMs });
    const settledAt = Date.now();
    const evidence = await gatherEvidence({ sent: orders, db, temporal, taskQueue, merchant, sink });
    const verdict = verify(evidence);
    const failures = [...(settled ? [] : [`the creates did not all finish within ${seconds(options.settleWithinMs)} of the last kill`]), ...verdict.failures];
    if (failures.length) {
      for (const service of [api, worker]) log(`--- last lines of the ${service.kind} ---\n${service.lastLines()}`);
    }

    const summary = [
      `orders                        ${options.orders} (seed ${options.seed}), merchant failing ${Math.round(options.createFailureRate * 100)} % of newInstance`,
      `kills (SIGKILL)               API ${api.kills}, worker ${worker.kills}; failed restarts ${api.failedStarts + worker.failedStarts}; start times API ${spread(api.startMs)}, worker ${spread(worker.startMs)}`,
      `PostgreSQL restarts           ${servers.restartPostgres ? `${postgresRestarts} (down ${seconds(postgresDown)})` : '0 (skipped: DATABASE_URL names a server this run does not own)'}`,
      `webhook redeliveries          ${describeRedeliveries(orders)}`,
      `merchant calls                ${describeMerchantCalls(merchant.requests())}`,
      `callbacks at the order system ${describeCallbacks(evidence, verdict.explainedRepeats, [
        ...worker.killedAt.map((at) => ({ at, what: 'worker SIGKILLed' })),
        ...(postgresStoppedAt === undefined ? [] : [{ at: postgresStoppedAt, what: 'PostgreSQL stopped' }]),
      ])}`,
      `inside the workflows          ${describeHistories(evidence)}`,
      `wall time                     ${seconds(Date.now() - began)} (start-up ${seconds(ready - began)}, sending under chaos ${seconds(chaosEnded - ready)}, settling ${seconds(settledAt - chaosEnded)}, checks ${seconds(Date.now() - settledAt)})`,
      `result                        ${failures.length ? `${failures.length} FAILURES` : 'every check passed'}`,
    ];
    for (const line of summary) log(line);
    for (const failure of failures.slice(0, 40)) log(`  ✕ ${failure}`);
    if (failures.length > 40) log(`  … and ${failures.length - 40} more`);
    return { options, failures, summary };
  } finally {
    await stopAll();
  }
}

/** Waits until every order line is active, every callback delivered and no workflow has an activity pending. */
async function waitUntilSettled(deps: { db: PgClient; temporal: TemporalClient; taskQueue: string; orders: number; sink: { deliveries(): readonly unknown[] }; withinMs: number }): Promise<boolean> {
  const deadline = Date.now() + deps.withinMs;
  while (Date.now() < deadline) {
    const { rows } = await deps.db.query<{ active: string; delivered: string }>(
      `select (select count(*) from order_lines where status = 'active') as active,
              (select count(*) from order_system_callbacks where status = 'delivered') as delivered`,
    );
    if (Number(rows[0]?.active) >= deps.orders && Number(rows[0]?.delivered) >= deps.orders && (await nothingPending(deps.temporal, deps.taskQueue))) return true;
    await sleep(1000);
  }
  return false;
}

async function nothingPending(temporal: TemporalClient, taskQueue: string): Promise<boolean> {
  for await (const execution of temporal.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) {
    const description = await temporal.workflow.getHandle(execution.workflowId).describe();
    if ((description.raw.pendingActivities ?? []).length > 0) return false;
  }
  return true;
}

function describeRedeliveries(orders: SentOrder[]): string {
  const reasons = new Map<string, number>();
  for (const reason of orders.flatMap((o) => o.retriedFor)) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  const total = orders.reduce((sum, o) => sum + o.deliveries, 0);
  const why = [...reasons].map(([reason, n]) => `${reason === 'connection' ? 'connection error or timeout' : `HTTP ${reason}`} ×${n}`).join(', ');
  return `${total - orders.length} (${total} deliveries of ${orders.length} webhook-ids; ${orders.filter((o) => o.deliveries > 1).length} orders redelivered${why ? `; ${why}` : ''})`;
}

function describeMerchantCalls(requests: ReadonlyArray<{ activity?: string; fault?: string }>): string {
  const byActivity = new Map<string, Map<string, number>>();
  for (const r of requests) {
    const faults = byActivity.get(r.activity ?? '?') ?? new Map<string, number>();
    faults.set(r.fault ?? 'none', (faults.get(r.fault ?? 'none') ?? 0) + 1);
    byActivity.set(r.activity ?? '?', faults);
  }
  return [...byActivity]
    .map(([activity, faults]) => `${activity} ${[...faults.values()].reduce((a, b) => a + b, 0)} (${[...faults].map(([f, n]) => `${f} ${n}`).join(', ')})`)
    .join('; ');
}

/** `disruptions`: what could cut a delivery off between sending and recording it (worker kills, PostgreSQL going down). */
function describeCallbacks(e: Evidence, repeats: ExplainedRepeat[], disruptions: Array<{ at: number; what: string }>): string {
  const provisioned = e.deliveries.filter((d) => d.type === 'instance.provisioned');
  const explained = repeats.map((r) => {
    const first = r.receivedAt[0] ?? 0;
    const next = disruptions.filter((d) => d.at >= first).sort((a, b) => a.at - b.at)[0];
    const cause = next ? `${next.what} ${next.at - first} ms after the first delivery` : 'no kill or restart after it';
    return `${r.orderId} ×${r.receivedAt.length} (${r.webhookId}; at ${r.receivedAt.map(clock).join(', ')}; ${cause}; activity attempts ${r.attempts})`;
  });
  return [
    `${new Set(provisioned.map((d) => d.webhookId)).size} instance.provisioned webhook-ids, ${provisioned.length} raw deliveries, ${e.deliveries.length - provisioned.length} of other types`,
    ...(explained.length ? [`repeated under the same webhook-id and bytes by a retried delivery: ${explained.join('; ')}`] : []),
    `instances stored without app info (their one queryInstance lost or failed) ${e.withoutAppInfo.length}${e.withoutAppInfo.length ? ` (${e.withoutAppInfo.slice(0, 5).join(', ')}${e.withoutAppInfo.length > 5 ? ', …' : ''})` : ''}`,
  ].join('; ');
}

function describeHistories(e: Evidence): string {
  const facts = [...e.histories.values()];
  const sum = (count: (f: HistoryFacts) => number): number => facts.reduce((total, f) => total + count(f), 0);
  const tally = (types: string[]): string => {
    const counts = new Map<string, number>();
    for (const type of types) counts.set(type, (counts.get(type) ?? 0) + 1);
    return [...counts].map(([type, n]) => `${type} ${n}`).join(', ') || 'none';
  };
  return [
    `${facts.length} workflows`,
    `order.paid signalled again to a running workflow (ignored there) ${sum((f) => Math.max(0, f.orderPaidSignals - 1))}`,
    `workflow tasks timed out ${sum((f) => f.workflowTaskTimeouts)}`,
    `merchant calls timed out (lost with a killed worker; retried by the workflow): ${tally(facts.flatMap((f) => f.timedOut))}`,
    `activities that succeeded on a later attempt: ${tally(facts.flatMap((f) => f.retried))}`,
  ].join('; ');
}

const spread = (values: number[]): string => (values.length ? `${seconds(Math.min(...values))}–${seconds(Math.max(...values))}` : 'n/a');
const clock = (epochMs: number): string => new Date(epochMs).toISOString().slice(11, 23);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
