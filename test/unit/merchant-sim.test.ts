/**
 * The reference merchant over real HTTP (port 0, global fetch): signature checks, the
 * activities' idempotency, asynchronous provisioning, fault injection (probabilistic rules
 * included) and the control API.
 */
import { computeV2Signature, newNonce, signedUrl, signV2Request, type V2SignatureParams } from '../../src/protocol';
import { seededRandom, startMerchantSim, type MerchantSim, type MerchantSimOptions } from '../../src/merchant-sim';
import { until } from '../helpers/until';

const ACCESS_KEY = 'test-access-key-123';
const CONTROL_TOKEN = 'test-control-token';

interface Answer {
  status: number;
  text: string;
  json: Record<string, unknown>;
  elapsedMs: number;
}

/** Posts a body signed the way the marketplace signs it; `sign` overrides the signature parameters. */
async function call(
  sim: MerchantSim,
  body: object | string,
  sign: { accessKey?: string; params?: V2SignatureParams } = {},
): Promise<Answer> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const params = sign.params ?? signV2Request(sign.accessKey ?? ACCESS_KEY, raw);
  const started = Date.now();
  const response = await fetch(signedUrl(sim.url, params), {
    method: 'POST',
    headers: { 'content-type': 'application/json;charset=utf8' },
    body: raw,
  });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Left empty: the malformed-fault test asserts on `text`.
  }
  return { status: response.status, text, json, elapsedMs: Date.now() - started };
}

