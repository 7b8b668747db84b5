-- Foundation: merchants and products, orders, instances, the inbound event log, every
-- outbound merchant call, notifications, order-system callbacks and operator actions.

create table merchants (
  merchant_id       text primary key,
  name              text not null,
  production_url    text not null,
  protocol_version  text not null check (protocol_version in ('v2')),
  -- AES-256-GCM envelope (see src/security/encryption.ts); never stored in clear.
  access_key_enc    text not null,
  contact_email     text,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now()
);

create table products (
  product_id      text primary key,
  merchant_id     text not null references merchants (merchant_id),
  name            text not null,
  charging_mode   text not null check (charging_mode in ('PERIOD', 'ONE_TIME', 'ON_DEMAND', 'ON_DEMAND_PKG')),
  retention_days  integer not null check (retention_days between 1 and 15),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);
create index products_merchant_idx on products (merchant_id);

-- Every webhook we accepted, keyed by its webhook-id: a repeat gets the stored answer.
create table inbound_events (
  event_id         text primary key,
  event_type       text not null,
  payload          jsonb not null,
  payload_sha256   text not null,
  received_at      timestamptz not null default now(),
  workflow_id      text,
  -- Filled once the event reached its workflow; until then a repeat delivery retries it.
  response_status  integer,
  response_body    jsonb,
  processed_at     timestamptz
);

create table orders (
  order_id       text primary key,
  merchant_id    text not null references merchants (merchant_id),
  customer_id    text not null,
  customer_name  text,
  order_type     text not null,
  currency       text not null,
  created_at     timestamptz not null default now()
);

create table order_lines (
  order_id        text not null references orders (order_id),
  order_line_id   text not null,
  product_id      text not null references products (product_id),
  sku_code        text not null,
  charging_mode   text not null,
  period_type     text,
  period_number   integer,
  expire_time     timestamptz,
  trial           boolean not null default false,
  amount          numeric(20, 4) not null,
  workflow_id     text not null,
  status          text not null default 'provisioning',
  instance_id     text,
  failure_reason  text,
  accepted_at     timestamptz not null,
  updated_at      timestamptz not null default now(),
  primary key (order_id, order_line_id)
);
create index order_lines_status_idx on order_lines (status);

create table instances (
  instance_id    text primary key,
  merchant_id    text not null references merchants (merchant_id),
  order_id       text not null,
  order_line_id  text not null,
  product_id     text not null,
  status         text not null check (status in ('provisioning', 'active', 'frozen', 'released')),
  expire_time    timestamptz,
  -- App info holds the customer's admin credentials: AES-256-GCM envelope, never in clear.
  app_info_enc   text,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now()
);
create index instances_order_idx on instances (order_id, order_line_id);

-- Every outbound merchant call: the timeline operators read.
create table call_attempts (
  attempt_id     uuid primary key,
  workflow_id    text not null,
  order_id       text not null,
  order_line_id  text not null,
  merchant_id    text not null,
  scenario       text not null,
  activity       text not null,
  attempt        integer not null,
  business_id    text,
  outcome        text not null check (outcome in ('success', 'processing', 'failure')),
  result_code    text,
  result_msg     text,
  http_status    integer,
  latency_ms     integer not null,
  error          text,
  started_at     timestamptz not null,
  recorded_at    timestamptz not null default now()
);
create index call_attempts_order_idx on call_attempts (order_id, started_at);

create table notifications (
  notification_id  bigserial primary key,
  idempotency_key  text not null unique,
  recipient_type   text not null check (recipient_type in ('merchant', 'customer', 'operator')),
  recipient_id     text not null,
  channel          text not null check (channel in ('in-site', 'email')),
  subject          text not null,
  body             text not null,
  email_status     text not null default 'not-applicable' check (email_status in ('not-applicable', 'pending', 'sent', 'failed')),
  email_error      text,
  created_at       timestamptz not null default now(),
  read_at          timestamptz
);

-- Fulfilment callbacks to the marketplace's order system; one row per idempotency key.
create table order_system_callbacks (
  idempotency_key  text primary key,
  event_type       text not null,
  payload          jsonb not null,
  status           text not null default 'pending' check (status in ('pending', 'delivered', 'not-configured')),
  attempts         integer not null default 0,
  last_error       text,
  created_at       timestamptz not null default now(),
  delivered_at     timestamptz
);

create table operator_actions (
  action_id    bigserial primary key,
  actor        text not null,
  action       text not null,
  target_type  text not null,
  target_id    text not null,
  reason       text not null,
  details      jsonb not null default '{}'::jsonb,
  created_at   timestamptz not null default now()
);
create index operator_actions_target_idx on operator_actions (target_type, target_id);
