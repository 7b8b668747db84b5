/**
 * Fulfilment callbacks to the order system, against the real receiver (the order-system
 * sink, which verifies Standard Webhooks signatures) and tiny real HTTP servers for the
 * answers the sink never gives. The sink itself ignores a repeated webhook-id, so a
 * counting pass-through in front of it is what proves a repeat sends no second POST.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { createOrderSystemActivities } from '../../src/activities/notices/order-system';
import { createHttpOrderSystemClient } from '../../src/clients/order-system';
import type { Db } from '../../src/db/pool';
import { startOrderSystemSink, type OrderSystemSink } from '../../src/dev/order-system-sink';
import { ErrorType } from '../../src/shared/errors';
import type { OrderSystemCallback } from '../../src/activities/notices/callbacks';
import { activityEnv, closedPortUrl, config, rejection, testDb, uniqueId } from './fixtures';

const SECRET = config.orderSystem.secret;

interface CallbackRow {
  eventType: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  status: string;
  attempts: number;
  lastError: string | null;
  deliveredAt: Date | null;
}

let db: Db;
let sink: OrderSystemSink;
let counting: { url: string; posts: (webhookId: string) => number; close(): Promise<void> };
let fixedStatus: { url: (status: number) => string; bodies: (webhookId: string) => string[]; close(): Promise<void> };
let silent: { url: string; requests: (webhookId: string) => number; close(): Promise<void> };

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const closeServer = (server: Server): Promise<void> =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
const readBody = (req: NodeJS.ReadableStream): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
const header = (headers: IncomingHttpHeaders, name: string): string => String(headers[name] ?? '');

beforeAll(async () => {
  db = testDb();
  sink = await startOrderSystemSink({ secret: SECRET });

  // Counts POSTs per webhook-id and passes each, headers and body unchanged, to the sink.
  const posts = new Map<string, number>();
  const proxy = createServer((req, res) => {
    void readBody(req).then(async (body) => {
      const id = header(req.headers, 'webhook-id');
      posts.set(id, (posts.get(id) ?? 0) + 1);
      const answer = await fetch(sink.url, {
        method: 'POST',
        headers: {
          'content-type': header(req.headers, 'content-type'),
          'webhook-id': id,
          'webhook-timestamp': header(req.headers, 'webhook-timestamp'),
          'webhook-signature': header(req.headers, 'webhook-signature'),
        },
        body,
      });
      res.writeHead(answer.status).end(await answer.text());
    });
  });
  const proxyOrigin = await listen(proxy);
  counting = { url: `${proxyOrigin}/fulfilment-callbacks`, posts: (id) => posts.get(id) ?? 0, close: () => closeServer(proxy) };

  // Answers the status named in the path: /status/400 → 400; keeps every body per webhook-id.
  const bodies = new Map<string, string[]>();
  const statusServer = createServer((req, res) => {
    void readBody(req).then((body) => {
      const id = header(req.headers, 'webhook-id');
      bodies.set(id, [...(bodies.get(id) ?? []), body.toString('utf8')]);
      const status = Number(/^\/status\/(\d{3})$/.exec(req.url ?? '')?.[1] ?? 500);
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":"injected"}');
    });
  });
  const statusOrigin = await listen(statusServer);
  fixedStatus = { url: (status) => `${statusOrigin}/status/${status}`, bodies: (id) => bodies.get(id) ?? [], close: () => closeServer(statusServer) };

  // Takes every request and never answers it (until closed): an order system that hangs.
  const held = new Map<string, number>();
  const silentServer = createServer((req) => {
    const id = header(req.headers, 'webhook-id');
    held.set(id, (held.get(id) ?? 0) + 1);
  });
  silent = { url: `${await listen(silentServer)}/fulfilment-callbacks`, requests: (id) => held.get(id) ?? 0, close: () => closeServer(silentServer) };
});

afterAll(async () => {
  await counting?.close();
  await fixedStatus?.close();
  await silent?.close();
  await sink?.close();
  await db?.close();
});

function provisioned(): OrderSystemCallback {
  const orderId = uniqueId('CS');
  return {
    idempotencyKey: `subscription:${orderId}:${orderId}-000001:instance.provisioned`,
    type: 'instance.provisioned',
    data: { orderId, orderLineId: `${orderId}-000001`, instanceId: uniqueId('I') },
  };
}

/** The activity as the worker builds it: an HTTP client for a configured URL, none without one. */
const activitiesFor = (url: string | undefined, options: { secret?: string; timeoutMs?: number; now?: () => number } = {}) =>
  createOrderSystemActivities({
    db,
    orderSystem: url ? createHttpOrderSystemClient({ url, secret: options.secret ?? SECRET, timeoutMs: options.timeoutMs ?? config.orderSystem.timeoutMs }) : undefined,
    now: options.now,
  });

