/**
 * The chaos run (test/chaos/run.ts) as a program. `npm run chaos` runs the long form (300
 * orders, many kills); CHAOS_FORM=short runs the one `npm test` runs (the jest project
 * `chaos` starts this program). CHAOS_ORDERS and CHAOS_SEED override the number of orders
 * and the seed; with CHAOS_ORDERS the sending is spread over half a second per order.
 * DATABASE_URL and TEMPORAL_ADDRESS name servers to use instead of the run's own (PostgreSQL
 * is then not restarted). Prints the counts; exits 1 when a check fails.
 */
import { LONG_FORM, SHORT_FORM } from './forms';
import { runChaos } from './run';

/** After SIGINT or SIGTERM the run stops what it started; this long at most. */
const STOP_GRACE_MS = 20_000;

async function main(): Promise<void> {
  const form = process.env.CHAOS_FORM === 'short' ? SHORT_FORM : LONG_FORM;
  if (process.env.CHAOS_FORM && !['short', 'long'].includes(process.env.CHAOS_FORM)) throw new Error('CHAOS_FORM: short or long');
  const orders = process.env.CHAOS_ORDERS ? Number(process.env.CHAOS_ORDERS) : form.orders;
  const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : form.seed;
  if (!Number.isInteger(orders) || orders < 1) throw new Error('CHAOS_ORDERS: a whole number of orders, at least 1');
  if (!Number.isInteger(seed)) throw new Error('CHAOS_SEED: a whole number');

  const interrupted = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`chaos: ${signal}, stopping what the run started`);
      interrupted.abort();
      setTimeout(() => process.exit(130), STOP_GRACE_MS).unref();
    });
  }
  const report = await runChaos({ ...form, orders, seed, sendOverMs: process.env.CHAOS_ORDERS ? orders * 500 : form.sendOverMs, signal: interrupted.signal });
  process.exitCode = report.failures.length ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
