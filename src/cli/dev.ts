/**
 * `npm start`: the whole service on one machine with nothing configured.
 *
 *   PostgreSQL   DATABASE_URL, else an embedded server (data kept in .data/postgres)
 *   Temporal     TEMPORAL_ADDRESS, else a dev server with its Web UI on 8233
 *                (installed CLI first, the SDK's download as the fallback; state kept
 *                in .data/temporal.sqlite)
 *   then the reference merchant, an order-system sink, the worker and the API, with a demo
 *   merchant and product registered. Ctrl-C stops everything cleanly.
 */
import path from 'node:path';
import { DEVELOPMENT_SECRETS } from '../platform/config';
import { startEmbeddedPostgres } from '../dev/embedded-postgres';
import { freePort, isListening } from '../dev/ports';
import { startDevStack } from '../dev/stack';
import { startDevServer, waitForTemporal } from '../dev/temporal-servers';
import { createLogger } from '../platform/logger';
import { installRuntimeLogger } from '../platform/temporal/connection';

const DATA_DIR = path.resolve(process.env.DEV_DATA_DIR ?? '.data');

async function portOr(preferred: number): Promise<number> {
  return (await isListening(preferred)) ? freePort() : preferred;
}

async function main(): Promise<void> {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'info', 'dev');
  installRuntimeLogger(logger, 'WARN');
  const stops: Array<() => Promise<void>> = [];
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping the development stack');
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => logger.warn({ err }, 'stop failed'));
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const postgres = await startEmbeddedPostgres({
      dataDir: path.join(DATA_DIR, 'postgres'),
      port: await portOr(Number(process.env.DEV_POSTGRES_PORT ?? 54329)),
      persistent: true,
    });
    stops.push(postgres.stop);
    await postgres.ensureDatabase('saas_fulfillment');
    databaseUrl = postgres.urlFor('saas_fulfillment');
  }

  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  let webUi = process.env.TEMPORAL_UI_URL;
  if (!temporalAddress && (await isListening(7233))) {
    // Something answers on Temporal's port: use it if it is a Temporal server.
    await waitForTemporal('127.0.0.1:7233', 3000).then(() => (temporalAddress = '127.0.0.1:7233'), () => undefined);
  }
  if (!temporalAddress) {
    const temporal = await startDevServer({
      port: await portOr(7233),
      uiPort: await portOr(8233),
      dbFilename: path.join(DATA_DIR, 'temporal.sqlite'),
      logFile: path.join(DATA_DIR, 'temporal.log'),
    });
    stops.push(temporal.stop);
    temporalAddress = temporal.address;
    webUi = temporal.uiUrl;
  }

  const stack = await startDevStack({
    databaseUrl,
    temporalAddress,
    logger,
    apiPort: await portOr(Number(process.env.PORT ?? 3000)),
    merchantPort: await portOr(4000),
    sinkPort: await portOr(4100),
  });
  stops.push(stack.stop);

  const operatorToken = process.env.OPERATOR_TOKEN ?? DEVELOPMENT_SECRETS.operatorToken;
  const usingDevSecret = !process.env.WEBHOOK_SECRET;
  console.log(
    [
      '',
      'saas-fulfillment is running (development mode)',
      `  API                 ${stack.api.url}   (health: ${stack.api.url}/healthz)`,
      `  Temporal Web UI     ${webUi ?? '(the UI of your TEMPORAL_ADDRESS server)'}`,
      `  Temporal gRPC       ${temporalAddress}`,
      `  Reference merchant  ${stack.merchant.url}   (demo-merchant / demo-product registered)`,
      `  Order-system sink   ${stack.orderSystem.url}`,
      `  PostgreSQL          ${databaseUrl.replace(/:[^:@/]+@/, ':***@')}`,
      '',
      `  Operator token      ${operatorToken === DEVELOPMENT_SECRETS.operatorToken ? operatorToken + '   (development default)' : '(from OPERATOR_TOKEN)'}`,
      `  Webhook secret      ${usingDevSecret ? DEVELOPMENT_SECRETS.webhookSecret + '   (development default)' : '(from WEBHOOK_SECRET)'}`,
      '',
      'Send a signed sample order.paid webhook:',
      `  API_URL=${stack.api.url} npm run order:send`,
      'Then read the order and its timeline:',
      `  curl -s -H 'Authorization: Bearer ${operatorToken === DEVELOPMENT_SECRETS.operatorToken ? operatorToken : '<OPERATOR_TOKEN>'}' ${stack.api.url}/v1/orders/<orderId>`,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error('npm start failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
