/** What the HTTP clients share: a per-request deadline and a readable reason for a failed request. */

/**
 * A deadline for one request, which the caller's signal (a cancelled activity) can cut short.
 * `failure` turns what fetch threw into the reason there is no answer; a cancellation is
 * rethrown instead, because it is not the server's failure.
 */
export function requestDeadline(timeoutMs: number, cancelled?: AbortSignal): { signal: AbortSignal; failure(error: unknown): string } {
  const timeout = AbortSignal.timeout(timeoutMs);
  return {
    signal: cancelled ? AbortSignal.any([cancelled, timeout]) : timeout,
    failure(error) {
      if (cancelled?.aborted) throw cancelled.reason ?? error;
      return timeout.aborted ? `no answer within ${timeoutMs} ms` : describeNetworkError(error);
    },
  };
}

/**
 * fetch's message ("fetch failed") says little; its cause's code (ECONNREFUSED, ENOTFOUND…)
 * says what went wrong. Duck-typed, because errors from Node's internals are not always
 * instances of this realm's Error (under test sandboxes, for one).
 */
export function describeNetworkError(error: unknown): string {
  const message = typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
  const cause = typeof error === 'object' && error !== null && 'cause' in error ? (error.cause as { code?: unknown } | undefined) : undefined;
  return cause && typeof cause.code === 'string' ? `${message}: ${cause.code}` : message;
}