function control(sim: MerchantSim, method: string, path: string, body?: unknown, token = CONTROL_TOKEN) {
  return fetch(sim.url.replace('/saasproduce', `/_control${path}`), {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

let counter = 0;
/** A newInstance body for a fresh order line; `businessId` is new on every call, as in the spec. */
function newInstanceBody(orderId = `CS${++counter}ORDER`, orderLineId = `${orderId}-000001`) {
  return { activity: 'newInstance', orderId, orderLineId, businessId: `biz-${++counter}-${Date.now()}`, testFlag: '1' };
}

async function createInstance(sim: MerchantSim): Promise<string> {
  const answer = await call(sim, newInstanceBody());
  expect(answer.json.resultCode).toBe('000000');
  return answer.json.instanceId as string;
}

const sims: MerchantSim[] = [];
async function start(options: Partial<MerchantSimOptions> = {}): Promise<MerchantSim> {
  const sim = await startMerchantSim({ accessKey: ACCESS_KEY, port: 0, ...options });
  sims.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(sims.splice(0).map((sim) => sim.close()));
});

describe('signature checks (spec §1.2)', () => {
  test('when the request is signed with the right key, then newInstance answers 000000 and the instanceId', async () => {
    const sim = await start();
    const body = newInstanceBody();

    const answer = await call(sim, body);

    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ resultCode: '000000', resultMsg: 'success', instanceId: body.businessId });
    expect(sim.createdCount()).toBe(1);
    expect(sim.requests()).toHaveLength(1);
    expect(sim.requests()[0]).toMatchObject({
      activity: 'newInstance',
      verify: 'ok',
      resultCode: '000000',
      httpStatus: 200,
      body: JSON.stringify(body),
    });
  });

  test('when the spec test vector is replayed with its own timestamp, then the signature matches but it is stale', async () => {
    // The vector's signature is correct (signing.ts is tested elsewhere); 2023 is far outside ±60 s.
    const sim = await start();
    const body =
      '{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}';
    const nonce = '50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA';
    const timestamp = '1680508066618';
    const signature = computeV2Signature('myAccessKey123', nonce, timestamp, body);
    expect(signature).toBe('CB13E2BA0102670F690F0116EBEC93E35C4411D577DF60AE7444FA3B1CB8A902');

    const answer = await call(sim, body, { params: { signature, nonce, timestamp } });

    expect(answer.json.resultCode).toBe('000001');
    expect(sim.requests()[0]?.verify).toBe('stale-timestamp');
  });

  test('when the request is signed with another key, then it answers HTTP 200 with 000001 and creates nothing', async () => {
    const sim = await start();

    const answer = await call(sim, newInstanceBody(), { accessKey: 'wrong-key' });

    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ resultCode: '000001', resultMsg: 'signature check failed' });
    expect(sim.createdCount()).toBe(0);
    expect(sim.requests()[0]?.verify).toBe('bad-signature');
  });

  test('when the timestamp is 61 s old, then it answers 000001', async () => {
    const sim = await start();
    const raw = JSON.stringify(newInstanceBody());

    const answer = await call(sim, raw, { params: signV2Request(ACCESS_KEY, raw, Date.now() - 61_000) });

    expect(answer.json.resultCode).toBe('000001');
    expect(sim.requests()[0]?.verify).toBe('stale-timestamp');
    expect(sim.createdCount()).toBe(0);
  });

  test('when the timestamp is in seconds (international pages), then it is accepted', async () => {
    const sim = await start();
    const raw = JSON.stringify(newInstanceBody());
    const nonce = newNonce();
    const timestamp = String(Math.floor(Date.now() / 1000));
    expect(timestamp).toHaveLength(10);

    const answer = await call(sim, raw, {
      params: { nonce, timestamp, signature: computeV2Signature(ACCESS_KEY, nonce, timestamp, raw) },
    });

    expect(answer.json.resultCode).toBe('000000');
  });

  test('when the signature is lower-case hex, then it is accepted (compared case-insensitively)', async () => {
    const sim = await start();
    const raw = JSON.stringify(newInstanceBody());
    const params = signV2Request(ACCESS_KEY, raw);

    const answer = await call(sim, raw, { params: { ...params, signature: params.signature.toLowerCase() } });

    expect(answer.json.resultCode).toBe('000000');
  });

  test('when a signed request is replayed with the same nonce, then the replay answers 000001', async () => {
    const sim = await start();
    const raw = JSON.stringify(newInstanceBody());
    const params = signV2Request(ACCESS_KEY, raw);

    const first = await call(sim, raw, { params });
    const replay = await call(sim, raw, { params });

    expect(first.json.resultCode).toBe('000000');
    expect(replay.json.resultCode).toBe('000001');
    expect(sim.requests().map((r) => r.verify)).toEqual(['ok', 'replayed-nonce']);
  });

  test('when the signature parameters are missing, then it answers 000001', async () => {
    const sim = await start();

    const response = await fetch(sim.url, { method: 'POST', body: JSON.stringify(newInstanceBody()) });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ resultCode: '000001', resultMsg: 'signature check failed' });
    expect(sim.requests()[0]?.verify).toBe('missing-parameters');
  });

  test('when the body is altered after signing, then it answers 000001 (verified over the raw bytes)', async () => {
    const sim = await start();
    const raw = JSON.stringify(newInstanceBody());
    const params = signV2Request(ACCESS_KEY, raw);

    // Same JSON value, different bytes: a re-serialising verifier would accept it.
    const answer = await call(sim, raw.replace('{', '{ '), { params });

    expect(answer.json.resultCode).toBe('000001');
  });
});

