/**
 * Listing states over HTTP, on real PostgreSQL: operators change a merchant's or a product's
 * state through the allowed transitions, each change recorded with who and why; a paid order
 * for a product not on sale, or from a merchant not trading, is refused and nothing stored.
 */
import request from 'supertest';
import { sampleOrderPaid } from '../../src/dev/marketplace-client';
import { updateOrderLineStatus } from '../../src/db/repositories/subscription/orders';
import { signWebhook } from '../../src/platform/security/standard-webhooks';
import { apiHarness, uniqueId, type ApiHarness } from '../helpers/api-harness';

let h: ApiHarness;

beforeAll(async () => {
  h = await apiHarness();
});

afterAll(async () => {
  await h?.close();
});

const operator = () => ({ authorization: `Bearer ${h.config.operatorToken}`, 'x-operator': 'alice' });

async function merchantWithProduct(): Promise<{ merchantId: string; productId: string }> {
  const merchantId = uniqueId('M');
  const productId = uniqueId('P');
  await request(h.app)
    .put(`/v1/merchants/${merchantId}`)
    .set(operator())
    .send({ name: 'Governed merchant', productionUrl: 'http://127.0.0.1:9/saasproduce', protocolVersion: 'v2', accessKey: 'test-access-key' })
    .expect(201);
  await request(h.app).put(`/v1/merchants/${merchantId}/products/${productId}`).set(operator()).send({ name: 'Monthly', chargingMode: 'PERIOD', retentionDays: 7 }).expect(201);
  return { merchantId, productId };
}

const productListing = (merchantId: string, productId: string, body: unknown) =>
  request(h.app).post(`/v1/merchants/${merchantId}/products/${productId}/listing`).set(operator()).send(body as object);

const merchantListing = (merchantId: string, body: unknown) => request(h.app).post(`/v1/merchants/${merchantId}/listing`).set(operator()).send(body as object);

async function changesOf(merchantId: string): Promise<Array<Record<string, unknown>>> {
  const { rows } = await h.db.query(
    `select target_type, product_id, from_state, to_state, until, actor, reason from listing_changes where merchant_id = $1 order by change_id`,
    [merchantId],
  );
  return rows;
}

