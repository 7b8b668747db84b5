/**
 * The service as the benchmarks run it: the reference merchant, an order-system sink that
 * notes when each order was provisioned, and the API and worker as their own processes.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sendMarketplaceEvent, sampleOrderPaid } from '../../src/dev/marketplace-client';
import { startMerchantSim } from '../../src/merchant-sim';
import { startOrderSystemSink } from '../../src/dev/order-system-sink';
import { registerCatalogue } from '../../src/dev/catalogue';
import { freePort } from '../../src/dev/ports';
import { startService, type ServiceProcess } from '../../src/dev/service-processes';
import { DEVELOPMENT_SECRETS } from '../../src/platform/config';

export const DEMO = { merchantId: 'bench-merchant', productId: 'bench-product', accessKey: 'bench-merchant-access-key' };

export async function sendOrder(apiUrl: string, orderId: string): Promise<void> {
  const event = sampleOrderPaid({ merchantId: DEMO.merchantId, productId: DEMO.productId, orderId });
  for (let attempt = 1; ; attempt += 1) {
    const sent = await sendMarketplaceEvent(apiUrl, DEVELOPMENT_SECRETS.webhookSecret, event);
    if (sent.status === 202) return;
    if (sent.status < 500 || attempt >= 5) throw new Error(`order ${orderId}: HTTP ${sent.status} ${JSON.stringify(sent.body)}`);
  }
}

/** The reference merchant, an order-system sink, and the API and worker processes. */
export async function startTheService(servers: { temporalAddress: string; databaseUrl: string }, extraEnv: NodeJS.ProcessEnv = {}) {
  const provisionedAt = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const sink = await startOrderSystemSink({
    secret: DEVELOPMENT_SECRETS.orderSystemSecret,
    onCallback: (callback) => {
      if (callback.type !== 'instance.provisioned') return;
      const orderId = String(callback.data.orderId);
      provisionedAt.set(orderId, performance.now());
      waiters.get(orderId)?.();
    },
  });
  const merchant = await startMerchantSim({ accessKey: DEMO.accessKey });
  const apiPort = await freePort();
  const env = {
    APP_MODE: 'development',
    DATABASE_URL: servers.databaseUrl,
    TEMPORAL_ADDRESS: servers.temporalAddress,
    TEMPORAL_TASK_QUEUE: `bench-service-${randomUUID()}`,
    ORDER_SYSTEM_URL: sink.url,
    PORT: String(apiPort),
    ...extraEnv,
  };
  let worker: ServiceProcess | undefined;
  let api: ServiceProcess | undefined;
  const stop = async (): Promise<void> => {
    await worker?.stop();
    await api?.stop();
    await merchant.close();
    await sink.close();
  };
  try {
    worker = await startService('worker', env);
    api = await startService('api', env);
  } catch (error) {
    await stop();
    throw error;
  }
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await registerCatalogue(apiUrl, DEVELOPMENT_SECRETS.operatorToken, {
    merchantId: DEMO.merchantId,
    merchantName: 'Bench merchant',
    productId: DEMO.productId,
    productName: 'Bench product',
    productionUrl: merchant.url,
    accessKey: DEMO.accessKey,
  });
  return {
    apiUrl,
    workerPid: () => worker?.pid ?? -1,
    apiPid: () => api?.pid ?? -1,
    /** Stops the worker (gracefully): orders are still taken in, and their creates wait in Temporal. */
    pauseWorker: async (): Promise<void> => {
      await worker?.stop();
      worker = undefined;
    },
    resumeWorker: async (): Promise<void> => {
      worker ??= await startService('worker', env);
    },
    stop,
    merchantCalls: () => merchant.createdCount(),
    provisioned: (orderId: string): Promise<void> =>
      provisionedAt.has(orderId) ? Promise.resolve() : new Promise((resolve) => waiters.set(orderId, () => resolve())),
    /** Waits until `count` orders whose id starts with `prefix` are provisioned; the rate runs from the first send (`fromMs`) to the last activation. */
    async waitForActive(count: number, prefix: string, fromMs: number, timeoutMs = 600_000): Promise<{ rate: number; seconds: number }> {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const done = [...provisionedAt.keys()].filter((id) => id.startsWith(prefix));
        if (done.length >= count) {
          const seconds = (Math.max(...done.map((id) => provisionedAt.get(id) ?? 0)) - fromMs) / 1000;
          return { rate: count / seconds, seconds };
        }
        if (performance.now() > deadline) throw new Error(`only ${done.length} of ${count} ${prefix} orders became active`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

