-- The whole life of a subscription: the SKU an upgrade changes, what queryInstance last
-- reported, and the statuses an order line moves through after it is provisioned.

alter table instances add column sku_code text;
alter table instances add column usage_info jsonb;
alter table instances add column queried_at timestamptz;

alter table order_lines add column retention_days integer not null default 15 check (retention_days between 1 and 15);

-- Upgrade orders, renewals and unsubscriptions of a subscription, each once per order.
create table subscription_orders (
  order_id         text not null,
  order_line_id    text not null,
  workflow_id      text not null,
  kind             text not null check (kind in ('renewal', 'upgrade', 'unsubscribe')),
  scene            text,
  status           text not null default 'pending' check (status in ('pending', 'completed', 'failed', 'refunded')),
  detail           jsonb not null default '{}'::jsonb,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  primary key (order_id, order_line_id)
);
create index subscription_orders_workflow_idx on subscription_orders (workflow_id);
