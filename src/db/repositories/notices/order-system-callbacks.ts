import type { Queryable } from '../../pool';

/**
 * Records a callback before it is sent, unless its idempotency key is on record already;
 * answers its status and the body to send. The body is always the stored payload's text,
 * never the one just built: the receiver may check that a webhook-id keeps its payload, so
 * every attempt must send the bytes the first one did.
 */
export async function ensureCallback(
  q: Queryable,
  c: { idempotencyKey: string; eventType: string; payload: unknown },
): Promise<{ status: string; body: string }> {
  await q.query(
    `insert into order_system_callbacks (idempotency_key, event_type, payload)
     values ($1::text, $2::text, $3::jsonb) on conflict (idempotency_key) do nothing`,
    [c.idempotencyKey, c.eventType, JSON.stringify(c.payload)],
  );
  // jsonb prints one canonical text for a stored value, so this is stable across attempts.
  const { rows } = await q.query<{ status: string; body: string }>(
    `select status, payload::text as body from order_system_callbacks where idempotency_key = $1::text`,
    [c.idempotencyKey],
  );
  const row = rows[0];
  if (!row) throw new Error(`order-system callback ${c.idempotencyKey} vanished between insert and select`);
  return row;
}

export async function markCallback(q: Queryable, key: string, status: 'delivered' | 'not-configured' | 'pending', error?: string): Promise<void> {
  await q.query(
    `update order_system_callbacks
        set status = $2::text, attempts = attempts + 1, last_error = $3::text,
            delivered_at = case when $2::text = 'delivered' then now() else delivered_at end
      where idempotency_key = $1::text`,
    [key, status, error ?? null],
  );
}
