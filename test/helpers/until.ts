/**
 * The tests' one real-time poller. Every wait that polls is built on it: status queries and
 * workflow histories (workflow-env's eventually, waitUntilParked, waitUntilQuiet), the
 * time-skipping steps (advanceTimers, advanceBy), and the end-to-end suites' API reads.
 */
export interface UntilOptions {
  /** Real time to give up after; the error names the last value read. */
  timeoutMs?: number;
  intervalMs?: number;
  /** What did not happen, for the error. */
  what?: string;
}

/** Reads until the value satisfies `done` (a read may also throw, which ends the wait). */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, options: UntilOptions = {}): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 100, what = 'condition not reached' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} after ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
