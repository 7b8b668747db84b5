/**
 * The reference merchant answers the dial tests' debug calls (testFlag=1, spec §1.6): the same
 * mock order's create → query → release replayed twice (as two runs a day do) passes both
 * times, and its fault injection can make a debug call fail.
 */
import { createHttpMerchantClient, type MerchantEndpoint } from '../../src/clients/merchant';
import { startMerchantSim, type MerchantSim } from '../../src/merchant-sim';

const ACCESS_KEY = 'dial-test-access-key';
const client = createHttpMerchantClient({ timeoutMs: 5_000 });
let sim: MerchantSim;
let endpoint: MerchantEndpoint;

beforeAll(async () => {
  sim = await startMerchantSim({ accessKey: ACCESS_KEY, port: 0 });
  endpoint = { merchantId: 'M-dial', productionUrl: sim.url, accessKey: ACCESS_KEY };
});
afterAll(async () => sim.close());

async function replay(businessId: string): Promise<Array<{ resultCode?: unknown; instanceId?: unknown }>> {
  const post = async (body: Parameters<typeof client.post>[1]) => (await client.post(endpoint, body)).json as { resultCode?: unknown; instanceId?: unknown };
  const created = await post({ activity: 'newInstance', orderId: 'MOCKPERIODYEARNEW', orderLineId: 'MOCKPERIODYEARNEW-000001', businessId, testFlag: '1' });
  const instanceId = String(created.instanceId);
  const queried = await post({ activity: 'queryInstance', instanceId, testFlag: '1' });
  const released = await post({ activity: 'releaseInstance', instanceId, testFlag: '1' });
  return [created, queried, released];
}

describe('the reference merchant and debug calls', () => {
  it('when the same mock order is created, queried and released twice, then both replays pass, each on a new instance', async () => {
    const first = await replay('biz-dial-1');
    const second = await replay('biz-dial-2');
    expect(first.map((a) => a.resultCode)).toEqual(['000000', '000000', '000000']);
    expect(second.map((a) => a.resultCode)).toEqual(['000000', '000000', '000000']);
    expect(first[0]?.instanceId).toBe('biz-dial-1');
    expect(second[0]?.instanceId).toBe('biz-dial-2');
  });

  it('when a production create of a released instance\'s order comes again, then it still answers that instance (only debug calls start over)', async () => {
    const post = async (body: Parameters<typeof client.post>[1]) => (await client.post(endpoint, body)).json as { resultCode?: unknown; instanceId?: unknown };
    const created = await post({ activity: 'newInstance', orderId: 'CS-REAL-1', orderLineId: 'CS-REAL-1-000001', businessId: 'biz-real-1' });
    await post({ activity: 'releaseInstance', instanceId: String(created.instanceId) });
    const again = await post({ activity: 'newInstance', orderId: 'CS-REAL-1', orderLineId: 'CS-REAL-1-000001', businessId: 'biz-real-2' });
    expect(again.instanceId).toBe('biz-real-1');
  });

  it('when a fault rule is set for queryInstance, then the debug query fails with its code', async () => {
    sim.faults.add({ activity: 'queryInstance', mode: 'fail', resultCode: '000005', times: 1 });
    const answers = await replay('biz-dial-3');
    expect(answers.map((a) => a.resultCode)).toEqual(['000000', '000005', '000000']);
  });
});