describe('newInstance idempotency (spec §2.1, §4)', () => {
  test('when the same order line is created twice with different businessIds, then both answers carry the first instanceId and one instance exists', async () => {
    const sim = await start();
    const first = newInstanceBody('CS-IDEM', 'CS-IDEM-000001');
    const retry = newInstanceBody('CS-IDEM', 'CS-IDEM-000001');
    expect(retry.businessId).not.toBe(first.businessId);

    const a = await call(sim, first);
    const b = await call(sim, retry);

    expect(a.json).toMatchObject({ resultCode: '000000', instanceId: first.businessId });
    expect(b.json).toMatchObject({ resultCode: '000000', instanceId: first.businessId });
    expect(sim.createdCount()).toBe(1);
    expect(sim.store.list()).toHaveLength(1);
  });

  test('when two order lines of one order are created, then they get two instances', async () => {
    const sim = await start();

    await call(sim, newInstanceBody('CS-TWO', 'CS-TWO-000001'));
    await call(sim, newInstanceBody('CS-TWO', 'CS-TWO-000002'));

    expect(sim.createdCount()).toBe(2);
  });

  test('when a pay-per-use order creates one instance per productId, then each product is keyed on orderId + productId', async () => {
    const sim = await start();
    const sms = { ...newInstanceBody('CS-PPU', 'CS-PPU-000001'), productId: 'OFFI-SMS' };
    const mms = { ...newInstanceBody('CS-PPU', 'CS-PPU-000001'), productId: 'OFFI-MMS' };
    const smsRetry = { ...newInstanceBody('CS-PPU', 'CS-PPU-000001'), productId: 'OFFI-SMS' };

    const a = await call(sim, sms);
    const b = await call(sim, mms);
    const c = await call(sim, smsRetry);

    expect(a.json.instanceId).toBe(sms.businessId);
    expect(b.json.instanceId).toBe(mms.businessId);
    expect(c.json.instanceId).toBe(sms.businessId);
    expect(sim.createdCount()).toBe(2);
    expect(sim.store.get(sms.businessId)?.productId).toBe('OFFI-SMS');
  });
});

describe('queryInstance (spec §2.2)', () => {
  test('when ready instances are queried as a comma list, then each gets appInfo; unknown ids are skipped', async () => {
    const sim = await start({ frontEndBaseUrl: 'https://tenant.example.com/t' });
    const one = await createInstance(sim);
    const two = await createInstance(sim);

    const answer = await call(sim, { activity: 'queryInstance', instanceId: `${one},no-such-id,${two}` });

    expect(answer.json.resultCode).toBe('000000');
    const info = answer.json.info as { instanceId: string; appInfo: Record<string, string> }[];
    expect(info.map((entry) => entry.instanceId)).toEqual([one, two]);
    expect(info[0]?.appInfo).toEqual({
      frontEndUrl: `https://tenant.example.com/t/${one}`,
      adminUrl: `https://tenant.example.com/t/${one}/admin`,
      userName: `admin-${one.slice(0, 8)}`,
      password: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/),
      memo: expect.any(String),
    });
  });

  test('when no requested instance is known, then it answers 000003', async () => {
    const sim = await start();

    const answer = await call(sim, { activity: 'queryInstance', instanceId: 'ghost-1,ghost-2' });

    expect(answer.json.resultCode).toBe('000003');
    expect(answer.json.info).toBeUndefined();
  });

  test('when more than 100 ids are asked for, then it answers 000002', async () => {
    const sim = await start();
    const ids = Array.from({ length: 101 }, (_, i) => `id-${i}`).join(',');

    const answer = await call(sim, { activity: 'queryInstance', instanceId: ids });

    expect(answer.json.resultCode).toBe('000002');
    expect(answer.json.resultMsg).toContain('instanceId');
  });
});

