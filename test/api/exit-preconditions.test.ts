/**
 * What the exit reads from PostgreSQL (spec §9.4), on the test database: each kind of order in
 * fulfilment, unsettled and uninvoiced orders from the settlement tables, the live
 * subscriptions' current paid term (after a renewal too) for the pro-rata refund, the merchant
 * directory refusing a removed merchant, and the move to removed erasing the keys.
 */
import { randomUUID } from 'node:crypto';
import { createExitActivities } from '../../src/activities/governance/exit';
import { createMerchantDirectory } from '../../src/clients/merchant-directory';
import { upsertProduct } from '../../src/db/repositories/catalog/merchants';
import type { Db } from '../../src/db/pool';
import { encryptor, registerMerchant, testDb, uniqueId } from '../activities/fixtures';

let db: Db;
let exits: ReturnType<typeof createExitActivities>;

beforeAll(() => {
  db = testDb();
  exits = createExitActivities({ db });
});

afterAll(async () => {
  await db.close();
});

async function merchant(): Promise<{ merchantId: string; productId: string }> {
  const merchantId = uniqueId('M-exitpre');
  await registerMerchant(db, { merchantId, productionUrl: 'http://127.0.0.1:1/saasproduce', accessKey: `${merchantId}-key` });
  const productId = `${merchantId}-p`;
  await upsertProduct(db, { productId, merchantId, name: 'p', chargingMode: 'PERIOD', retentionDays: 15 });
  return { merchantId, productId };
}

/** A line of 99.00 paid 10 days ago expiring in 20 days, in `status`; answers its ids. */
async function line(m: { merchantId: string; productId: string }, status: string): Promise<{ orderId: string; orderLineId: string; workflowId: string }> {
  const orderId = uniqueId('O');
  const workflowId = `subscription:${orderId}:${orderId}-1`;
  await db.query(`insert into orders (order_id, merchant_id, customer_id, order_type, currency) values ($1, $2, 'C', 'NEW', 'CNY')`, [orderId, m.merchantId]);
  await db.query(
    `insert into order_lines (order_id, order_line_id, product_id, sku_code, charging_mode, amount, workflow_id, status, accepted_at, expire_time)
     values ($1, $1 || '-1', $2, 'SKU', 'PERIOD', 99.00, $3, $4, now() - interval '10 days', now() + interval '20 days')`,
    [orderId, m.productId, workflowId, status],
  );
  return { orderId, orderLineId: `${orderId}-1`, workflowId };
}

async function attempt(m: { merchantId: string }, l: { orderId: string; orderLineId: string; workflowId: string }, outcome: string, agoSeconds: number): Promise<void> {
  await db.query(
    `insert into call_attempts (attempt_id, workflow_id, order_id, order_line_id, merchant_id, scenario, activity, attempt, outcome, latency_ms, started_at)
     values ($1, $2, $3, $4, $5, 'renewal', 'refreshInstance', 1, $6, 10, now() - make_interval(secs => $7))`,
    [randomUUID(), l.workflowId, l.orderId, l.orderLineId, m.merchantId, outcome, agoSeconds],
  );
}

const preconditionsOf = async (merchantId: string) => Object.fromEntries((await exits.checkExitPreconditions(merchantId)).blocking.map((b) => [b.precondition, b.orders.map((o) => `${o.orderId}: ${o.why}`)]));

