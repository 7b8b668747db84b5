/**
 * A stand-in for the marketplace's order system on the receiving side of our fulfilment
 * callbacks: a real HTTP server that checks each callback's Standard Webhooks signature
 * and keeps what it received. `npm start` and the end-to-end tests point ORDER_SYSTEM_URL
 * at it; in production the marketplace's own order system takes its place.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../platform/security/standard-webhooks';

export interface ReceivedCallback {
  webhookId: string;
  type: string;
  data: Record<string, unknown>;
  receivedAt: number;
}

/** One correctly signed POST as it arrived, a repeated webhook-id included. */
export interface CallbackDelivery extends ReceivedCallback {
  /** The raw body: a redelivery must carry the bytes of the first delivery. */
  body: string;
  /** False for the first delivery of its webhook-id. */
  repeat: boolean;
}

export interface OrderSystemSink {
  url: string;
  /** One entry per webhook-id, as a receiver that de-duplicates sees them. */
  received(): readonly ReceivedCallback[];
  /** Every signed delivery, repeats of a webhook-id included, oldest first (the chaos suite counts them). */
  deliveries(): readonly CallbackDelivery[];
  close(): Promise<void>;
}

export async function startOrderSystemSink(options: {
  secret: string;
  port?: number;
  onCallback?: (callback: ReceivedCallback) => void;
}): Promise<OrderSystemSink> {
  const received: ReceivedCallback[] = [];
  const deliveries: CallbackDelivery[] = [];
  const seen = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const header = (name: string): string | undefined => {
        const value = req.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      const verified = verifyWebhook({
        secret: options.secret,
        body,
        headers: { 'webhook-id': header('webhook-id'), 'webhook-timestamp': header('webhook-timestamp'), 'webhook-signature': header('webhook-signature') },
      });
      if (req.method !== 'POST' || !verified.ok) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: verified.ok ? 'method' : verified.reason }));
        return;
      }
      const webhookId = header('webhook-id') as string;
      const text = body.toString('utf8');
      const payload = JSON.parse(text) as { type: string; data: Record<string, unknown> };
      const callback = { webhookId, type: payload.type, data: payload.data, receivedAt: Date.now() };
      const repeat = seen.has(webhookId);
      deliveries.push({ ...callback, body: text, repeat });
      // Like a real receiver, a repeated webhook-id is acknowledged and not counted twice.
      if (!repeat) {
        seen.add(webhookId);
        received.push(callback);
        options.onCallback?.(callback);
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/fulfilment-callbacks`,
    received: () => received,
    deliveries: () => deliveries,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
