import type { Queryable } from '../pool';

/** Records a callback before it is sent; answers its current status. */
export async function ensureCallback(
  q: Queryable,
  c: { idempotencyKey: string; eventType: string; payload: unknown },
): Promise<{ status: string }> {
  await q.query(
    `insert into order_system_callbacks (idempotency_key, event_type, payload)
     values ($1::text, $2::text, $3::jsonb) on conflict (idempotency_key) do nothing`,
    [c.idempotencyKey, c.eventType, JSON.stringify(c.payload)],
  );
  const { rows } = await q.query<{ status: string }>(`select status from order_system_callbacks where idempotency_key = $1::text`, [
    c.idempotencyKey,
  ]);
  return { status: rows[0]?.status ?? 'pending' };
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