describe('asynchronous provisioning', () => {
  test('when provisioning is asynchronous, then create answers 000004, the first query 000004, the next one appInfo', async () => {
    const sim = await start({ asyncProvisioning: { readyAfterQueries: 1 } });
    const body = newInstanceBody();

    const created = await call(sim, body);
    const firstQuery = await call(sim, { activity: 'queryInstance', instanceId: body.businessId });
    const secondQuery = await call(sim, { activity: 'queryInstance', instanceId: body.businessId });

    expect(created.json).toMatchObject({ resultCode: '000004', instanceId: body.businessId });
    expect(firstQuery.json.resultCode).toBe('000004');
    expect(firstQuery.json.info).toEqual([]);
    expect(secondQuery.json.resultCode).toBe('000000');
    expect(secondQuery.json.info).toEqual([
      { instanceId: body.businessId, appInfo: expect.objectContaining({ frontEndUrl: expect.stringContaining(body.businessId) }) },
    ]);
    expect(sim.store.get(body.businessId)?.status).toBe('active');
    expect(sim.createdCount()).toBe(1);
  });

  test('when one of the queried instances is still provisioning, then the answer is 000004 with info only for the ready one', async () => {
    const sim = await start({ asyncProvisioning: { readyAfterQueries: 1 } });
    const ready = newInstanceBody();
    await call(sim, ready);
    await call(sim, { activity: 'queryInstance', instanceId: ready.businessId });
    const pending = newInstanceBody();
    await call(sim, pending);

    const answer = await call(sim, { activity: 'queryInstance', instanceId: `${ready.businessId},${pending.businessId}` });

    expect(answer.json.resultCode).toBe('000004');
    expect((answer.json.info as { instanceId: string }[]).map((entry) => entry.instanceId)).toEqual([ready.businessId]);
  });

  test('when readiness is time-based, then a repeated create answers 000000 once the time has passed', async () => {
    let clock = Date.now();
    const sim = await start({ asyncProvisioning: { readyAfterMs: 30_000 }, now: () => clock });
    const body = newInstanceBody();

    const created = await call(sim, body, { params: signV2Request(ACCESS_KEY, JSON.stringify(body), clock) });
    clock += 30_000;
    const retry = { ...body, businessId: 'another-business-id' };
    const again = await call(sim, retry, { params: signV2Request(ACCESS_KEY, JSON.stringify(retry), clock) });

    expect(created.json).toMatchObject({ resultCode: '000004', instanceId: body.businessId });
    expect(again.json).toMatchObject({ resultCode: '000000', instanceId: body.businessId });
    expect(sim.createdCount()).toBe(1);
  });
});