async function callbackRow(key: string): Promise<CallbackRow | undefined> {
  const { rows } = await db.query<CallbackRow>(
    `select event_type as "eventType", payload, status, attempts, last_error as "lastError", delivered_at as "deliveredAt"
       from order_system_callbacks where idempotency_key = $1::text`,
    [key],
  );
  return rows[0];
}

describe('notifyOrderSystem', () => {
  test('when the order system accepts, then delivered: the receiver verified the signature and got the event once, and the row says delivered', async () => {
    const callback = provisioned();
    const before = Date.now();
    const result = await activityEnv().run(activitiesFor(counting.url).notifyOrderSystem, callback);

    expect(result).toBe('delivered');
    expect(counting.posts(callback.idempotencyKey)).toBe(1);
    // The sink keeps only callbacks whose Standard Webhooks signature verified.
    const received = sink.received().filter((c) => c.webhookId === callback.idempotencyKey);
    expect(received).toEqual([{ webhookId: callback.idempotencyKey, type: 'instance.provisioned', data: callback.data, receivedAt: expect.any(Number) }]);

    const row = await callbackRow(callback.idempotencyKey);
    expect(row).toEqual({
      eventType: 'instance.provisioned',
      payload: { type: 'instance.provisioned', timestamp: expect.any(String), data: callback.data },
      status: 'delivered',
      attempts: 1,
      lastError: null,
      deliveredAt: expect.any(Date),
    });
    expect(Date.parse(row!.payload.timestamp)).toBeGreaterThanOrEqual(before - 1000);
  });

  test('when the same idempotency key is delivered again, then delivered with no second POST and the receiver still has one', async () => {
    const callback = provisioned();
    const { run } = activityEnv();
    const activities = activitiesFor(counting.url);
    expect(await run(activities.notifyOrderSystem, callback)).toBe('delivered');
    const firstDelivery = (await callbackRow(callback.idempotencyKey))!.deliveredAt;

    expect(await run(activities.notifyOrderSystem, callback)).toBe('delivered');

    expect(counting.posts(callback.idempotencyKey)).toBe(1);
    expect(sink.received().filter((c) => c.webhookId === callback.idempotencyKey)).toHaveLength(1);
    expect(await callbackRow(callback.idempotencyKey)).toMatchObject({ status: 'delivered', attempts: 1, deliveredAt: firstDelivery });
  });

  test('when no order-system URL is configured, then not-configured, recorded and logged without sending', async () => {
    const callback = provisioned();
    const { run, logs } = activityEnv();
    const result = await run(activitiesFor(undefined).notifyOrderSystem, callback);

    expect(result).toBe('not-configured');
    expect(await callbackRow(callback.idempotencyKey)).toMatchObject({ status: 'not-configured', attempts: 1, lastError: null, deliveredAt: null });
    expect(sink.received().filter((c) => c.webhookId === callback.idempotencyKey)).toHaveLength(0);
    expect(logs).toContainEqual({
      level: 'WARN',
      message: 'order system URL not configured; callback recorded only',
      meta: expect.objectContaining({ idempotencyKey: callback.idempotencyKey, type: 'instance.provisioned' }),
    });
  });

  test('when nothing listens on the URL, then a retryable error and the row stays pending with the error; once it listens, delivered', async () => {
    const callback = provisioned();
    const { run } = activityEnv();

    const error = await rejection(run(activitiesFor(await closedPortUrl('/fulfilment-callbacks')).notifyOrderSystem, callback));

    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect((error as Error).message).toBe('order system unreachable: fetch failed: ECONNREFUSED');
    const pending = await callbackRow(callback.idempotencyKey);
    expect(pending).toMatchObject({ status: 'pending', attempts: 1, deliveredAt: null });
    expect(pending?.lastError).toBe('fetch failed: ECONNREFUSED');

    // Temporal's retry of the same activity input, now that the receiver is up.
    expect(await run(activitiesFor(counting.url).notifyOrderSystem, callback)).toBe('delivered');
    expect(await callbackRow(callback.idempotencyKey)).toMatchObject({ status: 'delivered', attempts: 2, lastError: null });
    expect(counting.posts(callback.idempotencyKey)).toBe(1);
  });

  test('when the order system answers 400, then a non-retryable OrderSystemRejected failure and the row stays pending with the status', async () => {
    const callback = provisioned();
    const error = await rejection(activityEnv().run(activitiesFor(fixedStatus.url(400)).notifyOrderSystem, callback));

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: ErrorType.OrderSystemRejected, nonRetryable: true, message: 'order system answered HTTP 400' });
    expect(await callbackRow(callback.idempotencyKey)).toMatchObject({ status: 'pending', attempts: 1, lastError: 'order system answered HTTP 400' });
  });

  test('when the receiver rejects the signature (wrong secret), then 401 is non-retryable OrderSystemRejected and nothing is received', async () => {
    const callback = provisioned();
    const error = await rejection(activityEnv().run(activitiesFor(sink.url, { secret: 'whsec_bm90LXRoZS1vcmRlci1zeXN0ZW0tc2VjcmV0' }).notifyOrderSystem, callback));

    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: ErrorType.OrderSystemRejected, nonRetryable: true, message: 'order system answered HTTP 401' });
    expect(sink.received().filter((c) => c.webhookId === callback.idempotencyKey)).toHaveLength(0);
  });

  test('when a callback is attempted again an hour later, then both attempts send byte-identical bodies: the payload stored under the webhook-id, with the first timestamp', async () => {
    const callback = provisioned();
    const { run } = activityEnv();
    let clock = Date.parse('2026-05-01T10:00:00.000Z');
    const activities = activitiesFor(fixedStatus.url(503), { now: () => clock });

    await rejection(run(activities.notifyOrderSystem, callback));
    clock += 3_600_000;
    await rejection(run(activities.notifyOrderSystem, callback));

    const [first, second] = fixedStatus.bodies(callback.idempotencyKey);
    expect(JSON.parse(first!)).toMatchObject({ type: 'instance.provisioned', timestamp: '2026-05-01T10:00:00.000Z' });
    expect(second).toBe(first);
    expect(JSON.parse(first!)).toEqual((await callbackRow(callback.idempotencyKey))!.payload);
    expect(await callbackRow(callback.idempotencyKey)).toMatchObject({ attempts: 2 });
  });

  test('when the order system does not answer within the timeout, then a retryable error saying so and the row stays pending with it', async () => {
    const callback = provisioned();
    const started = Date.now();
    const error = await rejection(activityEnv().run(activitiesFor(silent.url, { timeoutMs: 300 }).notifyOrderSystem, callback));
    const elapsed = Date.now() - started;

    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect((error as Error).message).toBe('order system unreachable: no answer within 300 ms');
    expect(silent.requests(callback.idempotencyKey)).toBe(1);
    // Timer granularity can shave a millisecond off the wait.
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(5000);
    expect(await callbackRow(callback.idempotencyKey)).toMatchObject({ status: 'pending', attempts: 1, lastError: 'no answer within 300 ms' });
  });

  test.each([408, 429, 503])('when the order system answers %i, then a retryable error (not an ApplicationFailure) and the row stays pending', async (status) => {
    const callback = provisioned();
    const error = await rejection(activityEnv().run(activitiesFor(fixedStatus.url(status)).notifyOrderSystem, callback));

    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect((error as Error).message).toBe(`order system answered HTTP ${status}`);
    expect(await callbackRow(callback.idempotencyKey)).toMatchObject({ status: 'pending', attempts: 1, lastError: `order system answered HTTP ${status}` });
  });
});