describe('product listing', () => {
  it('when an operator hides and relists a product, then each change is recorded with who and why', async () => {
    // Arrange
    const { merchantId, productId } = await merchantWithProduct();
    // Act
    const hidden = await productListing(merchantId, productId, { state: 'hidden', reason: 'dial tests failing' }).expect(200);
    await productListing(merchantId, productId, { state: 'on_sale', reason: 'dial tests pass again' }).expect(200);
    // Assert
    expect(hidden.body).toMatchObject({ merchantId, productId, state: 'hidden', change: { from: 'on_sale', to: 'hidden', actor: 'alice', reason: 'dial tests failing' } });
    expect(await changesOf(merchantId)).toEqual([
      { target_type: 'product', product_id: productId, from_state: 'on_sale', to_state: 'hidden', until: null, actor: 'alice', reason: 'dial tests failing' },
      { target_type: 'product', product_id: productId, from_state: 'hidden', to_state: 'on_sale', until: null, actor: 'alice', reason: 'dial tests pass again' },
    ]);
  });

  it('when a product is permanently delisted, then no later change is allowed: 409 naming why', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    await productListing(merchantId, productId, { state: 'permanently_delisted', reason: 'fraudulent self-purchases' }).expect(200);

    const response = await productListing(merchantId, productId, { state: 'on_sale', reason: 'asked nicely' }).expect(409);

    expect(response.body.error).toMatchObject({ code: 'permanently_delisted' });
    const { rows } = await h.db.query(`select listing_state from products where product_id = $1`, [productId]);
    expect(rows[0]).toEqual({ listing_state: 'permanently_delisted' });
    expect(await changesOf(merchantId)).toHaveLength(1);
  });

  it('when the state is unchanged, then 409 listing_unchanged and nothing recorded', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    const response = await productListing(merchantId, productId, { state: 'on_sale', reason: 'just in case' }).expect(409);
    expect(response.body.error.code).toBe('listing_unchanged');
    expect(await changesOf(merchantId)).toEqual([]);
  });

  it('when the body is wrong, then 400 naming the field', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    const cases: Array<[unknown, string]> = [
      [{ state: 'delisted_until', reason: 'content out of date' }, 'until'],
      [{ state: 'delisted', reason: 'content out of date', until: '2030-01-01T00:00:00Z' }, 'until'],
      [{ state: 'delisted_until', reason: 'content out of date', until: 'next week' }, 'until'],
      [{ state: 'delisted_until', reason: 'content out of date', until: '2001-01-01T00:00:00Z' }, 'until'],
      [{ state: 'gone', reason: 'content out of date' }, 'state'],
      [{ state: 'hidden' }, 'reason'],
    ];
    for (const [body, field] of cases) {
      const response = await productListing(merchantId, productId, body).expect(400);
      expect(response.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect(await changesOf(merchantId)).toEqual([]);
  });

  it('when the product belongs to another merchant, then 404 and the product is unchanged', async () => {
    const mine = await merchantWithProduct();
    const other = await merchantWithProduct();
    const response = await productListing(other.merchantId, mine.productId, { state: 'delisted', reason: 'wrong merchant' }).expect(404);
    expect(response.body.error.code).toBe('product_not_found');
    const { rows } = await h.db.query(`select listing_state from products where product_id = $1`, [mine.productId]);
    expect(rows[0]).toEqual({ listing_state: 'on_sale' });
  });

  it('when the caller is no operator, a path id is malformed or the product unknown, then 401, 400 naming it or 404, and nothing recorded', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    const body = { state: 'delisted', reason: 'content out of date' };
    await request(h.app).post(`/v1/merchants/${merchantId}/products/${productId}/listing`).send(body).expect(401);
    await request(h.app).post(`/v1/merchants/${merchantId}/listing`).set({ authorization: 'Bearer not-the-operator-token' }).send(body).expect(401);
    const badProduct = await productListing(merchantId, 'no spaces', body).expect(400);
    expect(badProduct.body.error.details[0].field).toBe('productId');
    const badMerchant = await merchantListing('bad!id', { state: 'trading_frozen', reason: 'freeze' }).expect(400);
    expect(badMerchant.body.error.details[0].field).toBe('merchantId');
    const unknown = await productListing(merchantId, uniqueId('P'), body).expect(404);
    expect(unknown.body.error.code).toBe('product_not_found');
    const extra = await productListing(merchantId, productId, { ...body, actor: 'mallory' }).expect(400);
    expect(extra.body.error.details[0].field).toBe('(body)');
    expect(await changesOf(merchantId)).toEqual([]);
  });

  it('when a delisting for a period has ended, then the product reads on sale and its next change starts from on_sale', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    await productListing(merchantId, productId, { state: 'delisted_until', reason: 'content out of date', until: new Date(Date.now() + 3_600_000).toISOString() }).expect(200);
    // The period ends: move its end into the past, as time would.
    await h.db.query(`update products set delisted_until = now() - interval '1 minute' where product_id = $1`, [productId]);

    const response = await productListing(merchantId, productId, { state: 'hidden', reason: 'dial tests failing' }).expect(200);

    expect(response.body.change).toMatchObject({ from: 'on_sale', to: 'hidden' });
  });
});

describe('merchant listing', () => {
  it('when an operator freezes and unfreezes trading, then each change is recorded', async () => {
    const { merchantId } = await merchantWithProduct();
    await merchantListing(merchantId, { state: 'trading_frozen', reason: 'five days of failed dial tests' }).expect(200);
    await merchantListing(merchantId, { state: 'active', reason: 'interface fixed' }).expect(200);
    expect(await changesOf(merchantId)).toEqual([
      { target_type: 'merchant', product_id: null, from_state: 'active', to_state: 'trading_frozen', until: null, actor: 'alice', reason: 'five days of failed dial tests' },
      { target_type: 'merchant', product_id: null, from_state: 'trading_frozen', to_state: 'active', until: null, actor: 'alice', reason: 'interface fixed' },
    ]);
  });

  it('when an operator asks for removal, then 409 exit_workflow_required and the merchant is unchanged', async () => {
    const { merchantId } = await merchantWithProduct();
    await merchantListing(merchantId, { state: 'exiting', reason: 'merchant asked to leave' }).expect(200);
    const response = await merchantListing(merchantId, { state: 'removed', reason: 'exit done' }).expect(409);
    expect(response.body.error.code).toBe('exit_workflow_required');
    const frozen = await merchantListing(merchantId, { state: 'trading_frozen', reason: 'freeze' }).expect(409);
    expect(frozen.body.error.code).toBe('transition_not_allowed');
    const { rows } = await h.db.query(`select listing_state from merchants where merchant_id = $1`, [merchantId]);
    expect(rows[0]).toEqual({ listing_state: 'exiting' });
  });

  it('when the merchant is unknown or the body wrong, then 404 or 400 naming the field', async () => {
    await merchantListing(uniqueId('M'), { state: 'trading_frozen', reason: 'who is this' }).expect(404);
    const { merchantId } = await merchantWithProduct();
    const response = await merchantListing(merchantId, { state: 'asleep', reason: 'no' }).expect(400);
    expect(response.body.error.details[0].field).toBe('state');
  });
});

