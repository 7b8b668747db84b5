/** Headers of a party's signed supervision request (merchant, or the order system for a customer): see src/api/auth.ts. */
import { requestSignature } from '../../src/api/auth';

export function partyHeaders(
  party: { idHeader: 'x-merchant-id' | 'x-customer-id'; id: string; key: string },
  method: string,
  pathWithQuery: string,
  body = '',
  nowMs: number = Date.now(),
): Record<string, string> {
  const timestamp = String(nowMs);
  return {
    [party.idHeader]: party.id,
    'x-timestamp': timestamp,
    'x-signature': requestSignature(party.key, method, pathWithQuery, timestamp, body),
    ...(body ? { 'content-type': 'application/json' } : {}),
  };
}
