import type { InstanceRecord } from '../../shared/types';
import type { Queryable } from '../pool';

/** Creates the instance row or moves it to the given status. */
export async function upsertInstance(q: Queryable, i: InstanceRecord): Promise<void> {
  await q.query(
    `insert into instances (instance_id, merchant_id, order_id, order_line_id, product_id, status, expire_time)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::timestamptz)
     on conflict (instance_id) do update
       set status = excluded.status, expire_time = coalesce(excluded.expire_time, instances.expire_time), updated_at = now()`,
    [i.instanceId, i.merchantId, i.orderId, i.orderLineId, i.productId, i.status, i.expireTime ?? null],
  );
}

/** Stores the (already encrypted) app info, creating a provisioning row if none exists yet. */
export async function saveInstanceAppInfo(
  q: Queryable,
  i: { instanceId: string; merchantId: string; orderId: string; orderLineId: string; productId: string; appInfoEnc: string },
): Promise<void> {
  await q.query(
    `insert into instances (instance_id, merchant_id, order_id, order_line_id, product_id, status, app_info_enc)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, 'provisioning', $6::text)
     on conflict (instance_id) do update set app_info_enc = excluded.app_info_enc, updated_at = now()`,
    [i.instanceId, i.merchantId, i.orderId, i.orderLineId, i.productId, i.appInfoEnc],
  );
}

export interface InstanceRow {
  instanceId: string;
  merchantId: string;
  orderId: string;
  orderLineId: string;
  productId: string;
  status: string;
  expireTime: string | null;
  appInfoEnc: string | null;
}

export async function findInstance(q: Queryable, instanceId: string): Promise<InstanceRow | undefined> {
  const { rows } = await q.query<InstanceRow>(
    `select instance_id as "instanceId", merchant_id as "merchantId", order_id as "orderId", order_line_id as "orderLineId",
            product_id as "productId", status,
            to_char(expire_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "expireTime",
            app_info_enc as "appInfoEnc"
       from instances where instance_id = $1::text`,
    [instanceId],
  );
  return rows[0];
}
