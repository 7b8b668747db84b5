/**
 * One end-to-end suite's service: the dev stack (API, worker, reference merchant, order-system
 * sink) on the servers the global setup started, on a task queue of its own, with a small
 * pool on the same database for the suite's checks.
 */
import { randomUUID } from 'node:crypto';
import { createDb, type Db } from '../../src/db/pool';
import { sendMarketplaceEvent } from '../../src/dev/marketplace-client';
import { DEMO_ACCESS_KEY, startDevStack, type DevStack, type DevStackOptions } from '../../src/dev/stack';
import { createLogger } from '../../src/platform/logger';
import { partyHeaders } from './signed-party';

export async function startE2eStack(name: string, options: Pick<DevStackOptions, 'env' | 'merchant'> = {}): Promise<{ stack: DevStack; db: Db }> {
  const stack = await startDevStack({
    databaseUrl: process.env.TEST_DATABASE_URL as string,
    temporalAddress: process.env.TEST_TEMPORAL_ADDRESS as string,
    logger: createLogger('silent'),
    taskQueue: `e2e-${name}-${randomUUID()}`,
    ...(options.merchant ? { merchant: options.merchant } : {}),
    // The global setup migrated the database already (and Postgrator, an ES module, cannot be
    // loaded inside jest's CommonJS sandbox).
    // No dial-test Schedule: a run firing at 09:00 or 15:00 Beijing time would dial the suite's merchants.
    env: { DIAL_TEST_SCHEDULE: 'false', ...options.env, MIGRATE_ON_START: 'false' },
  });
  return { stack, db: createDb({ url: process.env.TEST_DATABASE_URL as string, max: 2 }) };
}

export interface E2eResponse {
  status: number;
  body: any;
  headers: Headers;
}

/**
 * The three callers of a suite's API: an operator (bearer token, `x-operator`), a merchant
 * signing under its access key (the reference merchant's, by default), and the order system's
 * signed webhook.
 */
export function e2eCallers(stack: DevStack) {
  async function call(method: string, path: string, headers: Record<string, string>, body?: string): Promise<E2eResponse> {
    const res = await fetch(new URL(path, stack.api.url), { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  }
  const operatorHeaders = { authorization: `Bearer ${stack.config.operatorToken}`, 'content-type': 'application/json', 'x-operator': 'ops@example.com' };
  return {
    asOperator: (method: string, path: string, body?: unknown) => call(method, path, operatorHeaders, body === undefined ? undefined : JSON.stringify(body)),
    asMerchant(merchantId: string, key = DEMO_ACCESS_KEY) {
      return (method: string, path: string, body?: unknown) => {
        const text = body === undefined ? '' : JSON.stringify(body);
        return call(method, path, partyHeaders({ idHeader: 'x-merchant-id', id: merchantId, key }, method, path, text), body === undefined ? undefined : text);
      };
    },
    send: (type: string, data: Record<string, unknown>) => sendMarketplaceEvent(stack.api.url, stack.config.webhook.secret, { type, data }),
  };
}
