-- Refunds (spec §9.3): one row per refund request, `refund:<refund_order_id>`, and every
-- decision taken on it with its reason, who took it and when (the order's timeline shows them).
-- The settlement reads the approved rows and their `amount` (the amount refunded, which may be
-- less than the line's for a negotiated or pro-rata refund): keep the column names
-- refund_order_id, order_id, order_line_id, merchant_id, status, amount, currency, decided_at.

create table refunds (
  -- The refund (unsubscribe) order: the business key of the request and of its workflow.
  refund_order_id   text primary key,
  order_id          text not null,
  order_line_id     text not null,
  merchant_id       text not null references merchants (merchant_id),
  customer_id       text not null,
  -- customer: asked through order.refund_requested; merchant_exit: the marketplace refunds the
  -- rest of the period when a merchant leaves (spec §9.4), with the amount it computed.
  origin            text not null default 'customer' check (origin in ('customer', 'merchant_exit')),
  -- What the request asked for: the 5-day full refund, a negotiated amount, or the exit's pro-rata.
  kind              text not null check (kind in ('full', 'negotiated', 'merchant_exit')),
  -- The amount the customer proposed (negotiated) or the marketplace decided (merchant_exit).
  proposed_amount   numeric(20, 4),
  -- What the customer paid for the line.
  paid_amount       numeric(20, 4) not null,
  status            text not null default 'pending' check (status in ('pending', 'approved', 'refused')),
  -- The amount refunded: set exactly when approved.
  amount            numeric(20, 4) check (amount > 0),
  currency          text not null,
  -- The rule that refused it (rules.ts, the merchant's answer or silence), or 'merchant_exit'.
  rule              text,
  workflow_id       text not null unique,
  -- The event that asked (order.refund_requested's webhook-id), or the exit's key.
  event_id          text not null,
  requested_at      timestamptz not null,
  decided_at        timestamptz,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  check ((status = 'approved') = (amount is not null)),
  check ((status = 'pending') = (decided_at is null)),
  check (status <> 'refused' or rule is not null)
);
-- One live refund per order line: a second request while one is pending or approved is refused.
create unique index refunds_one_live_per_line on refunds (order_id, order_line_id) where status in ('pending', 'approved');
create index refunds_order_idx on refunds (order_id, requested_at);
create index refunds_merchant_idx on refunds (merchant_id, requested_at);
-- What the settlement reads: approved refunds by when they were decided.
create index refunds_approved_idx on refunds (decided_at) where status = 'approved';

-- Every decision and step of a refund, in order: the request, the rules' verdict, the
-- merchant's answer (or its silence), the final verdict. Keyed by the workflow's own sequence,
-- so an activity retried writes nothing twice.
create table refund_decisions (
  refund_order_id   text not null references refunds (refund_order_id),
  seq               integer not null check (seq > 0),
  -- requested | rules | merchant_answer | verdict
  step              text not null check (step in ('requested', 'rules', 'merchant_answer', 'verdict')),
  -- requested | full | negotiated | merchant_exit | approved | rejected | refused
  outcome           text not null,
  reason            text not null,
  rule              text,
  amount            numeric(20, 4),
  actor_type        text not null check (actor_type in ('customer', 'merchant', 'operator', 'marketplace')),
  actor_id          text not null,
  at                timestamptz not null,
  primary key (refund_order_id, seq)
);
