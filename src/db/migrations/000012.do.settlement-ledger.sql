-- The settlement ledger (spec §9.2): every settleable fact is appended once, when it happens,
-- with the period it settles in fixed at that moment. A bill run then only groups the
-- period's rows by merchant (db/repositories/settlement/scope.ts) instead of copying every
-- line into statement_lines: statement lines are the ledger rows of the statement's periods.
--
-- Facts: an order line taking effect (paid and provisioned, or its supervision completed), a
-- renewal, an upgrade, an approved refund (negative, beside its original), and later a
-- dispute's adjustment or rated usage (settlement_append_fact, db/repositories/settlement/ledger.ts).
--
-- settle_period = the latest of
--   * the Beijing month the fact takes effect in;
--   * for a refund, its original's settle_period (never settled before the line it refunds);
--   * the month after the merchant's latest statement (a statement never changes once made).
-- A merchant's statement for P takes its rows with settle_period in (from_period, P], where
-- from_period is the merchant's statement before it: months without a run are taken by the
-- next run ("earlier ones not yet settled"), and each row belongs to exactly one statement.
--
-- The boundary: appenders hold a shared advisory lock ('settlement-ledger') until they commit,
-- and a bill run takes it exclusively. The run therefore waits for every fact being written,
-- and a fact written after the run commits sees the new statement and goes to a later period.

create table settlement_ledger (
  ledger_id        bigserial primary key,
  -- The fact's own key: '<kind>:<order>:<line>:<product>' for order, renewal, upgrade and
  -- refund; the caller's for adjustments and usage (e.g. 'adjustment:<disputeId>').
  fact_key         text not null unique,
  kind             text not null check (kind in ('order', 'renewal', 'upgrade', 'refund', 'usage', 'adjustment')),
  merchant_id      text not null references merchants (merchant_id),
  -- The order line the money belongs to; for a renewal or an upgrade, its own order.
  order_id         text not null,
  order_line_id    text not null,
  product_id       text not null,
  sku_code         text not null,
  amount           numeric(20, 4) not null,
  currency         text not null,
  tax_rate         numeric(5, 4) not null,
  effective_at     timestamptz not null,
  recorded_at      timestamptz not null default now(),
  settle_period    text not null check (settle_period ~ '^[0-9]{4}(0[1-9]|1[0-2])$'),
  -- A refund: the unsubscribe (refund) order that refunded the original beside it.
  refund_order_id  text,
  -- Rated usage (metering, later): quantity and unit over a window.
  quantity         numeric(20, 4),
  unit             text,
  usage_from       timestamptz,
  usage_to         timestamptz,
  -- What an adjustment or a usage line refers to beyond the order (a dispute, a usage record).
  reference        text
);
create index settlement_ledger_period_idx on settlement_ledger (settle_period, merchant_id);
create index settlement_ledger_merchant_idx on settlement_ledger (merchant_id, settle_period);
create index settlement_ledger_order_idx on settlement_ledger (order_id, order_line_id);

-- The facts of a subscription are found by its workflow id (renewals, upgrades and refunds
-- point at it); order lines had no index on it.
create index order_lines_workflow_idx on order_lines (workflow_id);

-- The statement before this one of the same merchant: its lines are the ledger rows after it.
alter table statements add column from_period text;

create function settlement_month(p_at timestamptz) returns text language sql stable as $$
  select to_char(p_at at time zone 'Asia/Shanghai', 'YYYYMM')
$$;

create function settlement_settle_period(p_merchant_id text, p_effective_at timestamptz, p_floor text) returns text
language sql stable as $$
  select greatest(settlement_month(p_effective_at), p_floor,
                  (select to_char(to_date(max(s.period), 'YYYYMM') + interval '1 month', 'YYYYMM')
                     from statements s where s.merchant_id = p_merchant_id))
$$;

-- Statement lines already made keep their statement: each becomes a ledger row of its period.
insert into settlement_ledger (fact_key, kind, merchant_id, order_id, order_line_id, product_id, sku_code, amount, currency,
                               tax_rate, effective_at, settle_period, refund_order_id, quantity, unit, usage_from, usage_to)