describe('the exit preconditions', () => {
  it('name every order in fulfilment: provisioning, a failed last call, a pending order, an open supervision; a call that failed and then succeeded does not block', async () => {
    const m = await merchant();
    const provisioning = await line(m, 'provisioning');
    const failing = await line(m, 'active');
    await attempt(m, failing, 'success', 60);
    await attempt(m, failing, 'failure', 30);
    const recovered = await line(m, 'active');
    await attempt(m, recovered, 'failure', 60);
    await attempt(m, recovered, 'success', 30);
    const pending = await line(m, 'active');
    await db.query(`insert into subscription_orders (order_id, order_line_id, workflow_id, kind, status) values ($1, $1 || '-1', $2, 'upgrade', 'pending')`, [`U-${pending.orderId}`, pending.workflowId]);
    const supervised = await line(m, 'active');
    await db.query(
      `insert into supervisions (workflow_id, order_id, order_line_id, merchant_id, customer_id, product_id, variant, node, node_since)
       values ($1, $2, $3, $4, 'C', $5, 'service', 'in-delivery', now())`,
      [`supervision:${supervised.orderId}`, supervised.orderId, supervised.orderLineId, m.merchantId, m.productId],
    );

    const blocking = await preconditionsOf(m.merchantId);
    // In order of the orders, created one after the other.
    expect(blocking['no-order-in-fulfilment']).toEqual([
      `${provisioning.orderId}: subscription provisioning: its create runs or retries`,
      expect.stringMatching(new RegExp(`^${failing.orderId}: its last merchant call \\(refreshInstance, renewal\\) failed at .*: retrying or waiting for a restart$`)),
      `${pending.orderId}: upgrade order U-${pending.orderId} still pending`,
      `${supervised.orderId}: supervision open at in-delivery: the delivery is not accepted yet`,
    ]);
    expect(blocking['no-order-in-fulfilment']?.some((b) => b.startsWith(recovered.orderId))).toBe(false);
  });

  it('read unsettled and uninvoiced orders from the settlement ledger: not billed, on an unpaid statement, invoiced and paid, or cleared by a no-invoice proof', async () => {
    const m = await merchant();
    const billed = await line(m, 'active');
    const proven = await line(m, 'released');
    // The ledger took both when they were written; the merchant's statement of their period covers them.
    const { rows } = await db.query<{ period: string }>(`select settle_period as period from settlement_ledger where order_id = $1`, [billed.orderId]);
    const period = rows[0]!.period;
    await db.query(`insert into settlement_runs (period, period_start, period_end, started_by) values ($1, now(), now(), 'test') on conflict do nothing`, [period]);
    const statementNumber = `ST${period}-${m.merchantId}`;
    await db.query(`insert into statements (statement_number, period, merchant_id, step) values ($1, $2, $3, 'invoicing')`, [statementNumber, period, m.merchantId]);
    // Written after the statement: it settles in a later period, not billed yet.
    const unbilled = await line(m, 'active');
    await db.query(`insert into exit_no_invoice_proofs (merchant_id, order_id, file_name, content_type, size_bytes, sha256, content, uploaded_by) values ($1, $2, 'a.pdf', 'application/pdf', 1, 'x', '\\x00', $1)`, [m.merchantId, proven.orderId]);

    const blocking = await preconditionsOf(m.merchantId);
    expect(blocking['no-unsettled-order']).toEqual([
      `${billed.orderId}: its order line is on statement ${statementNumber} at invoicing, not paid`,
      `${proven.orderId}: its order line is on statement ${statementNumber} at invoicing, not paid`,
      expect.stringMatching(new RegExp(`^${unbilled.orderId}: its order line is not billed yet \\(settles in \\d{6}\\)$`)),
    ]);
    expect(blocking['no-uninvoiced-order']).toEqual([`${billed.orderId}: no invoice on file for statement ${statementNumber}`, `${unbilled.orderId}: not billed yet, so not invoiced`]);

    // Invoiced and paid: the statement's orders block neither.
    const requestNumber = `SF-${statementNumber}`;
    await db.query(`insert into payment_requests (request_number, statement_number) values ($1, $2)`, [requestNumber, statementNumber]);
    await db.query(`insert into invoices (invoice_number, request_number, tax_rate, amount, currency, taxpayer_id, remarks) values ($1, $2, 0.06, 198, 'CNY', 'T', 'r')`, [`INV-${statementNumber}`, requestNumber]);
    await db.query(`update statements set step = 'paid' where statement_number = $1`, [statementNumber]);
    const after = await preconditionsOf(m.merchantId);
    expect(after['no-unsettled-order']).toEqual([expect.stringMatching(new RegExp(`^${unbilled.orderId}: `))]);
    expect(after['no-uninvoiced-order']).toEqual([`${unbilled.orderId}: not billed yet, so not invoiced`]);
  });
});

