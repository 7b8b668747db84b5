/**
 * Penalties over HTTP (spec §9.5), on real PostgreSQL and a real Temporal dev server with no
 * worker (a started exit stays pending, where the test can see it): the catalogue as data,
 * each consequence applied with its entry and recorded, the publishing freeze on the listing
 * route, terminations starting exit:<merchantId> even when the first start fails, the
 * merchant's own ledger, and bad input.
 */
import request from 'supertest';
import { exitWorkflowId } from '../../src/workflows/governance/exit/messages';
import { apiHarness, uniqueId, unusedAddress, type ApiHarness } from '../helpers/api-harness';
import { partyHeaders } from '../helpers/signed-party';

let h: ApiHarness;

beforeAll(async () => {
  h = await apiHarness();
});

afterAll(async () => {
  await h?.close();
});

const ACCESS_KEY = 'penalties-access-key';
const DAY_MS = 86_400_000;
const operator = () => ({ authorization: `Bearer ${h.config.operatorToken}`, 'x-operator': 'alice' });

async function merchant(productCount = 1): Promise<{ merchantId: string; productIds: string[] }> {
  const merchantId = uniqueId('M');
  await request(h.app)
    .put(`/v1/merchants/${merchantId}`)
    .set(operator())
    .send({ name: 'Penalised merchant', productionUrl: 'http://127.0.0.1:9/saasproduce', protocolVersion: 'v2', accessKey: ACCESS_KEY })
    .expect(201);
  const productIds: string[] = [];
  for (let i = 0; i < productCount; i += 1) {
    const productId = uniqueId('P');
    await request(h.app).put(`/v1/merchants/${merchantId}/products/${productId}`).set(operator()).send({ name: 'Monthly', chargingMode: 'PERIOD', retentionDays: 7 }).expect(201);
    productIds.push(productId);
  }
  return { merchantId, productIds };
}

const recordPenalty = (app: ApiHarness['app'], merchantId: string, body: unknown, idempotencyKey?: string) => {
  const call = request(app).post(`/v1/merchants/${merchantId}/penalties`).set(operator());
  return (idempotencyKey ? call.set('idempotency-key', idempotencyKey) : call).send(body as object);
};

const ledger = (merchantId: string) => request(h.app).get(`/v1/merchants/${merchantId}/penalties`).set(operator());

async function product(productId: string): Promise<{ listing_state: string; delisted_until: Date | null }> {
  const { rows } = await h.db.query<{ listing_state: string; delisted_until: Date | null }>(`select listing_state, delisted_until from products where product_id = $1`, [productId]);
  return rows[0]!;
}

async function penaltyChanges(merchantId: string): Promise<Array<Record<string, unknown>>> {
  const { rows } = await h.db.query(
    `select change_kind, product_id, from_state, to_state, actor, penalty_entry_id::text as entry from listing_changes where merchant_id = $1 order by change_id`,
    [merchantId],
  );
  return rows;
}

async function entryCount(merchantId: string): Promise<number> {
  const { rows } = await h.db.query<{ n: number }>(`select count(*)::int as n from penalty_entries where merchant_id = $1`, [merchantId]);
  return rows[0]!.n;
}

/** The input the exit workflow was started with, read from its history. */
async function exitInput(merchantId: string): Promise<Record<string, unknown>> {
  const history = await h.client.workflow.getHandle(exitWorkflowId(merchantId)).fetchHistory();
  const payload = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  return JSON.parse(Buffer.from(payload.data!).toString('utf8')) as Record<string, unknown>;
}

const near = (iso: string | Date, expectedMs: number): void => expect(Math.abs(new Date(iso).getTime() - expectedMs)).toBeLessThan(60_000);