select l.kind || ':' || l.order_id || ':' || l.order_line_id || ':' || l.product_id, l.kind, s.merchant_id, l.order_id,
       l.order_line_id, l.product_id, l.sku_code, l.amount, l.currency, l.tax_rate, l.effective_at, s.period, l.refund_order_id,
       l.quantity, l.unit, l.usage_from, l.usage_to
  from statement_lines l join statements s on s.statement_number = l.statement_number
 order by l.line_id;
update statements s set from_period = p.before
  from (select statement_number, lag(period) over (partition by merchant_id order by period) as before from statements) p
 where p.statement_number = s.statement_number;
drop table statement_lines;

-- What a statement shows: the ledger rows of its merchant in (from_period, period].
create view statement_lines as
select l.ledger_id as line_id, s.statement_number, l.kind, l.order_id, l.order_line_id, l.product_id, l.sku_code, l.amount,
       l.currency, l.tax_rate, l.effective_at, l.refund_order_id, l.quantity, l.unit, l.usage_from, l.usage_to, l.reference,
       l.merchant_id, l.settle_period
  from statements s
  join settlement_ledger l on l.merchant_id = s.merchant_id and l.settle_period <= s.period
                          and l.settle_period > coalesce(s.from_period, '');

-- The facts as derived from the tables that record them, one view per kind with the same
-- columns, found by the subscription's workflow id. (The candidate views of 000007 stay for
-- their other readers.)
create view settlement_order_facts as
select 'order'::text as kind, 'order:' || l.order_id || ':' || l.order_line_id || ':' || l.product_id as fact_key,
       g.merchant_id, l.order_id, l.order_line_id, l.product_id, l.sku_code, l.amount, o.currency, p.tax_rate,
       g.settleable_since as effective_at, null::text as refund_order_id, null::text as floor_period, l.workflow_id
  from settleable_order_lines g
  join order_lines l on l.order_id = g.order_id and l.order_line_id = g.order_line_id and l.product_id = g.product_id
  join orders o on o.order_id = l.order_id
  join products p on p.product_id = l.product_id
 where l.status in ('active', 'frozen', 'released') and not l.trial;

