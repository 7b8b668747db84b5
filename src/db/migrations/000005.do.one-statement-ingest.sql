-- The webhook's writes in one statement each, so an order.paid costs one round trip to
-- PostgreSQL instead of six (begin, insert, lock, select, insert, commit). A single
-- statement is its own transaction: either everything below is written or nothing is.
--
-- Each statement inside a plpgsql function sees what was committed before it ran (read
-- committed takes a fresh snapshot per statement), which the order-line lock relies on:
-- the check after the lock sees a line that a concurrent order committed while we waited.

-- Stores an inbound event under its webhook-id; when the id is known, the row stored first
-- comes back instead (inserted = false), with its answer if it was delivered.
create function record_inbound_event(
  p_event_id text, p_event_type text, p_payload jsonb, p_payload_sha256 text, p_workflow_id text
) returns table (
  inserted boolean, event_type text, payload_sha256 text, workflow_id text,
  response_status integer, response_body jsonb, received_at timestamptz
) language plpgsql as $$
#variable_conflict use_column
begin
  return query
    insert into inbound_events as e (event_id, event_type, payload, payload_sha256, workflow_id)
    values (p_event_id, p_event_type, p_payload, p_payload_sha256, p_workflow_id)
    on conflict (event_id) do nothing
    returning true, e.event_type, e.payload_sha256, e.workflow_id, e.response_status, e.response_body, e.received_at;
  if not found then
    return query
      select false, e.event_type, e.payload_sha256, e.workflow_id, e.response_status, e.response_body, e.received_at
        from inbound_events e where e.event_id = p_event_id;
  end if;
end $$;

-- Locks an order line until the transaction ends and names a product already paid on it
-- that may not share it with this one (null when none). Only pay-per-use items and packages
-- (p_keyed_modes: subscriptions keyed by their product) may share a line.
create function order_line_clash(
  p_order_id text, p_order_line_id text, p_product_id text, p_charging_mode text, p_keyed_modes text[]
) returns text language plpgsql as $$
declare
  clash text;
begin
  -- Two orders for different products arriving at the same instant: the second waits here,
  -- and its check below then sees the first one's line.
  perform pg_advisory_xact_lock(hashtext('order-line:' || p_order_id || ':' || p_order_line_id));
  select l.product_id into clash
    from order_lines l
   where l.order_id = p_order_id and l.order_line_id = p_order_line_id and l.product_id <> p_product_id
     and not (l.charging_mode = any (p_keyed_modes) and p_charging_mode = any (p_keyed_modes))
   order by l.product_id
   limit 1;
  return clash;
end $$;

-- Records a paid order line as provisioning (and its order, with the first line); a repeat
-- leaves the first rows as they are. p_line is the order as the subscription workflow gets it.
create function insert_paid_order_line(p_line jsonb, p_workflow_id text, p_accepted_at timestamptz)
returns void language plpgsql as $$
begin
  insert into orders (order_id, merchant_id, customer_id, customer_name, order_type, currency)
  values (p_line->>'orderId', p_line->>'merchantId', p_line#>>'{customer,customerId}', p_line#>>'{customer,customerName}',
          p_line->>'orderType', p_line->>'currency')
  on conflict (order_id) do nothing;
  insert into order_lines (order_id, order_line_id, product_id, sku_code, charging_mode, period_type, period_number,
                           expire_time, trial, amount, workflow_id, accepted_at, retention_days)
  values (p_line->>'orderId', p_line->>'orderLineId', p_line->>'productId', p_line->>'skuCode', p_line->>'chargingMode',
          p_line->>'periodType', (p_line->>'periodNumber')::int, (p_line->>'expireTime')::timestamptz,
          (p_line->>'trialFlag')::boolean, (p_line->>'amount')::numeric, p_workflow_id, p_accepted_at,
          (p_line->>'retentionDays')::int)
  on conflict (order_id, order_line_id, product_id) do nothing;
end $$;

-- order.paid in one statement: the line's clash check, the event, and (the first time) the
-- order line. When another product holds the line, nothing is written and clashing_product
-- names it; when the webhook-id is known, the first row comes back and no line is written.
create function accept_order_paid(
  p_event_id text, p_payload jsonb, p_payload_sha256 text, p_workflow_id text, p_line jsonb, p_keyed_modes text[]
) returns table (
  inserted boolean, event_type text, payload_sha256 text, workflow_id text,
  response_status integer, response_body jsonb, received_at timestamptz, clashing_product text
) language plpgsql as $$
#variable_conflict use_column
declare
  clash text;
  stored record;
begin
  clash := order_line_clash(p_line->>'orderId', p_line->>'orderLineId', p_line->>'productId', p_line->>'chargingMode', p_keyed_modes);
  if clash is not null then
    return query select false, null::text, null::text, null::text, null::integer, null::jsonb, null::timestamptz, clash;
    return;
  end if;
  select * into stored from record_inbound_event(p_event_id, 'order.paid', p_payload, p_payload_sha256, p_workflow_id);
  if stored.inserted then
    perform insert_paid_order_line(p_line, p_workflow_id, stored.received_at);
  end if;
  return query select stored.inserted, stored.event_type, stored.payload_sha256, stored.workflow_id,
                      stored.response_status, stored.response_body, stored.received_at, null::text;
end $$;
