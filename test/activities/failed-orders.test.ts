/**
 * Failed orders delist a product (spec §4), on real PostgreSQL, through the real activity the
 * subscription workflow calls when a create's window runs out (updateOrderLine with status
 * 'failed'): the sixth failed order of a Beijing calendar month delists the product (actor
 * interface-sanctions, the count in the reason) and tells the merchant once, in-site and by
 * e-mail, with the orders; the seventh, a retry and two failures at once change nothing more.
 * An activity test, not a workflow test: the workflow's part is unchanged (it marks the line
 * failed), and the sanction lives entirely in that activity.
 */
import request from 'supertest';
import { sampleOrderPaid } from '../../src/dev/marketplace-client';
import { createSubscriptionRecordActivities } from '../../src/activities/subscription/records';
import type { MailMessage } from '../../src/clients/mailer';
import { signWebhook } from '../../src/platform/security/standard-webhooks';
import { apiHarness, uniqueId, type ApiHarness } from '../helpers/api-harness';

let h: ApiHarness;
const sent: MailMessage[] = [];
let activities: ReturnType<typeof createSubscriptionRecordActivities>;

beforeAll(async () => {
  h = await apiHarness();
  activities = createSubscriptionRecordActivities({ db: h.db, mailer: { send: async (message) => void sent.push(message) } });
});

afterAll(async () => {
  await h?.close();
});

const operator = () => ({ authorization: `Bearer ${h.config.operatorToken}`, 'x-operator': 'alice' });

async function merchantWithProduct(): Promise<{ merchantId: string; productId: string; email: string }> {
  const merchantId = uniqueId('M');
  const productId = uniqueId('P');
  const email = `${merchantId.toLowerCase()}@merchant.example`;
  await request(h.app)
    .put(`/v1/merchants/${merchantId}`)
    .set(operator())
    .send({ name: 'Failing merchant', productionUrl: 'http://127.0.0.1:9/saasproduce', protocolVersion: 'v2', accessKey: 'test-access-key', contactEmail: email })
    .expect(201);
  await request(h.app).put(`/v1/merchants/${merchantId}/products/${productId}`).set(operator()).send({ name: 'Monthly', chargingMode: 'PERIOD', retentionDays: 7 }).expect(201);
  return { merchantId, productId, email };
}

/** Paid order lines of the product, taken in through the webhook, as the subscription stores them. */
async function paidLines(merchantId: string, productId: string, count: number): Promise<Array<{ orderId: string; orderLineId: string; productId: string }>> {
  const lines = [];
  for (let i = 0; i < count; i += 1) {
    const event = sampleOrderPaid({ merchantId, productId, orderId: uniqueId('CS') });
    const body = JSON.stringify(event);
    const id = uniqueId('msg_');
    await request(h.app).post('/v1/marketplace/events').set(signWebhook(h.config.webhook.secret, id, body)).set('content-type', 'application/json').send(body).expect(202);
    lines.push({ orderId: String(event.data.orderId), orderLineId: String(event.data.orderLineId), productId });
  }
  return lines;
}

/** What the create step does when its window runs out. */
const fail = (line: { orderId: string; orderLineId: string; productId: string }) =>
  activities.updateOrderLine({ ...line, status: 'failed', failureReason: 'merchant did not provision the instance within 180 minutes' });

async function stateOf(productId: string, merchantId: string) {
  const product = await h.db.query<{ listing_state: string }>(`select listing_state from products where product_id = $1`, [productId]);
  const changes = await h.db.query<{ actor: string; from_state: string; to_state: string; reason: string }>(
    `select actor, from_state, to_state, reason from listing_changes where product_id = $1 order by change_id`,
    [productId],
  );
  const notices = await h.db.query<{ subject: string; body: string; email_status: string }>(
    `select subject, body, email_status from notifications where recipient_type = 'merchant' and recipient_id = $1 order by notification_id`,
    [merchantId],
  );
  return { state: product.rows[0]?.listing_state, changes: changes.rows, notices: notices.rows };
}

describe('failed orders delist the product', () => {
  it('when the sixth order of the month fails, then the product is delisted once and the merchant told with the orders; the seventh and a retry change nothing', async () => {
    const { merchantId, productId, email } = await merchantWithProduct();
    const lines = await paidLines(merchantId, productId, 7);

    for (const line of lines.slice(0, 5)) await fail(line);
    const atFive = await stateOf(productId, merchantId);
    expect(atFive).toMatchObject({ state: 'on_sale', changes: [], notices: [] });

    await fail(lines[5]!);
    const atSix = await stateOf(productId, merchantId);
    expect(atSix.state).toBe('delisted');
    expect(atSix.changes).toEqual([{ actor: 'interface-sanctions', from_state: 'on_sale', to_state: 'delisted', reason: expect.stringContaining('6 orders failed in') }]);
    expect(atSix.notices).toHaveLength(1);
    expect(atSix.notices[0]).toMatchObject({ subject: expect.stringContaining(`Product ${productId} delisted: 6 orders failed`), email_status: 'sent' });
    for (const line of lines.slice(0, 6)) expect(atSix.notices[0]?.body).toContain(line.orderId);
    expect(sent.filter((m) => m.to === email)).toHaveLength(1);

    await fail(lines[6]!);
    await fail(lines[5]!); // the activity retried
    const after = await stateOf(productId, merchantId);
    expect(after.changes).toHaveLength(1);
    expect(after.notices).toHaveLength(1);
    expect(sent.filter((m) => m.to === email)).toHaveLength(1);
    const sanctions = await h.db.query(`select failed_count, jsonb_array_length(orders) as orders from failed_order_sanctions where product_id = $1`, [productId]);
    expect(sanctions.rows).toEqual([{ failed_count: 6, orders: 6 }]);
  });

  it('when the sixth and seventh fail at the same moment, then one delisting and one notice', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    const lines = await paidLines(merchantId, productId, 7);
    for (const line of lines.slice(0, 5)) await fail(line);

    await Promise.all([fail(lines[5]!), fail(lines[6]!)]);

    const after = await stateOf(productId, merchantId);
    expect(after.state).toBe('delisted');
    expect(after.changes).toHaveLength(1);
    expect(after.notices).toHaveLength(1);
  });

  it('when an operator already delisted the product, then the failures leave it as it is and send no notice', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    const lines = await paidLines(merchantId, productId, 6);
    await request(h.app).post(`/v1/merchants/${merchantId}/products/${productId}/listing`).set(operator()).send({ state: 'permanently_delisted', reason: 'fraud' }).expect(200);

    for (const line of lines) await fail(line);

    const after = await stateOf(productId, merchantId);
    expect(after.state).toBe('permanently_delisted');
    expect(after.changes.map((c) => c.actor)).toEqual(['alice']);
    expect(after.notices).toEqual([]);
  });

  it('when a line becomes active or released, then nothing is counted or changed', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    const lines = await paidLines(merchantId, productId, 6);
    for (const line of lines) await activities.updateOrderLine({ ...line, status: 'active', instanceId: uniqueId('inst') });
    expect(await stateOf(productId, merchantId)).toMatchObject({ state: 'on_sale', changes: [], notices: [] });
  });
});
