/**
 * What the merchant is told at each step of its exit (spec §9.4), by in-site message and e-mail
 * through the notices capability: the request received (or the forced exit started), the exit
 * blocked with what blocks it, approved or rejected with the operator's reason, withdrawn, and
 * the removal. Each notice is derived from a timeline entry the exit writes anyway, keyed by the
 * exit and the entry's sequence number, so a retried activity or a replayed step sends it once,
 * and the workflow code (with its recorded histories) does not change.
 */
import type { MerchantNotification } from '../notices/notifications';
import type { ExitFacts, ExitTimelineEntry } from '../../workflows/governance/exit/messages';

const LISTED_ORDERS = 50;

/** The blocking preconditions in words, with their orders (the first 50 of each). */
function blockingText(blocking: ExitFacts['blocking']): string {
  return blocking
    .map((b) => {
      const orders = b.orders.slice(0, LISTED_ORDERS).map((o) => `  - order ${o.orderId} (line ${o.orderLineId}, product ${o.productId}): ${o.why}`);
      const more = b.orders.length > LISTED_ORDERS ? [`  - … and ${b.orders.length - LISTED_ORDERS} more (GET /v1/governance/merchant/exit)`] : [];
      return [`- ${b.precondition}: ${b.orders.length} order lines`, ...orders, ...more].join('\n');
    })
    .join('\n');
}

/** The notice of one timeline entry, or undefined for entries the merchant is not told of (the approved exit's inner steps). */
export function exitNotice(exit: { exitId: string; merchantId: string; blocking?: ExitFacts['blocking'] }, entry: ExitTimelineEntry & { seq: number }): MerchantNotification | undefined {
  const notice = (subject: string, body: string): MerchantNotification => ({ idempotencyKey: `exit:${exit.exitId}:${entry.seq}`, merchantId: exit.merchantId, subject, body });
  const why = entry.reason ? `: ${entry.reason}` : '';
  switch (entry.action) {
    case 'exit-requested':
      return notice('Your exit request was received', `The marketplace received your request to leave${why}. You take no new orders from now on; your live subscriptions keep running until the exit is approved. The exit checks its preconditions (spec §9.4) and an operator reviews it.`);
    case 'forced-exit-started':
      return notice('The marketplace started your exit', `The marketplace operators started your exit (a forced exit)${why}. You take no new orders from now on; your live subscriptions keep running until the exit is approved.`);
    case 'preconditions-failing':
      return notice(
        'Your exit is blocked',
        `Your exit waits until these preconditions hold (it checks again when they may have cleared, and at least hourly):\n${blockingText(exit.blocking ?? [])}\n` +
          'An order without an invoice clears with the customer\'s agreement to go without one (POST /v1/governance/merchant/exit/orders/:orderId/no-invoice-proof).',
      );
    case 'exit-approved':
      return notice('Your exit was approved', `An operator approved your exit${why}. Your products are delisted, your trading is frozen, and every live subscription is refunded pro rata and released; then your credentials are revoked.`);
    case 'exit-rejected':
      return notice('Your exit was rejected', `An operator rejected your exit${why}. You trade again.`);
    case 'exit-withdrawn':
      return notice('Your exit was withdrawn', `Your exit ended without removal${why}.`);
    case 'merchant-removed':
      return notice('You were removed from the marketplace', 'Your exit is complete: your credentials are revoked, your requests are refused, and the marketplace sends you no more calls. The exit record is kept by the marketplace operators.');
    default:
      return undefined;
  }
}