-- A renewal takes effect when the term before it ends: the previous renewal's expiry, or the
-- first line's. Without an amount in its event, none.
create view settlement_renewal_facts as
select 'renewal'::text as kind, 'renewal:' || order_id || ':' || order_line_id || ':' || product_id as fact_key,
       merchant_id, order_id, order_line_id, product_id, sku_code, amount, currency, tax_rate, effective_at,
       null::text as refund_order_id, null::text as floor_period, workflow_id
  from (
    select r.workflow_id, s.merchant_id, r.order_id, r.order_line_id, s.product_id, s.sku_code, s.tax_rate,
           (e.payload #>> '{data,amount}')::numeric as amount,
           coalesce(e.payload #>> '{data,currency}', s.currency) as currency,
           coalesce(lag((r.detail ->> 'expireTime')::timestamptz) over (partition by r.workflow_id order by (r.detail ->> 'expireTime')::timestamptz),
                    s.expire_time) as effective_at
      from subscription_orders r
      join settlement_subscriptions s on s.workflow_id = r.workflow_id
      left join lateral (
        select payload from inbound_events e
         where e.workflow_id = r.workflow_id and e.event_type = 'order.renewed' and e.payload #>> '{data,orderId}' = r.order_id
         order by e.received_at limit 1
      ) e on true
     where r.kind = 'renewal' and r.status = 'completed'
  ) renewals
 where amount is not null and effective_at is not null;

create view settlement_upgrade_facts as
select 'upgrade'::text as kind, 'upgrade:' || r.order_id || ':' || r.order_line_id || ':' || s.product_id as fact_key,
       s.merchant_id, r.order_id, r.order_line_id, s.product_id, coalesce(r.detail ->> 'skuCode', s.sku_code) as sku_code,
       (e.payload #>> '{data,amount}')::numeric as amount, coalesce(e.payload #>> '{data,currency}', s.currency) as currency,
       s.tax_rate, r.updated_at as effective_at, null::text as refund_order_id, null::text as floor_period, r.workflow_id
  from subscription_orders r
  join settlement_subscriptions s on s.workflow_id = r.workflow_id
  join lateral (
    select payload from inbound_events e
     where e.workflow_id = r.workflow_id and e.event_type = 'order.upgraded' and e.payload #>> '{data,orderId}' = r.order_id
     order by e.received_at limit 1
  ) e on true
 where r.kind = 'upgrade' and r.status = 'completed' and e.payload #>> '{data,amount}' is not null;

-- A refund: a completed unsubscription of a line already in the ledger, as a negative line
-- beside it (same order line). The amount is the approved refund's (migration 000010: a
-- negotiated or pro-rata refund is partial); an unsubscription without a refund row (the
-- automatic refund after a failed create, or the order system's own) refunds the whole line.
-- A refund still pending waits for its decision; a refused one refunds nothing.
create view settlement_refund_facts as
select 'refund'::text as kind, 'refund:' || o.order_id || ':' || o.order_line_id || ':' || o.product_id as fact_key,
       o.merchant_id, o.order_id, o.order_line_id, o.product_id, o.sku_code, -coalesce(r.amount, o.amount) as amount,
       o.currency, o.tax_rate, u.updated_at as effective_at, u.order_id as refund_order_id, o.settle_period as floor_period, l.workflow_id
  from subscription_orders u
  join order_lines l on l.workflow_id = u.workflow_id
  join settlement_ledger o on o.fact_key = 'order:' || l.order_id || ':' || l.order_line_id || ':' || l.product_id
  left join refunds r on r.refund_order_id = u.order_id
 where u.kind = 'unsubscribe' and u.status = 'completed' and (r.refund_order_id is null or r.status = 'approved');

-- Appends every fact of these subscriptions that is not in the ledger yet. Refunds come after
-- the rest: they read their original from the ledger.
create function settlement_append_facts(p_workflow_ids text[]) returns integer language plpgsql as $$
declare
  appended integer;
  refunds integer;
begin
  if coalesce(cardinality(p_workflow_ids), 0) = 0 then
    return 0;
  end if;
  -- Until commit: a bill run waits for this fact, or this fact waits for the run (see the top).
  perform pg_advisory_xact_lock_shared(hashtext('settlement-ledger'));
  insert into settlement_ledger (fact_key, kind, merchant_id, order_id, order_line_id, product_id, sku_code, amount, currency,
                                 tax_rate, effective_at, settle_period, refund_order_id)
  select f.fact_key, f.kind, f.merchant_id, f.order_id, f.order_line_id, f.product_id, f.sku_code, f.amount, f.currency,
         f.tax_rate, f.effective_at, settlement_settle_period(f.merchant_id, f.effective_at, f.floor_period), f.refund_order_id
    from (select * from settlement_order_facts union all select * from settlement_renewal_facts
          union all select * from settlement_upgrade_facts) f
   where f.workflow_id = any (p_workflow_ids)
   order by f.effective_at
  on conflict (fact_key) do nothing;
  get diagnostics appended = row_count;
  insert into settlement_ledger (fact_key, kind, merchant_id, order_id, order_line_id, product_id, sku_code, amount, currency,
                                 tax_rate, effective_at, settle_period, refund_order_id)
  select f.fact_key, f.kind, f.merchant_id, f.order_id, f.order_line_id, f.product_id, f.sku_code, f.amount, f.currency,
         f.tax_rate, f.effective_at, settlement_settle_period(f.merchant_id, f.effective_at, f.floor_period), f.refund_order_id
    from settlement_refund_facts f
   where f.workflow_id = any (p_workflow_ids)
  on conflict (fact_key) do nothing;
  get diagnostics refunds = row_count;
  return appended + refunds;
end $$;

-- One fact given whole (a dispute's adjustment, rated usage): p_fact holds the ledger's
-- columns in camelCase; settle_period is computed here, never given. Returns the row, or the
-- row already appended under the same fact_key (appended = false).
create function settlement_append_fact(p_fact jsonb)
returns table (appended boolean, ledger_id bigint, settle_period text) language plpgsql as $$
#variable_conflict use_column
begin
  perform pg_advisory_xact_lock_shared(hashtext('settlement-ledger'));
  return query
    insert into settlement_ledger as l (fact_key, kind, merchant_id, order_id, order_line_id, product_id, sku_code, amount, currency,
                                        tax_rate, effective_at, settle_period, refund_order_id, quantity, unit, usage_from, usage_to, reference)
    select p_fact ->> 'factKey', p_fact ->> 'kind', p_fact ->> 'merchantId', p_fact ->> 'orderId', p_fact ->> 'orderLineId',
           p_fact ->> 'productId', p_fact ->> 'skuCode', (p_fact ->> 'amount')::numeric, p_fact ->> 'currency',
           (p_fact ->> 'taxRate')::numeric, (p_fact ->> 'effectiveAt')::timestamptz,
           settlement_settle_period(p_fact ->> 'merchantId', (p_fact ->> 'effectiveAt')::timestamptz, null),
           p_fact ->> 'refundOrderId', (p_fact ->> 'quantity')::numeric, p_fact ->> 'unit', (p_fact ->> 'usageFrom')::timestamptz,
           (p_fact ->> 'usageTo')::timestamptz, p_fact ->> 'reference'
    on conflict (fact_key) do nothing
    returning true, l.ledger_id, l.settle_period;
  if not found then
    return query select false, l.ledger_id, l.settle_period from settlement_ledger l where l.fact_key = p_fact ->> 'factKey';
  end if;
end $$;

-- The triggers that append facts where they are recorded. Row triggers carry a WHEN, so a
-- write that is no settleable fact (every order.paid insert: its line is 'provisioning')
-- calls nothing. The order lines' update is per statement, so a bulk update is set-based.
create function settlement_append_row_facts() returns trigger language plpgsql as $$
begin
  perform settlement_append_facts(array[new.workflow_id]);
  return null;
end $$;

create trigger settlement_ledger_order_line_inserted after insert on order_lines for each row
  when (new.status in ('active', 'frozen', 'released') and not new.trial)
  execute function settlement_append_row_facts();

create function settlement_append_order_lines_took_effect() returns trigger language plpgsql as $$
begin
  perform settlement_append_facts(array(
    select distinct n.workflow_id
      from new_lines n
      join old_lines o on o.order_id = n.order_id and o.order_line_id = n.order_line_id and o.product_id = n.product_id
     where n.status in ('active', 'frozen', 'released') and o.status not in ('active', 'frozen', 'released') and not n.trial));
  return null;
end $$;

create trigger settlement_ledger_order_lines_updated after update on order_lines
  referencing old table as old_lines new table as new_lines
  for each statement execute function settlement_append_order_lines_took_effect();

create trigger settlement_ledger_subscription_order_completed after insert or update on subscription_orders for each row
  when (new.status = 'completed')
  execute function settlement_append_row_facts();

-- A renewal or an upgrade may complete before or after its event is stored: both append.
create trigger settlement_ledger_amount_event after insert on inbound_events for each row
  when (new.event_type in ('order.renewed', 'order.upgraded') and new.workflow_id is not null)
  execute function settlement_append_row_facts();

-- A supervised line, and what its subscription did meanwhile, become settleable on completion;
-- a refund waiting for its decision, once approved.
create function settlement_append_line_facts() returns trigger language plpgsql as $$
begin
  perform settlement_append_facts(array(
    select workflow_id from order_lines where order_id = new.order_id and order_line_id = new.order_line_id));
  return null;
end $$;

create trigger settlement_ledger_supervision_completed after insert or update of completed_at on supervisions for each row
  when (new.completed_at is not null)
  execute function settlement_append_line_facts();

create trigger settlement_ledger_refund_approved after insert or update of status on refunds for each row
  when (new.status = 'approved')
  execute function settlement_append_line_facts();

-- Every fact recorded so far and not on a statement yet.
select settlement_append_facts(array(select distinct workflow_id from order_lines));
