/**
 * A time-skipping suite whose workflows run the REAL activities: a test server of the suite's
 * own (workflowSuite), the API on real PostgreSQL (apiHarness), the reference merchant over
 * HTTP with its fault rules (cleared after each test), and one workflow bundle. A test builds
 * the activities it needs from `h` and `sim` and runs them in a worker with `withWorker`.
 * The suites live in the api project because they need PostgreSQL.
 */
import path from 'node:path';
import request from 'supertest';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startMerchantSim, type MerchantSim } from '../../src/merchant-sim';
import { apiHarness, uniqueId, type ApiHarness, type ApiHarnessOptions } from './api-harness';
import { workflowSuite, type WorkflowSuite } from './workflow-env';

export interface RealActivitiesSuite {
  readonly suite: WorkflowSuite;
  readonly h: ApiHarness;
  readonly sim: MerchantSim;
  /** The operator's headers for the API. */
  operator(): Record<string, string>;
  /** A fresh merchant at the reference merchant's URL with one monthly product, registered through the operator routes. */
  merchantWithProduct(name: string): Promise<{ merchantId: string; productId: string }>;
  /** Runs `work` while a worker serves `activities` on `taskQueue` (a fresh one by default) of the suite's server. */
  withWorker<T>(activities: object, work: (taskQueue: string) => Promise<T>, taskQueue?: string): Promise<T>;
  /** The merchant's and product's listing states, and the merchant's listing changes in order. */
  listing(merchantId: string, productId: string): Promise<Listing>;
}

export interface Listing {
  merchant: string;
  product: string;
  changes: Array<{ target: string; from_state: string; to_state: string; actor: string; reason: string }>;
}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

/**
 * Registers the suite's hooks. `harness` gives the API harness's options once the suite's
 * server is up (e.g. a subscription gateway on that server, so order.paid starts workflows there).
 */
export function realActivitiesSuite(options: { ownServer: string; accessKey: string; harness?: (suite: WorkflowSuite) => ApiHarnessOptions }): RealActivitiesSuite {
  const suite = workflowSuite({ ownServer: options.ownServer });
  let h: ApiHarness | undefined;
  let sim: MerchantSim | undefined;
  let bundle: WorkflowBundleWithSourceMap | undefined;
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the real-activities suite is used before its beforeAll ran');
    return value;
  };

  beforeAll(async () => {
    h = await apiHarness({}, options.harness?.(suite));
    sim = await startMerchantSim({ accessKey: options.accessKey, port: 0 });
    bundle = await bundleWorkflowCode({ workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'), logger: quiet });
  });

  afterAll(async () => {
    await sim?.close();
    await h?.close();
  });

  afterEach(() => sim?.faults.clear());

  const operator = () => ({ authorization: `Bearer ${ready(h).config.operatorToken}`, 'x-operator': 'alice' });

  return {
    suite,
    get h() {
      return ready(h);
    },
    get sim() {
      return ready(sim);
    },
    operator,
    async merchantWithProduct(name) {
      const merchantId = uniqueId('M');
      const productId = uniqueId('P');
      const { app } = ready(h);
      await request(app).put(`/v1/merchants/${merchantId}`).set(operator()).send({ name, productionUrl: ready(sim).url, protocolVersion: 'v2', accessKey: options.accessKey }).expect(201);
      await request(app).put(`/v1/merchants/${merchantId}/products/${productId}`).set(operator()).send({ name: 'Monthly', chargingMode: 'PERIOD', retentionDays: 7 }).expect(201);
      return { merchantId, productId };
    },
    async withWorker(activities, work, taskQueue = `${options.ownServer}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`) {
      const worker = await Worker.create({ connection: suite.env.nativeConnection, taskQueue, workflowBundle: ready(bundle), activities });
      return worker.runUntil(work(taskQueue));
    },
    async listing(merchantId, productId) {
      const { db } = ready(h);
      const { rows } = await db.query<{ merchant: string; product: string }>(
        `select m.listing_state as merchant, p.listing_state as product from merchants m join products p on p.merchant_id = m.merchant_id where p.product_id = $1`,
        [productId],
      );
      const changes = await db.query<Listing['changes'][number]>(
        `select target_type as target, from_state, to_state, actor, reason from listing_changes where merchant_id = $1 order by change_id`,
        [merchantId],
      );
      return { ...(rows[0] as { merchant: string; product: string }), changes: changes.rows };
    },
  };
}