describe('the violation catalogue', () => {
  it('when an operator reads it, then it holds every row of the spec table and the concrete published sanctions', async () => {
    const response = await request(h.app).get('/v1/governance/violations').set(operator()).expect(200);
    const violations = response.body.violations as Array<{ code: string; source: string }>;
    const byCode = Object.fromEntries(violations.map((v) => [v.code, v]));
    expect(violations.filter((v) => v.source !== 'operator')).toHaveLength(12);
    expect(byCode.system_endangering_acts).toMatchObject({ points: 50, terminates: true, deductsFullDeposit: true, penaltyYuan: null, productAction: null });
    expect(byCode.fraudulent_sales_inflation).toMatchObject({ points: 40, terminates: true, deductsFullDeposit: false, penaltyYuan: '5000.00' });
    expect(byCode.off_platform_steering).toMatchObject({ points: 30, terminates: true, penaltyYuan: '5000.00' });
    expect(byCode.self_dealing_fraud).toMatchObject({ points: 10, productAction: 'delist_permanently', terminates: false, penaltyYuan: '5000.00' });
    expect(byCode.outdated_product_content).toMatchObject({ points: 10, productAction: 'delist_for_period', productDelistDays: 7, penaltyYuan: null });
    expect(byCode.unnamed_permanent_delisting_publishing_freeze).toMatchObject({ productAction: 'delist_permanently', publishingFreezeDays: 180 });
    expect(byCode.falsified_acceptance_materials).toMatchObject({ productAction: 'delist', penaltyYuan: '100000.00', otherSanctions: 'partner blacklist for 6 months' });
    expect(byCode.serious_public_misconduct).toMatchObject({ terminates: true });
  });

  it('when an operator adds an entry, then penalties can use it; once retired it is refused for new ones and kept for the ledger', async () => {
    const code = `late_security_patch_${Date.now().toString(36)}`;
    const added = await request(h.app)
      .post('/v1/governance/violations')
      .set(operator())
      .send({ code, description: 'Security patch not applied within the agreed time', points: 5, productAction: 'delist_for_period', productDelistDays: 3, penaltyYuan: '200.50' })
      .expect(201);
    expect(added.body.violation).toMatchObject({ code, points: 5, productDelistDays: 3, penaltyYuan: '200.50', source: 'operator', createdBy: 'alice', retiredAt: null });
    await request(h.app).post('/v1/governance/violations').set(operator()).send({ code, description: 'again', points: 1 }).expect(409);

    const { merchantId, productIds } = await merchant();
    const used = await recordPenalty(h.app, merchantId, { code, productId: productIds[0], reason: 'patch 2026-11 missing' }).expect(201);
    expect(used.body.entry).toMatchObject({ violationCode: code, points: 5, owed: { fullDeposit: false, yuan: '200.50' } });
    near(used.body.entry.delistedUntil, Date.now() + 3 * DAY_MS);

    const retired = await request(h.app).post(`/v1/governance/violations/${code}/retire`).set(operator()).send({ reason: 'folded into the security rules' }).expect(200);
    expect(retired.body.violation).toMatchObject({ retiredBy: 'alice', retiredReason: 'folded into the security rules' });
    const refused = await recordPenalty(h.app, merchantId, { code, productId: productIds[0], reason: 'patch 2026-12 missing' }).expect(422);
    expect(refused.body.error).toMatchObject({ code: 'violation_retired', details: [{ field: 'code' }] });
    await request(h.app).post(`/v1/governance/violations/${code}/retire`).set(operator()).send({ reason: 'twice' }).expect(409);
    // Nothing deletes an entry: the ledger still names it.
    await request(h.app).delete(`/v1/governance/violations/${code}`).set(operator()).expect(404);
    expect((await ledger(merchantId).expect(200)).body.entries).toEqual([expect.objectContaining({ violationCode: code })]);
  });

  it('when a new entry is wrong, then 400 naming the field and nothing is added', async () => {
    const cases: Array<[unknown, string]> = [
      [{ code: 'Bad Code', description: 'x'.repeat(5), points: 1 }, 'code'],
      [{ code: 'ok_code_1', description: 'missing days', points: 1, productAction: 'delist_for_period' }, 'productDelistDays'],
      [{ code: 'ok_code_2', description: 'days without period', points: 1, productDelistDays: 3 }, 'productDelistDays'],
      [{ code: 'ok_code_3', description: 'negative points', points: -1 }, 'points'],
      [{ code: 'ok_code_4', description: 'a number for yuan', points: 1, penaltyYuan: 5000 }, 'penaltyYuan'],
      [{ code: 'ok_code_5', description: 'unknown field', points: 1, severity: 'high' }, '(body)'],
    ];
    for (const [body, field] of cases) {
      const response = await request(h.app).post('/v1/governance/violations').set(operator()).send(body as object).expect(400);
      expect(response.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const { rows } = await h.db.query(`select count(*)::int as n from violation_catalogue where code like 'ok_code_%'`);
    expect(rows[0]).toEqual({ n: 0 });
  });
});

describe('consequences', () => {
  it('when outdated content is recorded, then the product is delisted for 7 days, recorded under the entry, and the points count', async () => {
    const { merchantId, productIds } = await merchant();
    const response = await recordPenalty(h.app, merchantId, { code: 'outdated_product_content', productId: productIds[0], reason: 'price list of 2024', evidence: 'ticket OPS-1234' }).expect(201);

    const entry = response.body.entry;
    expect(entry).toMatchObject({ merchantId, violationCode: 'outdated_product_content', productId: productIds[0], points: 10, actor: 'alice', evidence: 'ticket OPS-1234', termination: null, forcedExit: null });
    near(entry.delistedUntil, Date.now() + 7 * DAY_MS);
    const stored = await product(productIds[0]!);
    expect(stored.listing_state).toBe('delisted_until');
    near(stored.delisted_until!, Date.now() + 7 * DAY_MS);
    expect(await penaltyChanges(merchantId)).toEqual([
      { change_kind: 'listing', product_id: productIds[0], from_state: 'on_sale', to_state: 'delisted_until', actor: 'penalties', entry: entry.entryId },
    ]);
    const read = (await ledger(merchantId).expect(200)).body;
    expect(read).toMatchObject({ merchantId, pointsInWindow: 10, terminationThreshold: 50, window: { days: 365 }, owed: { fullDeposit: false, yuan: '0.00' } });
    expect(read.entries).toEqual([expect.objectContaining({ entryId: entry.entryId, changes: [expect.objectContaining({ to: 'delisted_until', productId: productIds[0] })] })]);
  });

  it('when a delisting for a period already runs longer, then a penalty does not shorten it', async () => {
    const { merchantId, productIds } = await merchant();
    const later = new Date(Date.now() + 30 * DAY_MS).toISOString();
    await request(h.app).post(`/v1/merchants/${merchantId}/products/${productIds[0]}/listing`).set(operator()).send({ state: 'delisted_until', reason: 'audit', until: later }).expect(200);

    const response = await recordPenalty(h.app, merchantId, { code: 'outdated_product_content', productId: productIds[0], reason: 'stale screenshots' }).expect(201);

    expect(response.body.entry).toMatchObject({ delistedUntil: null, changes: [] });
    near((await product(productIds[0]!)).delisted_until!, Date.parse(later));
  });

  it('when self-dealing fraud is recorded, then the product is permanently delisted and 5000 yuan is owed', async () => {
    const { merchantId, productIds } = await merchant();
    const response = await recordPenalty(h.app, merchantId, { code: 'self_dealing_fraud', productId: productIds[0], reason: 'bought its own service 40 times' }).expect(201);
    expect(response.body.entry).toMatchObject({ points: 10, owed: { fullDeposit: false, yuan: '5000.00' }, changes: [{ from: 'on_sale', to: 'permanently_delisted' }] });
    expect((await product(productIds[0]!)).listing_state).toBe('permanently_delisted');
    await recordPenalty(h.app, merchantId, { code: 'falsified_acceptance_materials', productId: productIds[0], reason: 'forged acceptance form' }).expect(201);
    expect((await ledger(merchantId).expect(200)).body).toMatchObject({ pointsInWindow: 10, owed: { fullDeposit: false, yuan: '105000.00' } });
  });

  it('when publishing rights are frozen, then no product of the merchant may go (back) on sale until the freeze ends', async () => {
    const { merchantId, productIds } = await merchant(2);
    const [offender, other] = productIds as [string, string];
    await request(h.app).post(`/v1/merchants/${merchantId}/products/${other}/listing`).set(operator()).send({ state: 'hidden', reason: 'dial tests failing' }).expect(200);

    const response = await recordPenalty(h.app, merchantId, { code: 'unnamed_permanent_delisting_publishing_freeze', productId: offender, reason: 'repeated misconduct' }).expect(201);

    const entry = response.body.entry;
    near(entry.publishingFrozenUntil, Date.now() + 180 * DAY_MS);
    expect((await product(offender)).listing_state).toBe('permanently_delisted');
    expect(await penaltyChanges(merchantId)).toEqual([
      expect.objectContaining({ product_id: other, to_state: 'hidden', actor: 'alice', entry: null }),
      { change_kind: 'listing', product_id: offender, from_state: 'on_sale', to_state: 'permanently_delisted', actor: 'penalties', entry: entry.entryId },
      { change_kind: 'publishing_freeze', product_id: null, from_state: 'publishing_allowed', to_state: 'publishing_frozen', actor: 'penalties', entry: entry.entryId },
    ]);
    const relist = () => request(h.app).post(`/v1/merchants/${merchantId}/products/${other}/listing`).set(operator()).send({ state: 'on_sale', reason: 'interface fixed' });
    const refused = await relist().expect(409);
    expect(refused.body.error.code).toBe('publishing_frozen');
    expect((await product(other)).listing_state).toBe('hidden');
    // Other moves stay open while frozen.
    await request(h.app).post(`/v1/merchants/${merchantId}/products/${other}/listing`).set(operator()).send({ state: 'delisted', reason: 'still broken' }).expect(200);

    // The freeze ends, as time would end it.
    await h.db.query(`update merchants set publishing_frozen_until = now() - interval '1 minute' where merchant_id = $1`, [merchantId]);
    await relist().expect(200);
    expect((await ledger(merchantId).expect(200)).body.publishingFrozenUntil).toBeNull();
  });
});

describe('termination', () => {
  it('when a terminating violation is recorded, then the forced exit exit:<merchantId> is started and the entry says so', async () => {
    const { merchantId } = await merchant();
    const response = await recordPenalty(h.app, merchantId, { code: 'system_endangering_acts', reason: 'back-door in the admin console' }).expect(202);

    expect(response.body.entry).toMatchObject({ termination: 'violation', owed: { fullDeposit: true, yuan: null }, forcedExit: { status: 'started', workflowId: exitWorkflowId(merchantId) } });
    const description = await h.client.workflow.getHandle(exitWorkflowId(merchantId)).describe();
    expect(description.type).toBe('exitWorkflow');
    expect(description.status.name).toBe('RUNNING');
    expect(await exitInput(merchantId)).toMatchObject({ merchantId, kind: 'forced', requestedBy: 'alice', penaltyId: response.body.entry.entryId });
  });

  it('when the points in the window reach the threshold, then the merchant is terminated; points older than the window do not count', async () => {
    const code = `points_only_${Date.now().toString(36)}`;
    await request(h.app).post('/v1/governance/violations').set(operator()).send({ code, description: 'A violation worth 25 points', points: 25 }).expect(201);
    const { merchantId } = await merchant();
    const first = await recordPenalty(h.app, merchantId, { code, reason: 'first time' }).expect(201);
    // The first entry ages out of the 365-day window.
    await h.db.query(`update penalty_entries set recorded_at = now() - interval '366 days' where entry_id = $1`, [first.body.entry.entryId]);
    await recordPenalty(h.app, merchantId, { code, reason: 'second time' }).expect(201);
    expect((await ledger(merchantId).expect(200)).body.pointsInWindow).toBe(25);

    const third = await recordPenalty(h.app, merchantId, { code, reason: 'third time' }).expect(202);

    expect(third.body.entry).toMatchObject({ termination: 'points_threshold', forcedExit: { status: 'started', workflowId: exitWorkflowId(merchantId) } });
    expect((await h.client.workflow.getHandle(exitWorkflowId(merchantId)).describe()).status.name).toBe('RUNNING');
  });

  it('when the forced exit cannot be started, then the entry is kept pending and a retry with the same key starts it without a second entry', async () => {
    const { merchantId } = await merchant();
    const unreachable = await apiHarness({}, { temporalAddress: await unusedAddress() });
    try {
      const body = { code: 'data_leak_or_misuse', reason: 'sold the customer list' };
      const failed = await recordPenalty(unreachable.app, merchantId, body, 'key-1').expect(503);
      expect(failed.body.error.code).toBe('forced_exit_pending');
      expect((await ledger(merchantId).expect(200)).body.entries).toEqual([expect.objectContaining({ termination: 'violation', forcedExit: { status: 'pending' } })]);

      await recordPenalty(h.app, merchantId, { ...body, reason: 'another report' }, 'key-1').expect(409);
      const retried = await recordPenalty(h.app, merchantId, body, 'key-1').expect(202);

      expect(retried.body).toMatchObject({ replayed: true, entry: { forcedExit: { status: 'started', workflowId: exitWorkflowId(merchantId) } } });
      expect(await entryCount(merchantId)).toBe(1);
      expect((await h.client.workflow.getHandle(exitWorkflowId(merchantId)).describe()).status.name).toBe('RUNNING');
    } finally {
      await unreachable.close();
    }
  });

  it('when a pending termination is retried by its entry id, then the forced exit starts', async () => {
    const { merchantId } = await merchant();
    const unreachable = await apiHarness({}, { temporalAddress: await unusedAddress() });
    let entryId: string;
    try {
      await recordPenalty(unreachable.app, merchantId, { code: 'off_platform_steering', reason: 'asked buyers to sign up on its site' }).expect(503);
      entryId = (await ledger(merchantId).expect(200)).body.entries[0].entryId;
    } finally {
      await unreachable.close();
    }
    const retried = await request(h.app).post(`/v1/merchants/${merchantId}/penalties/${entryId}/forced-exit`).set(operator()).expect(202);
    expect(retried.body.entry.forcedExit).toMatchObject({ status: 'started', workflowId: exitWorkflowId(merchantId) });
    await request(h.app).post(`/v1/merchants/${merchantId}/penalties/999999999/forced-exit`).set(operator()).expect(404);
    const minor = await recordPenalty(h.app, merchantId, { code: 'faked_acceptance_evidence', reason: 'acceptance photo reused' }).expect(201);
    const refused = await request(h.app).post(`/v1/merchants/${merchantId}/penalties/${minor.body.entry.entryId}/forced-exit`).set(operator()).expect(409);
    expect(refused.body.error.code).toBe('penalty_does_not_terminate');
  });

  it('when the same Idempotency-Key is sent again for a non-terminating entry, then the first entry is answered', async () => {
    const { merchantId, productIds } = await merchant();
    const body = { code: 'outdated_product_content', productId: productIds[0], reason: 'old prices' };
    const first = await recordPenalty(h.app, merchantId, body, 'once').expect(201);
    const again = await recordPenalty(h.app, merchantId, body, 'once').expect(200);
    expect(again.body).toMatchObject({ replayed: true, entry: { entryId: first.body.entry.entryId } });
    expect(await entryCount(merchantId)).toBe(1);
  });

  it('when two first attempts with one Idempotency-Key race, then one entry is recorded and both answer it', async () => {
    const { merchantId, productIds } = await merchant();
    const body = { code: 'self_dealing_fraud', productId: productIds[0], reason: 'self-reviews' };
    const answers = await Promise.all([recordPenalty(h.app, merchantId, body, 'race'), recordPenalty(h.app, merchantId, body, 'race')]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 201]);
    expect(new Set(answers.map((a) => a.body.entry.entryId)).size).toBe(1);
    expect(await entryCount(merchantId)).toBe(1);
    expect(await penaltyChanges(merchantId)).toHaveLength(1);
  });
});

describe('merchant isolation', () => {
  const ownLedger = (merchantId: string, key = ACCESS_KEY) =>
    request(h.app).get('/v1/governance/merchant/penalties').set(partyHeaders({ idHeader: 'x-merchant-id', id: merchantId, key }, 'GET', '/v1/governance/merchant/penalties'));

  it('when a merchant reads its ledger, then it sees its own entries only, without the operator names', async () => {
    const mine = await merchant();
    const theirs = await merchant();
    await recordPenalty(h.app, mine.merchantId, { code: 'outdated_product_content', productId: mine.productIds[0], reason: 'expired certificate shown' }).expect(201);

    const own = await ownLedger(mine.merchantId).expect(200);
    const other = await ownLedger(theirs.merchantId).expect(200);

    expect(own.body).toMatchObject({ merchantId: mine.merchantId, pointsInWindow: 10, entries: [expect.objectContaining({ violationCode: 'outdated_product_content' })] });
    expect(own.body.entries[0]).not.toHaveProperty('actor');
    expect(other.body).toMatchObject({ merchantId: theirs.merchantId, pointsInWindow: 0, entries: [] });
    await ownLedger(mine.merchantId, 'not-the-key').expect(401);
    await request(h.app).get('/v1/governance/merchant/penalties').expect(401);
    // A merchant's signature does not open the operator's routes.
    await request(h.app).get(`/v1/merchants/${mine.merchantId}/penalties`).set(partyHeaders({ idHeader: 'x-merchant-id', id: mine.merchantId, key: ACCESS_KEY }, 'GET', `/v1/merchants/${mine.merchantId}/penalties`)).expect(401);
  });

  it("when a penalty names another merchant's product, then 404 and nothing is recorded or changed", async () => {
    const mine = await merchant();
    const theirs = await merchant();
    const response = await recordPenalty(h.app, theirs.merchantId, { code: 'self_dealing_fraud', productId: mine.productIds[0], reason: 'wrong merchant' }).expect(404);
    expect(response.body.error.code).toBe('product_not_found');
    expect((await product(mine.productIds[0]!)).listing_state).toBe('on_sale');
    expect(await entryCount(theirs.merchantId)).toBe(0);
  });
});

describe('bad input', () => {
  it('when the request is wrong, then 400 naming the field, 422 for an unknown code, 404 for an unknown merchant or product; nothing recorded', async () => {
    const { merchantId, productIds } = await merchant();
    const cases: Array<[unknown, string]> = [
      [{ code: 'outdated_product_content', productId: productIds[0] }, 'reason'],
      [{ code: 'Outdated Content', productId: productIds[0], reason: 'stale' }, 'code'],
      [{ code: 'outdated_product_content', reason: 'no product named' }, 'productId'],
      [{ code: 'outdated_product_content', productId: 'bad id!', reason: 'stale' }, 'productId'],
      [{ code: 'outdated_product_content', productId: productIds[0], reason: 'stale', points: 0 }, '(body)'],
    ];
    for (const [body, field] of cases) {
      const response = await recordPenalty(h.app, merchantId, body).expect(400);
      expect(response.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const badKey = await recordPenalty(h.app, merchantId, { code: 'outdated_product_content', productId: productIds[0], reason: 'stale' }, 'spaces are not allowed').expect(400);
    expect(badKey.body.error.details[0].field).toBe('Idempotency-Key');

    const unknownCode = await recordPenalty(h.app, merchantId, { code: 'no_such_violation', reason: 'made up' }).expect(422);
    expect(unknownCode.body.error).toMatchObject({ code: 'unknown_violation_code', details: [{ field: 'code' }] });
    const unknownMerchant = await recordPenalty(h.app, uniqueId('M'), { code: 'outdated_product_content', productId: productIds[0], reason: 'stale' }).expect(404);
    expect(unknownMerchant.body.error.code).toBe('merchant_not_found');
    const unknownProduct = await recordPenalty(h.app, merchantId, { code: 'outdated_product_content', productId: uniqueId('P'), reason: 'stale' }).expect(404);
    expect(unknownProduct.body.error.code).toBe('product_not_found');
    await ledger(uniqueId('M')).expect(404);
    await request(h.app).post(`/v1/merchants/${merchantId}/penalties`).send({ code: 'outdated_product_content', productId: productIds[0], reason: 'no token' }).expect(401);

    expect(await entryCount(merchantId)).toBe(0);
    expect((await product(productIds[0]!)).listing_state).toBe('on_sale');
  });
});