describe('lifecycle activities (spec §2.3–2.7)', () => {
  test('when an instance is released twice, then both answer 000000 and one release happens', async () => {
    const sim = await start();
    const instanceId = await createInstance(sim);

    const first = await call(sim, { activity: 'releaseInstance', instanceId });
    const second = await call(sim, { activity: 'releaseInstance', instanceId });

    expect(first.json.resultCode).toBe('000000');
    expect(second.json.resultCode).toBe('000000');
    expect(sim.store.effects().filter((effect) => effect.kind === 'released')).toHaveLength(1);
    expect(sim.store.get(instanceId)?.status).toBe('released');
  });

  test('when a released instance is queried, then it is unknown (000003)', async () => {
    const sim = await start();
    const instanceId = await createInstance(sim);
    await call(sim, { activity: 'releaseInstance', instanceId, orderId: 'CS-UNSUB', orderLineId: 'CS-UNSUB-000001' });

    const answer = await call(sim, { activity: 'queryInstance', instanceId });

    expect(answer.json.resultCode).toBe('000003');
  });

  test('when an instance is frozen twice and unfrozen twice, then all answer 000000 and each change happens once', async () => {
    const sim = await start();
    const instanceId = await createInstance(sim);

    const codes: unknown[] = [];
    for (const status of ['FREEZE', 'FREEZE']) {
      codes.push((await call(sim, { activity: 'updateInstanceStatus', instanceId, status })).json.resultCode);
    }
    const statusWhileFrozen = sim.store.get(instanceId)?.status;
    for (const status of ['UNFREEZE', 'UNFREEZE']) {
      codes.push((await call(sim, { activity: 'updateInstanceStatus', instanceId, status })).json.resultCode);
    }

    expect(codes).toEqual(['000000', '000000', '000000', '000000']);
    expect(statusWhileFrozen).toBe('frozen');
    expect(sim.store.get(instanceId)?.status).toBe('active');
    expect(sim.store.effects().map((effect) => effect.kind)).toEqual(['created', 'frozen', 'unfrozen']);
  });

  test('when the instance is unknown, then refresh, status update, release, upgrade and change check answer 000003', async () => {
    const sim = await start();
    const instanceId = 'does-not-exist';
    const bodies = [
      { activity: 'refreshInstance', scene: 'RENEWAL', orderId: 'O', orderLineId: 'O-1', instanceId, expireTime: '20300101000000' },
      { activity: 'updateInstanceStatus', instanceId, status: 'FREEZE' },
      { activity: 'releaseInstance', instanceId },
      { activity: 'upgradeInstance', instanceId, orderId: 'O', orderLineId: 'O-1' },
      { activity: 'changeInstanceCheck', instanceId, productInfo: { productId: 'P', skuCode: 'S', productName: 'N' } },
    ];

    const codes: unknown[] = [];
    for (const body of bodies) codes.push((await call(sim, body)).json.resultCode);

    expect(codes).toEqual(['000003', '000003', '000003', '000003', '000003']);
  });

  test('when refreshInstance carries a 17-digit expireTime and a new productId, then both are stored', async () => {
    const sim = await start();
    const instanceId = await createInstance(sim);

    const answer = await call(sim, {
      activity: 'refreshInstance',
      scene: 'RENEWAL',
      orderId: 'CS-RENEW',
      orderLineId: 'CS-RENEW-000001',
      instanceId,
      productId: 'OFFI-YEARLY',
      expireTime: '20221124023618256',
    });

    expect(answer.json.resultCode).toBe('000000');
    const instance = sim.store.get(instanceId);
    expect(instance?.expireTime).toBe('20221124023618256');
    expect(instance?.productId).toBe('OFFI-YEARLY');
    expect(instance?.skuHistory.map((change) => change.kind)).toEqual(['create', 'refresh']);
  });

  test('when an upgrade order is delivered twice, then the new orderId is recorded once', async () => {
    const sim = await start();
    const instanceId = await createInstance(sim);
    const upgrade = { activity: 'upgradeInstance', instanceId, orderId: 'CS-UPG', orderLineId: 'CS-UPG-000001' };

    const codes = [(await call(sim, upgrade)).json.resultCode, (await call(sim, upgrade)).json.resultCode];

    expect(codes).toEqual(['000000', '000000']);
    const upgrades = sim.store.get(instanceId)?.skuHistory.filter((change) => change.kind === 'upgrade');
    expect(upgrades).toEqual([expect.objectContaining({ orderId: 'CS-UPG', orderLineId: 'CS-UPG-000001' })]);
  });

  test('when a change to a refused sku is checked, then it answers 000002 with the reason; others are allowed', async () => {
    const sim = await start({ refuseChangesTo: ['SKU-SMALL'] });
    const instanceId = await createInstance(sim);
    const check = (skuCode: string) => ({
      activity: 'changeInstanceCheck',
      instanceId,
      productInfo: { productId: 'OFFI-1', skuCode, productName: 'Plan', linearValue: 5 },
    });

    const refused = await call(sim, check('SKU-SMALL'));
    const allowed = await call(sim, check('SKU-LARGE'));

    expect(refused.json.resultCode).toBe('000002');
    expect(refused.json.resultMsg).toContain('SKU-SMALL');
    expect(allowed.json.resultCode).toBe('000000');
  });
});

describe('invalid bodies', () => {
  test('when a mandatory field is missing, then it answers 000002 naming the field', async () => {
    const sim = await start();

    const answer = await call(sim, { activity: 'newInstance', orderId: 'CS-X', businessId: 'b-1' });

    expect(answer.json.resultCode).toBe('000002');
    expect(answer.json.resultMsg).toMatch(/^invalid field orderLineId: /);
    expect(sim.createdCount()).toBe(0);
  });

  test('when the activity is unknown, then it answers 000002 naming activity', async () => {
    const sim = await start();

    const answer = await call(sim, { activity: 'destroyEverything', instanceId: 'x' });

    expect(answer.json.resultCode).toBe('000002');
    expect(answer.json.resultMsg).toMatch(/^invalid field activity: /);
  });

  test('when the signed body is not JSON, then it answers 000002', async () => {
    const sim = await start();

    const answer = await call(sim, 'activity=newInstance');

    expect(answer.json).toEqual({ resultCode: '000002', resultMsg: 'body is not valid JSON' });
  });
});

