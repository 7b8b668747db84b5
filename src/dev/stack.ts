/**
 * The application side of the development stack: the reference merchant, the order-system
 * sink, the worker and the API, wired together and with a demo merchant and product
 * registered through the API. `npm start` runs it on top of the servers it starts; the
 * end-to-end tests run the very same assembly on theirs.
 */
import { generateKeyPairSync } from 'node:crypto';
import { loadConfig, type Config } from '../platform/config';
import type { Logger } from '../platform/logger';
import { startMerchantSim, type MerchantSim } from '../merchant-sim';
import { startApi, type RunningApi } from '../server';
import { startWorker, type RunningWorker } from '../worker';
import { registerCatalogue } from './catalogue';
import { startOrderSystemSink, type OrderSystemSink } from './order-system-sink';

export const DEMO_MERCHANT_ID = 'demo-merchant';
export const DEMO_PRODUCT_ID = 'demo-product';
/** The reference merchant's access key in the demo; a development value, like the other defaults. */
export const DEMO_ACCESS_KEY = 'demo-merchant-access-key';
/** The reference merchant's Kit sync key in the demo: a key of its own, as spec §1.1 requires. */
export const DEMO_SYNC_KEY = 'demo-merchant-sync-key';

export interface DevStackOptions {
  databaseUrl: string;
  temporalAddress: string;
  logger: Logger;
  apiPort?: number;
  merchantPort?: number;
  sinkPort?: number;
  taskQueue?: string;
  /** Extra environment for the configuration (tests override keys here). */
  env?: NodeJS.ProcessEnv;
  merchant?: { asyncProvisioning?: boolean; controlToken?: string; refuseChangesTo?: string[] };
}

export interface DevStack {
  config: Readonly<Config>;
  api: RunningApi;
  worker: RunningWorker;
  merchant: MerchantSim;
  orderSystem: OrderSystemSink;
  demo: { merchantId: string; productId: string };
  /** The demo product's application key pair (RSA 3072): the reference merchant decrypts clientSecret with the private key. */
  appKeys: { publicKey: string; privateKey: string };
  stop(): Promise<void>;
}

export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const stopOne of stoppers.splice(0).reverse()) {
      await stopOne().catch((err: unknown) => options.logger.warn({ err }, 'stopping a dev stack part failed'));
    }
  };
  try {
    const baseEnv = { ...process.env, ...options.env };
    const secrets = loadConfig({ ...baseEnv, APP_MODE: 'development' });
    const orderSystem = await startOrderSystemSink({
      secret: secrets.orderSystem.secret,
      port: options.sinkPort,
      onCallback: (c) => options.logger.info({ type: c.type, webhookId: c.webhookId }, 'order system received a fulfilment callback'),
    });
    stoppers.push(orderSystem.close);
    // A fresh application key pair per stack: the private key never leaves the reference merchant.
    const appKeys = generateKeyPairSync('rsa', { modulusLength: 3072, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const merchant = await startMerchantSim({
      accessKey: DEMO_ACCESS_KEY,
      kit: { syncKey: DEMO_SYNC_KEY, privateKeyPem: appKeys.privateKey },
      port: options.merchantPort ?? 0,
      ...(options.merchant?.controlToken ? { controlToken: options.merchant.controlToken } : {}),
      ...(options.merchant?.asyncProvisioning ? { asyncProvisioning: { readyAfterQueries: 1 } } : {}),
      ...(options.merchant?.refuseChangesTo ? { refuseChangesTo: options.merchant.refuseChangesTo } : {}),
    });
    stoppers.push(merchant.close);

    const config = loadConfig({
      ...baseEnv,
      APP_MODE: 'development',
      DATABASE_URL: options.databaseUrl,
      TEMPORAL_ADDRESS: options.temporalAddress,
      ORDER_SYSTEM_URL: orderSystem.url,
      PORT: String(options.apiPort ?? 0),
      ...(options.taskQueue ? { TEMPORAL_TASK_QUEUE: options.taskQueue } : {}),
    });
    const worker = await startWorker(config, options.logger.child({ component: 'worker' }));
    stoppers.push(worker.shutdown);
    const api = await startApi(config, options.logger.child({ component: 'api' }));
    stoppers.push(api.close);

    const demo = { merchantId: DEMO_MERCHANT_ID, productId: DEMO_PRODUCT_ID };
    await registerCatalogue(api.url, config.operatorToken, {
      merchantId: demo.merchantId,
      merchantName: 'Demo Merchant (reference merchant)',
      productId: demo.productId,
      productName: 'Demo SaaS, monthly',
      productionUrl: merchant.url,
      accessKey: DEMO_ACCESS_KEY,
      syncKey: DEMO_SYNC_KEY,
      appPublicKey: appKeys.publicKey,
    });
    return { config, api, worker, merchant, orderSystem, demo, appKeys, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