function postEvent(event: unknown, id = uniqueId('msg_')) {
  const body = JSON.stringify(event);
  return request(h.app).post('/v1/marketplace/events').set(signWebhook(h.config.webhook.secret, id, body)).set('content-type', 'application/json').send(body);
}

/** What a refused order could have left behind: its event, its order, its line. */
async function storedFor(eventId: string, orderId: string): Promise<{ events: number; orders: number; lines: number }> {
  const { rows } = await h.db.query<{ events: number; orders: number; lines: number }>(
    `select (select count(*)::int from inbound_events where event_id = $1) as events,
            (select count(*)::int from orders where order_id = $2) as orders,
            (select count(*)::int from order_lines where order_id = $2) as lines`,
    [eventId, orderId],
  );
  return rows[0]!;
}

describe('order.paid and listing states', () => {
  it.each([
    ['hidden', {}],
    ['delisted', {}],
    ['delisted_until', { until: new Date(Date.now() + 86_400_000).toISOString() }],
    ['permanently_delisted', {}],
  ])('when the product is %s, then order.paid is refused with 422 product_not_on_sale and nothing is stored', async (state, extra) => {
    // Arrange
    const { merchantId, productId } = await merchantWithProduct();
    await productListing(merchantId, productId, { state, reason: 'governance test', ...extra }).expect(200);
    const event = sampleOrderPaid({ merchantId, productId, orderId: uniqueId('CS') });
    const eventId = uniqueId('msg_');
    // Act
    const response = await postEvent(event, eventId).expect(422);
    // Assert
    expect(response.body.error).toMatchObject({ code: 'product_not_on_sale', details: [{ field: 'data.productId', reason: `product is ${state}` }] });
    expect(await storedFor(eventId, String(event.data.orderId))).toEqual({ events: 0, orders: 0, lines: 0 });
  });

  it.each(['trading_frozen', 'exiting'])('when the merchant is %s, then order.paid is refused with 422 merchant_not_trading and nothing is stored', async (state) => {
    const { merchantId, productId } = await merchantWithProduct();
    await merchantListing(merchantId, { state, reason: 'governance test' }).expect(200);
    const event = sampleOrderPaid({ merchantId, productId, orderId: uniqueId('CS') });
    const eventId = uniqueId('msg_');

    const response = await postEvent(event, eventId).expect(422);

    expect(response.body.error).toMatchObject({ code: 'merchant_not_trading', details: [{ field: 'data.merchantId', reason: `merchant is ${state}` }] });
    expect(await storedFor(eventId, String(event.data.orderId))).toEqual({ events: 0, orders: 0, lines: 0 });
  });

  it('when a delisting for a period has ended, then the product sells again', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    await productListing(merchantId, productId, { state: 'delisted_until', reason: 'content out of date', until: new Date(Date.now() + 3_600_000).toISOString() }).expect(200);
    await postEvent(sampleOrderPaid({ merchantId, productId, orderId: uniqueId('CS') })).expect(422);
    // The period ends: move its end into the past, as time would.
    await h.db.query(`update products set delisted_until = now() - interval '1 second' where product_id = $1`, [productId]);
    const event = sampleOrderPaid({ merchantId, productId, orderId: uniqueId('CS') });
    const eventId = uniqueId('msg_');

    await postEvent(event, eventId).expect(202);

    expect(await storedFor(eventId, String(event.data.orderId))).toEqual({ events: 1, orders: 1, lines: 1 });
  });

  it('when an order taken before the product was delisted is delivered again, then it gets its stored answer, not a refusal', async () => {
    const { merchantId, productId } = await merchantWithProduct();
    const event = sampleOrderPaid({ merchantId, productId, orderId: uniqueId('CS') });
    const eventId = uniqueId('msg_');
    const first = await postEvent(event, eventId).expect(202);
    await productListing(merchantId, productId, { state: 'delisted', reason: 'too many failed orders' }).expect(200);
    await merchantListing(merchantId, { state: 'trading_frozen', reason: 'dial tests failing' }).expect(200);

    const again = await postEvent(event, eventId).expect(202);

    expect(again.body).toEqual(first.body);
  });
});

