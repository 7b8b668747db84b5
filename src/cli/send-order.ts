/**
 * `npm run order:send`: sends a signed sample order.paid webhook to the API, as the
 * marketplace's order system would.
 *
 *   API_URL (default http://127.0.0.1:3000), WEBHOOK_SECRET (default: the development secret),
 *   DEMO_MERCHANT_ID (default demo-merchant), DEMO_PRODUCT_ID (default demo-product)
 */
import { DEVELOPMENT_SECRETS } from '../platform/config';
import { sampleOrderPaid, sendMarketplaceEvent } from '../dev/marketplace-client';

async function main(): Promise<void> {
  const apiUrl = process.env.API_URL ?? 'http://127.0.0.1:3000';
  const secret = process.env.WEBHOOK_SECRET ?? DEVELOPMENT_SECRETS.webhookSecret;
  const event = sampleOrderPaid({
    merchantId: process.env.DEMO_MERCHANT_ID ?? 'demo-merchant',
    productId: process.env.DEMO_PRODUCT_ID ?? 'demo-product',
    orderId: process.argv[2],
  });
  const sent = await sendMarketplaceEvent(apiUrl, secret, event);
  console.log(`POST /v1/marketplace/events (webhook-id ${sent.webhookId}) → ${sent.status}`);
  console.log(JSON.stringify(sent.body, null, 2));
  console.log(`\nFollow it: curl -s -H 'Authorization: Bearer <OPERATOR_TOKEN>' ${apiUrl}/v1/orders/${String(event.data.orderId)}`);
  if (sent.status >= 300) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
