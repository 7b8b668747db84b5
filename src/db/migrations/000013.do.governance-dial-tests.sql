-- Dial tests (spec §1.6, §4): each product's saved debug cases, every result of every run,
-- and the sanctions the dial tests imposed (so they lift only what they imposed).

-- The saved cases of a product: { create: { orderId, orderLineId }, query: { instanceId },
-- release: { instanceId, orderId, orderLineId } }; a null instanceId means "the instance the
-- run's create answered". A product without a row is dialled with the default cases.
create table dial_test_cases (
  product_id   text primary key references products (product_id),
  merchant_id  text not null references merchants (merchant_id),
  cases        jsonb not null,
  -- 'operator:<name>' or 'merchant'.
  saved_by     text not null,
  saved_at     timestamptz not null default now()
);

-- One row per case per product per run. `ran_at` is the run's own time (the workflow's clock),
-- `day` its calendar day in Beijing time: the unit that fails or passes.
create table dial_test_results (
  run_id       text not null,
  product_id   text not null references products (product_id),
  merchant_id  text not null references merchants (merchant_id),
  case_kind    text not null check (case_kind in ('create', 'query', 'release')),
  ran_at       timestamptz not null,
  day          date not null,
  ok           boolean not null,
  result_code  text,
  latency_ms   integer not null check (latency_ms >= 0),
  error        text,
  recorded_at  timestamptz not null default now(),
  primary key (run_id, product_id, case_kind)
);
create index dial_test_results_product_day_idx on dial_test_results (product_id, day);

-- A sanction the dial tests imposed after consecutive failed days: the product hidden and
-- (when it was active) the merchant's trading frozen. Open until a run of the product passes.
create table dial_test_sanctions (
  sanction_id      bigserial primary key,
  product_id       text not null references products (product_id),
  merchant_id      text not null references merchants (merchant_id),
  imposed_run_id   text not null,
  imposed_day      date not null,
  failed_days      integer not null,
  -- What this sanction changed, so the lift undoes only that.
  product_hidden   boolean not null,
  merchant_frozen  boolean not null,
  imposed_at       timestamptz not null default now(),
  lifted_run_id    text,
  lifted_day       date,
  lifted_at        timestamptz,
  check ((lifted_run_id is null) = (lifted_day is null))
);
create unique index dial_test_sanctions_open_idx on dial_test_sanctions (product_id) where lifted_run_id is null;
create index dial_test_sanctions_merchant_idx on dial_test_sanctions (merchant_id) where lifted_run_id is null;
