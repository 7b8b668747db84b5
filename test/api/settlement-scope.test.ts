/**
 * The bill run's scope on real PostgreSQL (the settlement ledger of migration 000012, its
 * triggers, and scope.ts's run): each rule of spec §9.2, partial refunds, the boundary between
 * facts being written and a run, and a line settled exactly once under restarted and
 * overlapping runs.
 */
import type { Db, Queryable } from '../../src/db/pool';
import { upsertProduct } from '../../src/db/repositories/catalog/merchants';
import { appendLedgerFact } from '../../src/db/repositories/settlement/ledger';
import { computeScope } from '../../src/db/repositories/settlement/scope';
import { findStatement } from '../../src/db/repositories/settlement/statements';
import { registerMerchant, testDb, uniqueId } from '../activities/fixtures';

let db: Db;

beforeAll(() => {
  db = testDb();
});

afterAll(async () => {
  await db?.close();
});

interface LineSpec {
  orderId?: string;
  chargingMode?: string;
  acceptedAt: string;
  amount?: string;
  status?: string;
  trial?: boolean;
  expireTime?: string;
}

/** A merchant with one product, and a writer of its order lines. */
async function merchant(options: { supervised?: boolean; chargingMode?: string } = {}) {
  const merchantId = uniqueId('M-scope');
  const productId = `${merchantId}-P`;
  await registerMerchant(db, { merchantId, productionUrl: 'http://127.0.0.1:1/saasproduce', accessKey: 'k' });
  await upsertProduct(db, { productId, merchantId, name: 'p', chargingMode: options.chargingMode ?? 'PERIOD', retentionDays: 15 });
  if (options.supervised) await db.query('update products set supervised = true where product_id = $1', [productId]);
  return {
    merchantId,
    productId,
    /** Writes a line through `q` (the pool, or an open transaction of the test's). */
    async line(spec: LineSpec, q: Queryable = db): Promise<{ orderId: string; orderLineId: string; workflowId: string }> {
      const orderId = spec.orderId ?? uniqueId('O');
      const orderLineId = `${orderId}-000001`;
      const workflowId = `subscription:${orderId}:${orderLineId}`;
      await q.query(
        `insert into orders (order_id, merchant_id, customer_id, order_type, currency) values ($1, $2, 'C1', 'NEW', 'CNY') on conflict do nothing`,
        [orderId, merchantId],
      );
      await q.query(
        `insert into order_lines (order_id, order_line_id, product_id, sku_code, charging_mode, amount, workflow_id, status, accepted_at, trial, expire_time)
         values ($1, $2, $3, 'SKU1', $4, $5, $6, $7, $8, $9, $10)`,
        [orderId, orderLineId, productId, spec.chargingMode ?? 'PERIOD', spec.amount ?? '100.0000', workflowId, spec.status ?? 'active', spec.acceptedAt, spec.trial ?? false, spec.expireTime ?? null],
      );
      return { orderId, orderLineId, workflowId };
    },
  };
}

async function subscriptionOrder(
  q: Queryable,
  o: { orderId: string; workflowId: string; kind: 'renewal' | 'upgrade' | 'unsubscribe'; status?: string; updatedAt: string; detail?: object; amount?: string },
): Promise<void> {
  await q.query(
    `insert into subscription_orders (order_id, order_line_id, workflow_id, kind, status, detail, updated_at) values ($1, $1 || '-000001', $2, $3, $4, $5, $6)`,
    [o.orderId, o.workflowId, o.kind, o.status ?? 'completed', JSON.stringify(o.detail ?? {}), o.updatedAt],
  );
  if (o.kind === 'unsubscribe') return;
  const eventType = o.kind === 'renewal' ? 'order.renewed' : 'order.upgraded';
  const data = { orderId: o.orderId, orderLineId: `${o.orderId}-000001`, ...(o.amount ? { amount: o.amount, currency: 'CNY' } : {}) };
  await q.query(`insert into inbound_events (event_id, event_type, payload, payload_sha256, workflow_id) values ($1, $2, $3, 'x', $4)`, [
    uniqueId('evt'),
    eventType,
    JSON.stringify({ type: eventType, data }),
    o.workflowId,
  ]);
}

/** The merchant's lines in a period's statement: kind, order and amount. */
async function settled(period: string, merchantId: string): Promise<string[]> {
  const statement = await findStatement(db, `ST${period}-${merchantId}`);
  return (statement?.lines ?? []).map((l) => `${l.kind} ${l.orderId} ${l.amount}`);
}

