/**
 * Dial tests day by day (spec §4): merchantDialTestsWorkflow on a time-skipping server of this
 * suite's own, its clock moved a day between runs, with the real activities on real
 * PostgreSQL and the reference merchant over HTTP (its fault injection makes the debug query
 * fail). Five failed days in a row hide the product and freeze trading; a passing day lifts
 * what the dial tests did, and only that. In the api project because it needs PostgreSQL.
 */
import request from 'supertest';
import { createDialTestActivities } from '../../src/activities/governance/dial-tests';
import { createNotificationActivities } from '../../src/activities/notices/notifications';
import { createHttpMerchantClient } from '../../src/clients/merchant';
import { createMerchantDirectory } from '../../src/clients/merchant-directory';
import type { MerchantSim } from '../../src/merchant-sim';
import { FulfillmentStatusAttribute, MerchantIdAttribute } from '../../src/shared/search-attributes';
import { dialTestRunKey, merchantDialTestsWorkflowId, type MerchantDialTestsResult } from '../../src/workflows/governance/dial-tests/messages';
import { merchantDialTestsWorkflow } from '../../src/workflows/governance/dial-tests/workflow';
import { uniqueId, type ApiHarness } from '../helpers/api-harness';
import { recordHistory } from '../helpers/histories';
import { realActivitiesSuite } from '../helpers/real-activities-suite';
import { DAY_MS } from '../helpers/workflow-env';

const stack = realActivitiesSuite({ ownServer: 'dial-tests', accessKey: 'dial-test-merchant-key' });
const { suite, operator, listing } = stack;
const merchantWithProduct = () => stack.merchantWithProduct('Dialled merchant');
let h: ApiHarness;
let sim: MerchantSim;

beforeAll(() => {
  h = stack.h;
  sim = stack.sim;
});

/** Runs `work` with a worker serving the real dial-test and notice activities on this test's task queue. */
function withWorker<T>(work: (taskQueue: string) => Promise<T>): Promise<T> {
  const merchantClient = createHttpMerchantClient({ timeoutMs: 5_000 });
  const activities = {
    ...createDialTestActivities({ db: h.db, merchants: createMerchantDirectory(h.db, h.encryptor), merchantClient }),
    ...createNotificationActivities({ db: h.db }),
  };
  return stack.withWorker(activities, work);
}

/** One run of the merchant's dial tests at the server's time, then the clock a day on. */
async function dialDay(taskQueue: string, merchantId: string, productIds: string[], record?: string): Promise<MerchantDialTestsResult & { workflowId: string; shown: string | undefined }> {
  const runAtMs = await suite.env.currentTimeMs();
  const workflowId = merchantDialTestsWorkflowId(merchantId, dialTestRunKey(runAtMs));
  suite.started.push(workflowId);
  const result = await suite.client.workflow.execute(merchantDialTestsWorkflow, { workflowId, taskQueue, args: [{ merchantId, productIds, runAtMs, failedDaysToFreeze: 5 }] });
  const described = await suite.client.workflow.getHandle(workflowId).describe();
  expect(described.typedSearchAttributes.get(MerchantIdAttribute)).toBe(merchantId);
  if (record) await recordHistory(suite.client, workflowId, record, 'merchant-dial-tests');
  await suite.env.sleep(DAY_MS);
  return { ...result, workflowId, shown: described.typedSearchAttributes.get(FulfillmentStatusAttribute) };
}

const subjects = async (merchantId: string): Promise<string[]> =>
  (await h.db.query<{ subject: string }>(`select subject from notifications where recipient_type = 'merchant' and recipient_id = $1 order by notification_id`, [merchantId])).rows.map((r) => r.subject);

