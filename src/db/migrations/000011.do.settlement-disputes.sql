-- Disputes of statement lines (spec §9.2: "Disputes go through tickets; confirmed differences
-- are adjusted in the next cycle"). A merchant disputes one line of its own statement once the
-- statement was sent, with a reason and the amount it claims; an operator confirms a
-- difference (appended to the settlement ledger as an adjustment line of the merchant's next
-- statement, keyed 'adjustment:<disputeId>', so it settles exactly once and never edits a sent
-- statement) or rejects it with a reason.

create sequence statement_dispute_seq;

create table statement_disputes (
  -- 'DP' || the statement's period || a 6-digit sequence.
  dispute_id            text primary key,
  statement_number      text not null references statements (statement_number),
  merchant_id           text not null references merchants (merchant_id),
  -- The disputed line by its settled key, as the statement shows it.
  line_kind             text not null check (line_kind in ('order', 'renewal', 'upgrade', 'refund')),
  order_id              text not null,
  order_line_id         text not null,
  product_id            text not null,
  sku_code              text not null,
  line_amount           numeric(20, 4) not null,
  currency              text not null,
  tax_rate              numeric(5, 4) not null,
  -- What the merchant says the line should have been, and why.
  claimed_amount        numeric(20, 4) not null check (claimed_amount <> line_amount),
  reason                text not null,
  status                text not null default 'open' check (status in ('open', 'confirmed', 'rejected')),
  -- Confirmed: the difference that becomes the adjustment line (same sign as the claim, no larger).
  confirmed_difference  numeric(20, 4) check (confirmed_difference <> 0),
  decision_reason       text,
  decided_by            text,
  decided_at            timestamptz,
  -- Where the adjustment went: the ledger row and the period it settles in.
  adjustment_ledger_id  bigint,
  adjustment_period     text,
  created_at            timestamptz not null default now(),
  check ((status = 'open') = (decided_by is null)),
  check ((status = 'confirmed') = (confirmed_difference is not null))
);
-- One open dispute per line at a time; a decided one may be followed by another.
create unique index statement_disputes_open_line_idx on statement_disputes (statement_number, line_kind, order_id, order_line_id, product_id)
  where status = 'open';
create index statement_disputes_status_idx on statement_disputes (status, created_at);
create index statement_disputes_statement_idx on statement_disputes (statement_number, created_at);
