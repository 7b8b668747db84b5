import type { Queryable } from '../../pool';

export interface NewNotification {
  idempotencyKey: string;
  recipientType: 'merchant' | 'customer' | 'operator';
  recipientId: string;
  channel: 'in-site' | 'email';
  subject: string;
  body: string;
  emailStatus: 'not-applicable' | 'pending';
}

/** Inserts a notification once per idempotency key; answers its id and whether it is new. */
export async function insertNotification(q: Queryable, n: NewNotification): Promise<{ id: string; inserted: boolean; emailStatus: string }> {
  const inserted = await q.query<{ id: string; emailStatus: string }>(
    `insert into notifications (idempotency_key, recipient_type, recipient_id, channel, subject, body, email_status)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text)
     on conflict (idempotency_key) do nothing
     returning notification_id::text as id, email_status as "emailStatus"`,
    [n.idempotencyKey, n.recipientType, n.recipientId, n.channel, n.subject, n.body, n.emailStatus],
  );
  if (inserted.rows[0]) return { ...inserted.rows[0], inserted: true };
  const existing = await q.query<{ id: string; emailStatus: string }>(
    `select notification_id::text as id, email_status as "emailStatus" from notifications where idempotency_key = $1::text`,
    [n.idempotencyKey],
  );
  const row = existing.rows[0];
  if (!row) throw new Error(`notification ${n.idempotencyKey} vanished between insert and select`);
  return { ...row, inserted: false };
}

export async function markEmail(q: Queryable, id: string, status: 'sent' | 'failed', error?: string): Promise<void> {
  await q.query(`update notifications set email_status = $2::text, email_error = $3::text where notification_id = $1::bigint`, [
    id,
    status,
    error ?? null,
  ]);
}