describe('dial tests over days', () => {
  it('when the dial tests fail 5 days in a row, then the product is hidden and trading frozen; a passing day lifts both', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    sim.faults.add({ activity: 'queryInstance', mode: 'fail', resultCode: '000005' });

    await withWorker(async (taskQueue) => {
      for (let day = 1; day <= 4; day += 1) {
        const run = await dialDay(taskQueue, merchantId, [productId]);
        expect(run.products).toEqual([{ productId, passed: false, failedDays: day, action: 'none' }]);
        expect(run.shown).toBe('dial-tests:failed');
      }
      expect(await listing(merchantId, productId)).toMatchObject({ merchant: 'active', product: 'on_sale', changes: [] });

      const fifth = await dialDay(taskQueue, merchantId, [productId], 'frozen');
      expect(fifth.products).toEqual([{ productId, passed: false, failedDays: 5, action: 'frozen' }]);
      expect(fifth.shown).toBe('dial-tests:frozen');
      const frozen = await listing(merchantId, productId);
      expect(frozen).toMatchObject({ merchant: 'trading_frozen', product: 'hidden' });
      expect(frozen.changes).toEqual([
        { target: 'product', from_state: 'on_sale', to_state: 'hidden', actor: 'dial-tests', reason: expect.stringContaining('dial tests failed 5 consecutive days') },
        { target: 'merchant', from_state: 'active', to_state: 'trading_frozen', actor: 'dial-tests', reason: expect.stringContaining(productId) },
      ]);
      const notices = await subjects(merchantId);
      expect(notices.filter((s) => s.startsWith('Dial test failed'))).toHaveLength(5);
      expect(notices.filter((s) => s.startsWith('Trading frozen'))).toHaveLength(1);

      const report = await request(h.app).get(`/v1/merchants/${merchantId}/products/${productId}/dial-tests?days=14`).set(operator()).expect(200);
      expect(report.body).toMatchObject({ failedDays: 5, cases: 'default', sanction: { failedDays: 5, productHidden: true, merchantFrozen: true, liftedRunId: null } });
      expect(report.body.days).toHaveLength(5);
      expect(report.body.results).toHaveLength(15);
      expect(report.body.results.filter((r: { caseKind: string; ok: boolean }) => r.caseKind === 'query' && !r.ok)).toHaveLength(5);
      expect(report.body.results.find((r: { caseKind: string }) => r.caseKind === 'query')).toMatchObject({ resultCode: '000005', error: expect.any(String) });

      sim.faults.clear();
      const sixth = await dialDay(taskQueue, merchantId, [productId], 'lifted');
      expect(sixth.products).toEqual([{ productId, passed: true, failedDays: 0, action: 'lifted' }]);
      expect(sixth.shown).toBe('dial-tests:passed');
      const lifted = await listing(merchantId, productId);
      expect(lifted).toMatchObject({ merchant: 'active', product: 'on_sale' });
      expect(lifted.changes.slice(2).map((c) => [c.target, c.to_state, c.actor])).toEqual([
        ['product', 'on_sale', 'dial-tests'],
        ['merchant', 'active', 'dial-tests'],
      ]);
      expect((await subjects(merchantId)).filter((s) => s.includes('pass again'))).toHaveLength(1);
    });
    // Every debug call reached the merchant signed and with testFlag 1.
    const debugCalls = sim.store.requests().filter((r) => r.body.includes(productId) || r.body.includes('MOCKPERIODYEARNEW'));
    expect(debugCalls.length).toBeGreaterThan(0);
    expect(debugCalls.every((r) => r.verify === 'ok' && JSON.parse(r.body).testFlag === '1')).toBe(true);
  });

  it('when two products froze the merchant, then the first one passing again leaves trading frozen until the second passes too', async () => {
    const { merchantId, productId: first } = await merchantWithProduct();
    const second = uniqueId('P');
    await request(h.app).put(`/v1/merchants/${merchantId}/products/${second}`).set(operator()).send({ name: 'Yearly', chargingMode: 'PERIOD', retentionDays: 7 }).expect(201);
    // The second product's saved query names an instance the merchant does not know: it fails until its cases are fixed.
    const brokenCases = { create: { orderId: 'MOCKMONTYRENEW', orderLineId: 'MOCKMONTYRENEW-000001' }, query: { instanceId: 'no-such-instance' } };
    await request(h.app).put(`/v1/merchants/${merchantId}/products/${second}/dial-test-cases`).set(operator()).send(brokenCases).expect(200);
    sim.faults.add({ activity: 'queryInstance', mode: 'fail', resultCode: '000005' });

    await withWorker(async (taskQueue) => {
      for (let day = 1; day <= 5; day += 1) await dialDay(taskQueue, merchantId, [first, second]);
      expect((await listing(merchantId, first)).merchant).toBe('trading_frozen');
      sim.faults.clear();
      const sixth = await dialDay(taskQueue, merchantId, [first, second]);
      expect(sixth.products.map((p) => [p.productId, p.passed, p.action])).toEqual([
        [first, true, 'lifted'],
        [second, false, 'none'],
      ]);
      expect(await listing(merchantId, first)).toMatchObject({ merchant: 'trading_frozen', product: 'on_sale' });
      expect((await listing(merchantId, second)).product).toBe('hidden');

      await request(h.app).put(`/v1/merchants/${merchantId}/products/${second}/dial-test-cases`).set(operator()).send({ create: brokenCases.create }).expect(200);
      const seventh = await dialDay(taskQueue, merchantId, [first, second]);
      expect(seventh.products.map((p) => p.action)).toEqual(['none', 'lifted']);
    });
    expect(await listing(merchantId, second)).toMatchObject({ merchant: 'active', product: 'on_sale' });
  });

  it('when an operator froze the merchant first, then the dial tests hide the product but a pass leaves the operator\'s freeze', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    await request(h.app).post(`/v1/merchants/${merchantId}/listing`).set(operator()).send({ state: 'trading_frozen', reason: 'unpaid fine' }).expect(200);
    sim.faults.add({ activity: 'newInstance', mode: 'http-error', httpStatus: 502 });

    await withWorker(async (taskQueue) => {
      for (let day = 1; day <= 5; day += 1) await dialDay(taskQueue, merchantId, [productId]);
      expect(await listing(merchantId, productId)).toMatchObject({ merchant: 'trading_frozen', product: 'hidden' });
      sim.faults.clear();
      const pass = await dialDay(taskQueue, merchantId, [productId]);
      expect(pass.products[0]).toMatchObject({ passed: true, action: 'lifted' });
    });
    const after = await listing(merchantId, productId);
    expect(after).toMatchObject({ merchant: 'trading_frozen', product: 'on_sale' });
    expect(after.changes.map((c) => [c.target, c.to_state, c.actor])).toEqual([
      ['merchant', 'trading_frozen', 'alice'],
      ['product', 'hidden', 'dial-tests'],
      ['product', 'on_sale', 'dial-tests'],
    ]);
  });

  it('when an operator lifts the freeze by hand, then the next failing day does not freeze again, and the later pass changes nothing of theirs', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    sim.faults.add({ activity: 'releaseInstance', mode: 'fail', resultCode: '000005' });

    await withWorker(async (taskQueue) => {
      for (let day = 1; day <= 5; day += 1) await dialDay(taskQueue, merchantId, [productId]);
      await request(h.app).post(`/v1/merchants/${merchantId}/listing`).set(operator()).send({ state: 'active', reason: 'merchant is fixing it' }).expect(200);
      await request(h.app).post(`/v1/merchants/${merchantId}/products/${productId}/listing`).set(operator()).send({ state: 'on_sale', reason: 'merchant is fixing it' }).expect(200);

      const sixth = await dialDay(taskQueue, merchantId, [productId]);
      expect(sixth.products[0]).toMatchObject({ passed: false, failedDays: 6, action: 'none' });
      expect(await listing(merchantId, productId)).toMatchObject({ merchant: 'active', product: 'on_sale' });

      sim.faults.clear();
      const seventh = await dialDay(taskQueue, merchantId, [productId]);
      expect(seventh.products[0]).toMatchObject({ passed: true, action: 'lifted' });
    });
    const after = await listing(merchantId, productId);
    expect(after.changes.map((c) => c.actor)).toEqual(['dial-tests', 'dial-tests', 'alice', 'alice']);
  });
});
