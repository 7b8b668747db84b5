-- Settlement (spec §9.2): the merchant's business information, tax rates, monthly runs, one
-- statement per merchant and period with its lines, payment requests (申付单) and invoices.
-- What a run takes is four views, one per line kind, each read by one INSERT … SELECT
-- (db/repositories/settlement/scope.ts); a line is settled once, by the unique key below.

-- Business-information certification: a statement is held until both are present.
alter table merchants add column bank_account text;
alter table merchants add column tax_id text;
-- Merchant routes authenticate with a per-merchant token, stored only as its SHA-256.
alter table merchants add column api_token_sha256 text unique;

-- Invoices are split by tax rate; periodic software products are at 6 % (spec §9.2).
alter table products add column tax_rate numeric(5, 4) not null default 0.0600 check (tax_rate >= 0 and tax_rate < 1);

create table settlement_runs (
  period        text primary key check (period ~ '^[0-9]{4}(0[1-9]|1[0-2])$'),
  -- The calendar month in Beijing time: [period_start, period_end).
  period_start  timestamptz not null,
  period_end    timestamptz not null,
  started_by    text not null,
  started_at    timestamptz not null default now(),
  computed_at   timestamptz
);

create table statements (
  -- Stable: a function of the period and the merchant, the same on every recomputation.
  statement_number  text primary key,
  period            text not null references settlement_runs (period),
  merchant_id       text not null references merchants (merchant_id),
  step              text not null default 'draft'
                    check (step in ('draft', 'held', 'review', 'countersign', 'payment-request', 'invoicing', 'verification', 'payment', 'paid')),
  hold_reason       text,
  step_since        timestamptz not null default now(),
  created_at        timestamptz not null default now(),
  unique (period, merchant_id)
);
create index statements_merchant_idx on statements (merchant_id, period);

create table statement_lines (
  line_id           bigserial primary key,
  statement_number  text not null references statements (statement_number),
  kind              text not null check (kind in ('order', 'renewal', 'upgrade', 'refund', 'usage', 'adjustment')),
  -- The order line the money belongs to; for a renewal or an upgrade, its own order.
  order_id          text not null,
  order_line_id     text not null,
  product_id        text not null,
  sku_code          text not null,
  amount            numeric(20, 4) not null,
  currency          text not null,
  tax_rate          numeric(5, 4) not null,
  effective_at      timestamptz not null,
  -- A refund line: the unsubscribe order that refunded the original beside it.
  refund_order_id   text,
  -- Rated usage (metering, later): quantity and unit over a window.
  quantity          numeric(20, 4),
  unit              text,
  usage_from        timestamptz,
  usage_to          timestamptz,
  -- Exactly once: two overlapping runs, or a run restarted half-way, cannot settle a line twice.
  unique (kind, order_id, order_line_id, product_id)
);
create index statement_lines_statement_idx on statement_lines (statement_number);

create sequence payment_request_seq;

-- 申付单: one per statement, with its own number.
create table payment_requests (
  request_number    text primary key,
  statement_number  text not null unique references statements (statement_number),
  created_at        timestamptz not null default now()
);

-- One invoice covers exactly one payment request (its number is the key); a payment request
-- may have several, one or more per tax rate.
create table invoices (
  invoice_number  text primary key,
  request_number  text not null references payment_requests (request_number),
  tax_rate        numeric(5, 4) not null,
  amount          numeric(20, 4) not null check (amount > 0),
  currency        text not null,
  taxpayer_id     text not null,
  remarks         text not null,
  uploaded_at     timestamptz not null default now()
);
create index invoices_request_idx on invoices (request_number);

-- Renewal and upgrade amounts are read from the stored webhook that carried them.
create index inbound_events_settlement_idx on inbound_events (workflow_id, event_type)
  where event_type in ('order.renewed', 'order.upgraded');

-- New purchases: lines that passed the supervision gate and were provisioned, effective
-- when they became settleable (paid, or supervision completed). Trials carry no money.
create view settlement_order_candidates as
select 'order'::text as kind, g.merchant_id, l.order_id, l.order_line_id, l.product_id, l.sku_code,
       l.amount, o.currency, p.tax_rate, g.settleable_since as effective_at, null::text as refund_order_id
  from settleable_order_lines g
  join order_lines l on l.order_id = g.order_id and l.order_line_id = g.order_line_id and l.product_id = g.product_id
  join orders o on o.order_id = l.order_id
  join products p on p.product_id = l.product_id
 where l.status in ('active', 'frozen', 'released') and not l.trial;

-- The settleable subscription behind a renewal or upgrade order (the gate of its first line).
create view settlement_subscriptions as
select l.workflow_id, g.merchant_id, l.product_id, l.sku_code, l.expire_time, o.currency, p.tax_rate
  from settleable_order_lines g
  join order_lines l on l.order_id = g.order_id and l.order_line_id = g.order_line_id and l.product_id = g.product_id
  join orders o on o.order_id = l.order_id
  join products p on p.product_id = l.product_id;

-- Renewals applied by the merchant, each effective when the term before it ends: the
-- previous renewal's expiry, or the first line's. Without an amount in the event, none.
create view settlement_renewal_candidates as
select 'renewal'::text as kind, merchant_id, order_id, order_line_id, product_id, sku_code,
       amount, currency, tax_rate, effective_at, null::text as refund_order_id
  from (
    select s.merchant_id, r.order_id, r.order_line_id, s.product_id, s.sku_code, s.tax_rate,
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

-- Upgrades applied by the merchant, effective when applied.
create view settlement_upgrade_candidates as
select 'upgrade'::text as kind, s.merchant_id, r.order_id, r.order_line_id, s.product_id,
       coalesce(r.detail ->> 'skuCode', s.sku_code) as sku_code,
       (e.payload #>> '{data,amount}')::numeric as amount, coalesce(e.payload #>> '{data,currency}', s.currency) as currency,
       s.tax_rate, r.updated_at as effective_at, null::text as refund_order_id
  from subscription_orders r
  join settlement_subscriptions s on s.workflow_id = r.workflow_id
  join lateral (
    select payload from inbound_events e
     where e.workflow_id = r.workflow_id and e.event_type = 'order.upgraded' and e.payload #>> '{data,orderId}' = r.order_id
     order by e.received_at limit 1
  ) e on true
 where r.kind = 'upgrade' and r.status = 'completed';

-- Refunds: an unsubscription refunds its original line in full, as a negative line beside it
-- (same order line), so the two net to zero.
create view settlement_refund_candidates as
select 'refund'::text as kind, c.merchant_id, c.order_id, c.order_line_id, c.product_id, c.sku_code,
       -c.amount as amount, c.currency, c.tax_rate, u.updated_at as effective_at, u.order_id as refund_order_id
  from subscription_orders u
  join order_lines l on l.workflow_id = u.workflow_id
  join settlement_order_candidates c on c.order_id = l.order_id and c.order_line_id = l.order_line_id and c.product_id = l.product_id
 where u.kind = 'unsubscribe' and u.status = 'completed';