describe('fault injection', () => {
  test('when a fail rule applies twice, then two creates answer 000005 without creating and the third succeeds', async () => {
    const sim = await start();
    sim.faults.add({ activity: 'newInstance', mode: 'fail', times: 2 });
    const order = newInstanceBody('CS-FAIL', 'CS-FAIL-000001');

    const codes: unknown[] = [];
    for (let i = 0; i < 3; i++) codes.push((await call(sim, { ...order, businessId: `biz-fail-${i}` })).json.resultCode);

    expect(codes).toEqual(['000005', '000005', '000000']);
    expect(sim.createdCount()).toBe(1);
    expect(sim.store.get('biz-fail-2')?.instanceId).toBe('biz-fail-2');
    expect(sim.requests().map((r) => r.fault)).toEqual(['fail', 'fail', undefined]);
  });

  test('when a rule targets another activity, then this activity is not affected and the rule is not used up', async () => {
    const sim = await start();
    sim.faults.add({ activity: 'releaseInstance', mode: 'fail', times: 1 });

    const instanceId = await createInstance(sim);
    const release = await call(sim, { activity: 'releaseInstance', instanceId });

    expect(release.json.resultCode).toBe('000005');
  });

  test('when a rule applies until a time, then requests fail until then and succeed after', async () => {
    let clock = Date.now();
    const sim = await start({ now: () => clock });
    sim.faults.add({ mode: 'fail', resultCode: '000104', untilMs: clock + 10_000 });
    const signedAt = (body: object) => ({ params: signV2Request(ACCESS_KEY, JSON.stringify(body), clock) });

    const first = newInstanceBody();
    const during = await call(sim, first, signedAt(first));
    clock += 5_000;
    const stillDuring = await call(sim, first, signedAt(first));
    clock += 5_000;
    const after = await call(sim, first, signedAt(first));

    expect([during.json.resultCode, stillDuring.json.resultCode, after.json.resultCode]).toEqual([
      '000104',
      '000104',
      '000000',
    ]);
  });

  test('when a rule has neither times nor untilMs, then it applies until cleared', async () => {
    const sim = await start();
    sim.faults.add({ mode: 'fail' });

    const codes = [(await call(sim, newInstanceBody())).json.resultCode, (await call(sim, newInstanceBody())).json.resultCode];
    sim.faults.clear();
    codes.push((await call(sim, newInstanceBody())).json.resultCode);

    expect(codes).toEqual(['000005', '000005', '000000']);
  });

  test('when a slow rule applies, then the answer comes after the delay and is normal', async () => {
    const sim = await start();
    sim.faults.add({ mode: 'slow', delayMs: 300, times: 1 });

    const slow = await call(sim, newInstanceBody());
    const fast = await call(sim, newInstanceBody());

    expect(slow.json.resultCode).toBe('000000');
    expect(slow.elapsedMs).toBeGreaterThanOrEqual(290);
    expect(fast.json.resultCode).toBe('000000');
    expect(sim.createdCount()).toBe(2);
  });

  test('when a code rule applies, then the work is done but the given code is answered', async () => {
    const sim = await start();
    sim.faults.add({ activity: 'newInstance', mode: 'code', resultCode: '000100', times: 1 });
    const order = newInstanceBody('CS-CODE', 'CS-CODE-000001');

    const first = await call(sim, order);
    const retry = await call(sim, { ...order, businessId: 'biz-code-retry' });

    expect(first.json).toMatchObject({ resultCode: '000100', instanceId: order.businessId });
    expect(retry.json).toMatchObject({ resultCode: '000000', instanceId: order.businessId });
    expect(sim.createdCount()).toBe(1);
  });

  test('when a malformed rule applies, then the body is not JSON and nothing is created', async () => {
    const sim = await start();
    sim.faults.add({ mode: 'malformed', times: 1 });

    const answer = await call(sim, newInstanceBody());

    expect(answer.status).toBe(200);
    expect(() => JSON.parse(answer.text)).toThrow(SyntaxError);
    expect(sim.createdCount()).toBe(0);
    expect(sim.requests()[0]).toMatchObject({ fault: 'malformed', httpStatus: 200 });
    expect(sim.requests()[0]?.resultCode).toBeUndefined();
  });

  test('when an http-error rule applies, then the status is answered (503 by default) and nothing is created', async () => {
    const sim = await start();
    sim.faults.add({ mode: 'http-error', times: 1 });
    sim.faults.add({ mode: 'http-error', httpStatus: 502, times: 1 });

    const first = await call(sim, newInstanceBody());
    const second = await call(sim, newInstanceBody());
    const third = await call(sim, newInstanceBody());

    expect([first.status, second.status, third.status]).toEqual([503, 502, 200]);
    expect(third.json.resultCode).toBe('000000');
    expect(sim.createdCount()).toBe(1);
  });

  test('when the signature is wrong, then a fault rule is not used up', async () => {
    const sim = await start();
    sim.faults.add({ mode: 'fail', times: 1 });

    const forged = await call(sim, newInstanceBody(), { accessKey: 'wrong-key' });
    const genuine = await call(sim, newInstanceBody());

    expect(forged.json.resultCode).toBe('000001');
    expect(genuine.json.resultCode).toBe('000005');
  });
});