describe('failed orders per product and month', () => {
  /** Paid order lines of the product, taken in through the webhook, as the subscription stores them. */
  async function paidLines(merchantId: string, productId: string, count: number): Promise<Array<{ orderId: string; orderLineId: string }>> {
    const lines = [];
    for (let i = 0; i < count; i += 1) {
      const event = sampleOrderPaid({ merchantId, productId, orderId: uniqueId('CS') });
      await postEvent(event).expect(202);
      lines.push({ orderId: String(event.data.orderId), orderLineId: String(event.data.orderLineId) });
    }
    return lines;
  }

  /** What the create step writes when its window runs out. */
  async function failed(productId: string, lines: Array<{ orderId: string; orderLineId: string }>): Promise<void> {
    for (const line of lines) await updateOrderLineStatus(h.db, { ...line, productId, status: 'failed', failureReason: 'merchant did not provision the instance within 180 minutes' });
  }

  const failedAt = (orderId: string, at: string) => h.db.query(`update order_lines set updated_at = $2::timestamptz where order_id = $1`, [orderId, at]);

  it('when a product has more than 5 failed orders in a Beijing calendar month, then it is listed with them; 5 in the month is not over the limit', async () => {
    // Arrange
    const month = new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 7);
    const monthStartsInBeijing = `${month}-01T00:00:00+08:00`;
    const over = await merchantWithProduct();
    const overLines = await paidLines(over.merchantId, over.productId, 6);
    await failed(over.productId, overLines);
    // The first second of the month in Beijing (still the previous month in UTC) counts.
    await failedAt(overLines[0]!.orderId, monthStartsInBeijing);
    const at = await merchantWithProduct();
    const atLines = await paidLines(at.merchantId, at.productId, 7);
    await failed(at.productId, atLines.slice(0, 6));
    // One second before the month in Beijing belongs to the previous month; the seventh line is still provisioning.
    await failedAt(atLines[0]!.orderId, new Date(Date.parse(monthStartsInBeijing) - 1000).toISOString());
    // Act
    const response = await request(h.app).get(`/v1/governance/failed-orders?month=${month}`).set(operator()).expect(200);
    // Assert
    const mine = response.body.products.filter((p: { productId: string }) => p.productId === over.productId || p.productId === at.productId);
    expect(response.body).toMatchObject({ month, timeZone: 'Asia/Shanghai', limit: 5 });
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ productId: over.productId, merchantId: over.merchantId, listingState: 'on_sale', failedCount: 6 });
    expect(mine[0].orders.map((o: { orderId: string }) => o.orderId).sort()).toEqual(overLines.map((l) => l.orderId).sort());
    expect(mine[0].orders[0]).toEqual({
      orderId: overLines[0]!.orderId,
      orderLineId: overLines[0]!.orderLineId,
      failureReason: 'merchant did not provision the instance within 180 minutes',
      failedAt: new Date(monthStartsInBeijing).toISOString(),
    });
    const previous = await request(h.app).get(`/v1/governance/failed-orders?month=${new Date(Date.parse(monthStartsInBeijing) - 1000 + 8 * 3_600_000).toISOString().slice(0, 7)}`).set(operator()).expect(200);
    expect(previous.body.products.filter((p: { productId: string }) => p.productId === over.productId || p.productId === at.productId)).toEqual([]);
  });

  it('when the month is not YYYY-MM, then 400 naming month', async () => {
    for (const month of ['2026-13', '2026-1', 'may']) {
      const response = await request(h.app).get(`/v1/governance/failed-orders?month=${month}`).set(operator()).expect(400);
      expect(response.body.error.details[0].field).toBe('month');
    }
    await request(h.app).get('/v1/governance/failed-orders').set(operator()).expect(400);
  });
});
