import type { Queryable } from '../../pool';

export interface InstanceRecord {
  instanceId: string;
  /** The subscription the instance belongs to. */
  workflowId: string;
  merchantId: string;
  orderId: string;
  orderLineId: string;
  productId: string;
  skuCode?: string;
  status: 'active' | 'frozen' | 'released';
  expireTime?: string;
}

/**
 * Merchants choose instance ids, so two subscriptions can be given the same one. An upsert
 * changes only a row that has no owner yet or belongs to the writing workflow; the other
 * subscription's row is left alone and the write reports that it saved nothing.
 */
const ONLY_OWN_ROW = `where instances.workflow_id is null or instances.workflow_id = excluded.workflow_id`;

/**
 * Creates the instance row or moves it to the given status. False when the instance id
 * belongs to another subscription: nothing was saved.
 */
export async function upsertInstance(q: Queryable, i: InstanceRecord): Promise<boolean> {
  const { rowCount } = await q.query(
    `insert into instances (instance_id, workflow_id, merchant_id, order_id, order_line_id, product_id, sku_code, status, expire_time)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::timestamptz)
     on conflict (instance_id) do update
       set status = excluded.status, workflow_id = excluded.workflow_id, product_id = excluded.product_id,
           sku_code = coalesce(excluded.sku_code, instances.sku_code),
           expire_time = coalesce(excluded.expire_time, instances.expire_time), updated_at = now()
     ${ONLY_OWN_ROW}`,
    [i.instanceId, i.workflowId, i.merchantId, i.orderId, i.orderLineId, i.productId, i.skuCode ?? null, i.status, i.expireTime ?? null],
  );
  return rowCount === 1;
}

/**
 * Stores what queryInstance returned: the (already encrypted) app info and the usage of a
 * pay-per-use package. Creates a provisioning row if none exists yet; keeps what a later
 * answer leaves out. False when the instance id belongs to another subscription: nothing
 * was saved.
 */
export async function saveInstanceAppInfo(
  q: Queryable,
  i: Omit<InstanceRecord, 'status' | 'skuCode' | 'expireTime'> & { appInfoEnc?: string; usageInfo?: unknown },
): Promise<boolean> {
  const { rowCount } = await q.query(
    `insert into instances (instance_id, workflow_id, merchant_id, order_id, order_line_id, product_id, status, app_info_enc, usage_info, queried_at)
     values ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, 'provisioning', $7::text, $8::jsonb, now())
     on conflict (instance_id) do update
       set app_info_enc = coalesce(excluded.app_info_enc, instances.app_info_enc),
           usage_info = coalesce(excluded.usage_info, instances.usage_info), queried_at = now(), updated_at = now()
     ${ONLY_OWN_ROW}`,
    [
      i.instanceId,
      i.workflowId,
      i.merchantId,
      i.orderId,
      i.orderLineId,
      i.productId,
      i.appInfoEnc ?? null,
      i.usageInfo === undefined ? null : JSON.stringify(i.usageInfo),
    ],
  );
  return rowCount === 1;
}

export interface InstanceRow {
  instanceId: string;
  merchantId: string;
  orderId: string;
  orderLineId: string;
  productId: string;
  skuCode: string | null;
  status: string;
  expireTime: string | null;
  appInfoEnc: string | null;
  usageInfo: unknown;
  queriedAt: string | null;
  workflowId: string | null;
}

export async function findInstance(q: Queryable, instanceId: string): Promise<InstanceRow | undefined> {
  const { rows } = await q.query<InstanceRow>(
    `select i.instance_id as "instanceId", i.merchant_id as "merchantId", i.order_id as "orderId", i.order_line_id as "orderLineId",
            i.product_id as "productId", i.sku_code as "skuCode", i.status,
            to_char(i.expire_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "expireTime",
            i.app_info_enc as "appInfoEnc", i.usage_info as "usageInfo",
            to_char(i.queried_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "queriedAt",
            i.workflow_id as "workflowId"
       from instances i
      where i.instance_id = $1::text`,
    [instanceId],
  );
  return rows[0];
}