describe('the live subscriptions', () => {
  it('carry the current paid term: the payment to the expiry, or after a renewal the term before it ends to the new expiry at the renewal amount', async () => {
    const m = await merchant();
    const first = await line(m, 'active');
    const renewed = await line(m, 'frozen');
    const { rows } = await db.query<{ expire: Date }>(`select expire_time as expire from order_lines where order_id = $1`, [renewed.orderId]);
    const firstEnd = rows[0]!.expire;
    const newEnd = new Date(firstEnd.getTime() + 30 * 86_400_000);
    await db.query(`insert into instances (instance_id, merchant_id, order_id, order_line_id, product_id, status, expire_time, workflow_id) values ($1, $2, $3, $4, $5, 'active', $6, $7)`, [
      `i-${renewed.orderId}`,
      m.merchantId,
      renewed.orderId,
      renewed.orderLineId,
      m.productId,
      newEnd,
      renewed.workflowId,
    ]);
    const renewalOrder = `R-${renewed.orderId}`;
    await db.query(`insert into subscription_orders (order_id, order_line_id, workflow_id, kind, status, detail) values ($1, $1 || '-1', $2, 'renewal', 'completed', $3)`, [
      renewalOrder,
      renewed.workflowId,
      JSON.stringify({ expireTime: newEnd.toISOString() }),
    ]);
    await db.query(`insert into inbound_events (event_id, event_type, payload, payload_sha256, workflow_id) values ($1, 'order.renewed', $2, 'x', $3)`, [
      `evt-${renewalOrder}`,
      JSON.stringify({ type: 'order.renewed', data: { orderId: renewalOrder, amount: '89.00' } }),
      renewed.workflowId,
    ]);

    const live = await exits.liveSubscriptions(m.merchantId);
    expect(live.map((l) => l.orderId)).toEqual([first.orderId, renewed.orderId].sort());
    const byOrder = Object.fromEntries(live.map((l) => [l.orderId, l]));
    expect(byOrder[first.orderId]).toMatchObject({ paidAmount: '99.0000', subscriptionWorkflowId: first.workflowId, customerId: 'C', currency: 'CNY' });
    expect(byOrder[first.orderId]!.expiresAtMs! - byOrder[first.orderId]!.paidAtMs).toBeCloseTo(30 * 86_400_000, -4);
    expect(byOrder[renewed.orderId]).toMatchObject({ paidAmount: '89.00', paidAtMs: firstEnd.getTime(), expiresAtMs: newEnd.getTime() });
  });
});

describe('a removed merchant', () => {
  it('has its keys erased and is refused by the merchant directory (nothing is sent to it)', async () => {
    const m = await merchant();
    const directory = createMerchantDirectory(db, encryptor);
    expect(await directory.endpoint(m.merchantId)).toMatchObject({ merchantId: m.merchantId, accessKey: `${m.merchantId}-key` });
    await exits.removeMerchant({ merchantId: m.merchantId, actor: 'ops-anna', reason: 'exit approved' });
    const row = (await db.query(`select listing_state, access_key_enc from merchants where merchant_id = $1`, [m.merchantId])).rows[0];
    expect(row).toEqual({ listing_state: 'removed', access_key_enc: '' });
    await expect(directory.endpoint(m.merchantId)).rejects.toMatchObject({ type: 'MerchantRemoved', nonRetryable: true });
    expect((await db.query(`select from_state, to_state, actor from listing_changes where merchant_id = $1`, [m.merchantId])).rows).toEqual([{ from_state: 'active', to_state: 'removed', actor: 'ops-anna' }]);
  });
});