describe('probabilistic faults', () => {
  /** The fault applied to each of `count` creates of fresh order lines, in order. */
  async function faultsOver(sim: MerchantSim, count: number): Promise<Array<string | undefined>> {
    for (let i = 0; i < count; i++) await call(sim, newInstanceBody());
    return sim.requests().map((r) => r.fault);
  }

  test('when a rule has a probability, then it applies to about that share of requests, and the same seed gives the same ones', async () => {
    const rule = { activity: 'newInstance', mode: 'fail', probability: 0.3 } as const;
    const first = await start({ random: seededRandom(7) });
    const again = await start({ random: seededRandom(7) });
    const other = await start({ random: seededRandom(8) });
    for (const sim of [first, again, other]) sim.faults.add(rule);

    const applied = await faultsOver(first, 200);
    const repeated = await faultsOver(again, 200);
    const reseeded = await faultsOver(other, 200);

    const share = applied.filter((fault) => fault === 'fail').length / applied.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.4);
    expect(repeated).toEqual(applied);
    expect(reseeded).not.toEqual(applied);
    // Work is done only for the requests the rule passed over.
    expect(first.createdCount()).toBe(applied.filter((fault) => fault === undefined).length);
  });

  test('when a rule loses its draw, then the next matching rule is considered and the losing rule is not used up', async () => {
    const draws = [0.9, 0.1];
    const sim = await start({ random: () => draws.shift() ?? 0.99 });
    sim.faults.add({ activity: 'newInstance', mode: 'fail', probability: 0.5, times: 1 });
    sim.faults.add({ activity: 'newInstance', mode: 'code', resultCode: '000100' });

    const codes: unknown[] = [];
    for (let i = 0; i < 3; i++) codes.push((await call(sim, newInstanceBody())).json.resultCode);

    // 0.9 loses (code rule answers), 0.1 wins and uses the rule up, then only the code rule is left.
    expect(codes).toEqual(['000100', '000005', '000100']);
    expect(sim.faults.list()).toEqual([{ activity: 'newInstance', mode: 'code', resultCode: '000100' }]);
  });

  test('when a rule has no probability, then no draw is taken for it', async () => {
    const random = jest.fn(() => 0.5);
    const sim = await start({ random });
    sim.faults.add({ activity: 'newInstance', mode: 'fail', times: 1 });

    await faultsOver(sim, 2);

    expect(random).not.toHaveBeenCalled();
  });

  test('when the control API is given a probability outside (0, 1], then it answers 400 naming it; 1 always applies', async () => {
    const sim = await start({ controlToken: CONTROL_TOKEN, random: () => 0.999 });

    const zero = await control(sim, 'POST', '/faults', { mode: 'fail', probability: 0 });
    const above = await control(sim, 'POST', '/faults', { mode: 'fail', probability: 1.5 });
    const one = await control(sim, 'POST', '/faults', { mode: 'fail', probability: 1 });
    const answer = await call(sim, newInstanceBody());

    for (const refused of [zero, above]) {
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { issues: { path: string[] }[] }).issues[0]?.path).toEqual(['probability']);
    }
    expect(one.status).toBe(201);
    expect(answer.json.resultCode).toBe('000005');
  });
});

