import type { Queryable } from '../../pool';

export async function insertOperatorAction(
  q: Queryable,
  a: { actor: string; action: string; targetType: string; targetId: string; reason: string; details?: Record<string, unknown> },
): Promise<string> {
  const { rows } = await q.query<{ id: string }>(
    `insert into operator_actions (actor, action, target_type, target_id, reason, details)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::jsonb) returning action_id::text as id`,
    [a.actor, a.action, a.targetType, a.targetId, a.reason, JSON.stringify(a.details ?? {})],
  );
  return rows[0]!.id;
}