/** A refund request of the refund workflow's table (migration 000010) for a line. */
async function refundRequest(
  m: { merchantId: string },
  line: { orderId: string; orderLineId: string },
  r: { refundOrderId: string; status: 'pending' | 'approved'; amount?: string; paid: string },
): Promise<void> {
  await db.query(
    `insert into refunds (refund_order_id, order_id, order_line_id, merchant_id, customer_id, kind, paid_amount, status, amount, currency,
                          workflow_id, event_id, requested_at, decided_at)
     values ($1, $2, $3, $4, 'C1', 'negotiated', $5, $6, $7, 'CNY', 'refund:' || $1, $1, now(), case when $6 = 'pending' then null else now() end)`,
    [r.refundOrderId, line.orderId, line.orderLineId, m.merchantId, r.paid, r.status, r.amount ?? null],
  );
}

/** Resolves once another session waits on a lock in a statement matching `query` (ILIKE); its pid. */
async function waitingOn(query: string): Promise<number> {
  for (let i = 0; i < 200; i += 1) {
    const { rows } = await db.query<{ pid: number }>(
      `select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query ilike $1`,
      [query],
    );
    if (rows[0]) return rows[0].pid;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nobody waits in ${query}`);
}

/** Runs `work` inside a transaction of its own that stays open until `release` is called. */
function openTransaction(work: (q: Queryable) => Promise<unknown>): { ready: Promise<void>; release: () => void; done: Promise<void> } {
  let release!: () => void;
  let ready!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const readyPromise = new Promise<void>((resolve) => (ready = resolve));
  const done = db.withTransaction(async (q) => {
    await work(q);
    ready();
    await released;
  });
  return { ready: readyPromise, release, done };
}

describe('the bill run scope', () => {
  it('when lines took effect in the period or earlier and are unsettled, then the run takes them once, in Beijing months', async () => {
    const m = await merchant();
    const inPeriod = await m.line({ acceptedAt: '2025-03-10T10:00:00+08:00' });
    const earlier = await m.line({ acceptedAt: '2025-02-10T10:00:00+08:00', amount: '50' });
    // 2025-04-01 00:30 in Beijing is still 2025-03-31 in UTC: it belongs to April.
    const next = await m.line({ acceptedAt: '2025-04-01T00:30:00+08:00', amount: '70' });
    await m.line({ acceptedAt: '2025-03-11T10:00:00+08:00', status: 'failed' });
    await m.line({ acceptedAt: '2025-03-11T10:00:00+08:00', status: 'provisioning' });
    await m.line({ acceptedAt: '2025-03-12T10:00:00+08:00', trial: true, amount: '0' });

    await computeScope(db, '202503', 'test');
    expect((await settled('202503', m.merchantId)).sort()).toEqual([`order ${earlier.orderId} 50.0000`, `order ${inPeriod.orderId} 100.0000`].sort());

    // A second run of the same period and the next period settle nothing twice.
    await computeScope(db, '202503', 'test');
    await computeScope(db, '202504', 'test');
    expect(await settled('202503', m.merchantId)).toHaveLength(2);
    expect(await settled('202504', m.merchantId)).toEqual([`order ${next.orderId} 70.0000`]);
  });

  it('when one-time and package orders are settled, then each appears once, with its tax rate and a stable number', async () => {
    const once = await merchant({ chargingMode: 'ONE_TIME' });
    const pkg = await merchant({ chargingMode: 'ON_DEMAND_PKG' });
    await once.line({ acceptedAt: '2025-03-03T10:00:00+08:00', chargingMode: 'ONE_TIME' });
    await pkg.line({ acceptedAt: '2025-03-04T10:00:00+08:00', chargingMode: 'ON_DEMAND_PKG', amount: '30' });
    const first = await computeScope(db, '202503', 'test');
    await computeScope(db, '202503', 'test');
    await computeScope(db, '202505', 'test');
    expect(first.statements).toEqual(expect.arrayContaining([{ statementNumber: `ST202503-${once.merchantId}`, merchantId: once.merchantId }]));
    const statement = await findStatement(db, `ST202503-${pkg.merchantId}`);
    expect(statement?.lines).toEqual([expect.objectContaining({ kind: 'order', amount: '30.0000', taxRate: '0.0600', currency: 'CNY' })]);
    expect(statement?.totals).toEqual([{ currency: 'CNY', taxRate: '0.0600', amount: '30.0000' }]);
    expect(await settled('202505', pkg.merchantId)).toEqual([]);
    expect(await settled('202503', once.merchantId)).toHaveLength(1);
  });

  it('when renewals are applied, then each belongs to the period its term starts in, and one without an amount is not settled', async () => {
    const m = await merchant();
    const original = await m.line({ acceptedAt: '2025-04-15T10:00:00+08:00', expireTime: '2025-06-15T10:00:00+08:00' });
    const first = uniqueId('R');
    const second = uniqueId('R');
    const unpriced = uniqueId('R');
    // Both renewals were bought in May; the first starts when the original ends (June), the second in July.
    await subscriptionOrder(db, { orderId: first, workflowId: original.workflowId, kind: 'renewal', updatedAt: '2025-05-02T10:00:00+08:00', detail: { expireTime: '2025-07-15T02:00:00Z' }, amount: '100' });
    await subscriptionOrder(db, { orderId: second, workflowId: original.workflowId, kind: 'renewal', updatedAt: '2025-05-03T10:00:00+08:00', detail: { expireTime: '2025-08-15T02:00:00Z' }, amount: '110' });
    await subscriptionOrder(db, { orderId: unpriced, workflowId: original.workflowId, kind: 'renewal', updatedAt: '2025-05-04T10:00:00+08:00', detail: { expireTime: '2025-09-15T02:00:00Z' } });

    await computeScope(db, '202605', 'test');
    const lines = await settled('202605', m.merchantId);
    expect(lines).toEqual(
      expect.arrayContaining([`order ${original.orderId} 100.0000`, `renewal ${first} 100.0000`, `renewal ${second} 110.0000`]),
    );
    expect(lines).toHaveLength(3);
    const statement = await findStatement(db, `ST202605-${m.merchantId}`);
    expect(statement?.lines.find((l) => l.orderId === first)?.effectiveAt).toBe('2025-06-15T02:00:00.000Z');
    expect(statement?.lines.find((l) => l.orderId === second)?.effectiveAt).toBe('2025-07-15T02:00:00.000Z');
  });

  it('when a renewal starts after the period, then the period leaves it for the run of the month it starts in', async () => {
    const m = await merchant();
    const original = await m.line({ acceptedAt: '2025-05-01T10:00:00+08:00', expireTime: '2025-07-20T10:00:00+08:00' });
    const renewal = uniqueId('R');
    await subscriptionOrder(db, { orderId: renewal, workflowId: original.workflowId, kind: 'renewal', updatedAt: '2025-06-02T10:00:00+08:00', detail: { expireTime: '2025-08-20T02:00:00Z' }, amount: '90' });
    await computeScope(db, '202506', 'test');
    expect(await settled('202506', m.merchantId)).toEqual([`order ${original.orderId} 100.0000`]);
    await computeScope(db, '202507', 'test');
    expect(await settled('202507', m.merchantId)).toEqual([`renewal ${renewal} 90.0000`]);
  });

  it('when a product is supervised, then its line waits for the supervision to complete and settles in the month it completed', async () => {
    const m = await merchant({ supervised: true });
    const line = await m.line({ acceptedAt: '2025-03-05T10:00:00+08:00' });
    await computeScope(db, '202503', 'test');
    expect(await settled('202503', m.merchantId)).toEqual([]);
    await db.query(
      `insert into supervisions (workflow_id, order_id, order_line_id, merchant_id, customer_id, product_id, variant, node, node_since, completed_at)
       values ($1, $2, $3, $4, 'C1', $5, 'service', 'completed', $6, $6)`,
      [`supervision:${line.orderId}:${line.orderLineId}`, line.orderId, line.orderLineId, m.merchantId, m.productId, '2025-04-20T10:00:00+08:00'],
    );
    await computeScope(db, '202503', 'test');
    expect(await settled('202503', m.merchantId)).toEqual([]);
    await computeScope(db, '202504', 'test');
    expect(await settled('202504', m.merchantId)).toEqual([`order ${line.orderId} 100.0000`]);
  });

  it('when an order is refunded, then the refund is a negative line beside its original and the two net to zero', async () => {
    const m = await merchant();
    const line = await m.line({ acceptedAt: '2025-03-12T10:00:00+08:00', amount: '80', status: 'released' });
    const unsubscribe = uniqueId('U');
    await subscriptionOrder(db, { orderId: unsubscribe, workflowId: line.workflowId, kind: 'unsubscribe', updatedAt: '2025-03-14T10:00:00+08:00' });
    await computeScope(db, '202503', 'test');
    const statement = await findStatement(db, `ST202503-${m.merchantId}`);
    expect(statement?.lines.map((l) => [l.kind, l.orderId, l.orderLineId, l.amount, l.refundOrderId])).toEqual([
      ['order', line.orderId, line.orderLineId, '80.0000', null],
      ['refund', line.orderId, line.orderLineId, '-80.0000', unsubscribe],
    ]);
    expect(statement?.totals).toEqual([{ currency: 'CNY', taxRate: '0.0600', amount: '0.0000' }]);
  });

  it('when a refund comes in a later month, then it settles there beside the original settled before', async () => {
    const m = await merchant();
    const line = await m.line({ acceptedAt: '2025-08-12T10:00:00+08:00', amount: '40', status: 'released' });
    await computeScope(db, '202608', 'test');
    await subscriptionOrder(db, { orderId: uniqueId('U'), workflowId: line.workflowId, kind: 'unsubscribe', updatedAt: '2025-09-02T10:00:00+08:00' });
    await computeScope(db, '202609', 'test');
    expect(await settled('202608', m.merchantId)).toEqual([`order ${line.orderId} 40.0000`]);
    expect(await settled('202609', m.merchantId)).toEqual([`refund ${line.orderId} -40.0000`]);
  });

  it('when a negotiated refund is approved for part of the line, then its negative line is the refunded amount', async () => {
    const m = await merchant();
    const line = await m.line({ acceptedAt: '2025-03-12T10:00:00+08:00', amount: '80', status: 'released' });
    const refundOrderId = uniqueId('U');
    await refundRequest(m, line, { refundOrderId, status: 'approved', amount: '30', paid: '80' });
    await subscriptionOrder(db, { orderId: refundOrderId, workflowId: line.workflowId, kind: 'unsubscribe', updatedAt: '2025-03-14T10:00:00+08:00' });
    await computeScope(db, '202503', 'test');
    const statement = await findStatement(db, `ST202503-${m.merchantId}`);
    expect(statement?.lines.map((l) => [l.kind, l.amount, l.refundOrderId])).toEqual([
      ['order', '80.0000', null],
      ['refund', '-30.0000', refundOrderId],
    ]);
    expect(statement?.totals).toEqual([{ currency: 'CNY', taxRate: '0.0600', amount: '50.0000' }]);
  });

  it('when a refund is still pending at the run, then it waits for its decision and settles in the next statement once approved', async () => {
    const m = await merchant();
    const line = await m.line({ acceptedAt: '2025-05-12T10:00:00+08:00', amount: '60', status: 'released' });
    const refundOrderId = uniqueId('U');
    await refundRequest(m, line, { refundOrderId, status: 'pending', paid: '60' });
    await subscriptionOrder(db, { orderId: refundOrderId, workflowId: line.workflowId, kind: 'unsubscribe', updatedAt: '2025-05-14T10:00:00+08:00' });
    await computeScope(db, '202505', 'test');
    expect(await settled('202505', m.merchantId)).toEqual([`order ${line.orderId} 60.0000`]);

    await db.query(`update refunds set status = 'approved', amount = 60, decided_at = now() where refund_order_id = $1`, [refundOrderId]);
    await computeScope(db, '202505', 'test');
    expect(await settled('202505', m.merchantId)).toEqual([`order ${line.orderId} 60.0000`]);
    await computeScope(db, '202506', 'test');
    expect(await settled('202506', m.merchantId)).toEqual([`refund ${line.orderId} -60.0000`]);
  });

  it('when a fact is being written as the run starts, then the run waits for it, and a fact written after the run goes to the next period', async () => {
    const m = await merchant();
    const writer = openTransaction((q) => m.line({ acceptedAt: '2026-01-10T10:00:00+08:00', amount: '11' }, q));
    await writer.ready;
    const run = computeScope(db, '202601', 'test');
    try {
      await waitingOn('select pg_advisory_xact_lock(%');
    } finally {
      writer.release();
      await writer.done;
    }
    await run;
    const inFlight = await settled('202601', m.merchantId);
    expect(inFlight).toHaveLength(1);

    // Recorded after the run, though it took effect in January: the January statement stays as made.
    const late = await m.line({ acceptedAt: '2026-01-20T10:00:00+08:00', amount: '12' });
    await computeScope(db, '202601', 'test');
    expect(await settled('202601', m.merchantId)).toEqual(inFlight);
    await computeScope(db, '202602', 'test');
    expect(await settled('202602', m.merchantId)).toEqual([`order ${late.orderId} 12.0000`]);
  });

  it('when a run is cut off half-way, then nothing of it stays and the run again settles each line once', async () => {
    const m = await merchant();
    const lines = [await m.line({ acceptedAt: '2026-03-03T10:00:00+08:00' }), await m.line({ acceptedAt: '2026-03-04T10:00:00+08:00' })];
    // Holding the merchant's row stops the run as it makes the statements (their key check on merchants waits).
    const holder = openTransaction((q) => q.query(`select 1 from merchants where merchant_id = $1 for update`, [m.merchantId]));
    await holder.ready;
    try {
      const cut = computeScope(db, '202603', 'test');
      const pid = await waitingOn('with made as%');
      // Cancelled as a timed-out activity's statement is; a killed worker's connection ends the same way: rolled back.
      await db.query('select pg_cancel_backend($1)', [pid]);
      await expect(cut).rejects.toMatchObject({ code: '57014' });
    } finally {
      holder.release();
      await holder.done;
    }
    expect((await db.query('select count(*)::int as n from statements where merchant_id = $1', [m.merchantId])).rows).toEqual([{ n: 0 }]);

    const again = await computeScope(db, '202603', 'test');
    expect(again.statements).toEqual(expect.arrayContaining([{ statementNumber: `ST202603-${m.merchantId}`, merchantId: m.merchantId }]));
    expect((await settled('202603', m.merchantId)).sort()).toEqual(lines.map((l) => `order ${l.orderId} 100.0000`).sort());
  });

  it('when a dispute adjustment is appended after a statement is made, then it lands on the next statement, once', async () => {
    const m = await merchant();
    const line = await m.line({ acceptedAt: '2026-05-06T10:00:00+08:00', amount: '90' });
    await computeScope(db, '202605', 'test');
    const fact = {
      factKey: `adjustment:${uniqueId('D')}`,
      kind: 'adjustment' as const,
      merchantId: m.merchantId,
      orderId: line.orderId,
      orderLineId: line.orderLineId,
      productId: m.productId,
      skuCode: 'SKU1',
      amount: '-5.5',
      currency: 'CNY',
      taxRate: '0.0600',
      effectiveAt: '2026-05-20T10:00:00+08:00',
      reference: 'dispute',
    };
    const appended = await appendLedgerFact(db, fact);
    expect(appended).toEqual({ appended: true, ledgerId: expect.any(String), settlePeriod: '202606' });
    expect(await appendLedgerFact(db, fact)).toEqual({ ...appended, appended: false });
    await computeScope(db, '202605', 'test');
    expect(await settled('202605', m.merchantId)).toEqual([`order ${line.orderId} 90.0000`]);
    await computeScope(db, '202606', 'test');
    expect(await settled('202606', m.merchantId)).toEqual([`adjustment ${line.orderId} -5.5000`]);
  });

  it('when two runs of different periods overlap, then every line is settled exactly once', async () => {
    const merchants = await Promise.all([merchant(), merchant(), merchant()]);
    const lines = [];
    for (const m of merchants) for (let i = 0; i < 20; i += 1) lines.push(await m.line({ acceptedAt: '2025-07-10T10:00:00+08:00' }));
    await Promise.all([computeScope(db, '202610', 'test'), computeScope(db, '202611', 'test'), computeScope(db, '202610', 'test')]);
    const { rows } = await db.query<{ orderId: string; n: number }>(
      `select order_id as "orderId", count(*)::int as n from statement_lines where order_id = any($1::text[]) group by order_id`,
      [lines.map((l) => l.orderId)],
    );
    expect(rows).toHaveLength(lines.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    // The ledger itself refuses a second row of the same fact.
    const first = lines[0];
    if (!first) throw new Error('no line');
    await expect(
      db.query(
        `insert into settlement_ledger (fact_key, kind, merchant_id, order_id, order_line_id, product_id, sku_code, amount, currency, tax_rate, effective_at, settle_period)
         select fact_key, kind, merchant_id, order_id, order_line_id, product_id, sku_code, amount, currency, tax_rate, effective_at, '202701'
           from settlement_ledger where order_id = $1`,
        [first.orderId],
      ),
    ).rejects.toMatchObject({ code: '23505' });
  });
});