describe('control API', () => {
  test('when no control token is configured, then /_control answers 404', async () => {
    const sim = await start();

    const response = await control(sim, 'GET', '/state');

    expect(response.status).toBe(404);
  });

  test('when the token is missing or wrong, then it answers 401 and changes nothing', async () => {
    const sim = await start({ controlToken: CONTROL_TOKEN });

    const missing = await control(sim, 'POST', '/faults', { mode: 'fail' }, '');
    const wrong = await control(sim, 'POST', '/faults', { mode: 'fail' }, 'not-the-token');
    const answer = await call(sim, newInstanceBody());

    expect([missing.status, wrong.status]).toEqual([401, 401]);
    expect(answer.json.resultCode).toBe('000000');
  });

  test('when the token is right, then faults can be added and cleared, state read and the sim reset', async () => {
    const sim = await start({ controlToken: CONTROL_TOKEN });

    const added = await control(sim, 'POST', '/faults', { activity: 'newInstance', mode: 'code', resultCode: '000106', times: 1 });
    const faulted = await call(sim, newInstanceBody());
    const state = await control(sim, 'GET', '/state');
    const stateJson = (await state.json()) as { createdCount: number; instances: { instanceId: string }[]; requests: number };
    await control(sim, 'POST', '/faults', { mode: 'fail' });
    const cleared = await control(sim, 'DELETE', '/faults');
    const afterClear = await call(sim, newInstanceBody());
    const reset = await control(sim, 'POST', '/reset');

    expect(added.status).toBe(201);
    expect(faulted.json.resultCode).toBe('000106');
    expect(state.status).toBe(200);
    expect(stateJson.createdCount).toBe(1);
    expect(stateJson.instances).toHaveLength(1);
    expect(stateJson.requests).toBe(1);
    expect(cleared.status).toBe(204);
    expect(afterClear.json.resultCode).toBe('000000');
    expect(reset.status).toBe(204);
    expect(sim.createdCount()).toBe(0);
    expect(sim.requests()).toHaveLength(0);
  });

  test('when a fault rule is invalid, then it answers 400 with the issues', async () => {
    const sim = await start({ controlToken: CONTROL_TOKEN });

    const response = await control(sim, 'POST', '/faults', { mode: 'explode' });

    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: { path: string[] }[] };
    expect(body.issues[0]?.path).toEqual(['mode']);
  });
});

describe('close', () => {
  test('when a request is held by a slow fault, then close still resolves promptly', async () => {
    const sim = await start();
    sim.faults.add({ mode: 'slow', delayMs: 60_000, times: 1 });
    const pending = call(sim, newInstanceBody()).catch((err: unknown) => err);
    // The request has reached the server and is held once it has taken the slow rule.
    await until(async () => sim.faults.list(), (rules) => rules.length === 0);

    const started = Date.now();
    await sim.close();

    expect(Date.now() - started).toBeLessThan(1_000);
    // undici's TypeError comes from another realm than jest's, so match on the message.
    expect(await pending).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
  });
});
