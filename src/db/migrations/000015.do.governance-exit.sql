-- Governance: a merchant's exit (spec §9.4). One row per exit (one run of exit:<merchantId>),
-- its timeline with who acted and why, the customers' no-invoice agreements uploaded as proof
-- per order, and the exit record (a JSON document) kept when the exit ends.

create table merchant_exits (
  -- The exit workflow's first run id: a merchant may ask again after a rejected exit.
  exit_id          text primary key,
  merchant_id      text not null references merchants (merchant_id),
  workflow_id      text not null,
  kind             text not null check (kind in ('requested', 'forced')),
  requested_by     text not null,
  reason           text not null,
  penalty_id       text,
  step             text not null,
  step_since       timestamptz not null default now(),
  -- The preconditions that failed at the last check, with their blocking orders.
  blocking         jsonb not null default '[]'::jsonb,
  last_checked_at  timestamptz,
  -- The exit record, written when the exit ends (removed, rejected or withdrawn).
  record           jsonb,
  started_at       timestamptz not null default now(),
  ended_at         timestamptz
);
create index merchant_exits_merchant_idx on merchant_exits (merchant_id, started_at);

create table exit_timeline (
  entry_id   bigserial primary key,
  exit_id    text not null references merchant_exits (exit_id),
  -- The workflow's own sequence number: a retried activity writes an entry once.
  seq        integer not null,
  actor      text not null,
  action     text not null,
  reason     text,
  detail     jsonb not null default '{}'::jsonb,
  at         timestamptz not null,
  unique (exit_id, seq)
);

-- The customer agreed to go without an invoice for this order (spec §9.4): uploaded by the
-- merchant, it clears the order from the no-uninvoiced-order precondition.
create table exit_no_invoice_proofs (
  merchant_id     text not null references merchants (merchant_id),
  order_id        text not null references orders (order_id),
  file_name       text not null,
  content_type    text not null,
  size_bytes      integer not null,
  sha256          text not null,
  content         bytea not null,
  uploaded_by     text not null,
  uploaded_at     timestamptz not null default now(),
  primary key (merchant_id, order_id)
);
