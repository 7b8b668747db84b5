-- Governance: penalties (spec §9.5). The violation catalogue is data, seeded with the spec's
-- table and the published sanctions that are concrete; operators add and retire entries.
-- Each recorded violation is an entry in the merchant's points ledger, keeping the points,
-- consequence and amount owed as they were when it was recorded.

create table violation_catalogue (
  code                    text primary key check (code ~ '^[a-z][a-z0-9_]{2,63}$'),
  description             text not null,
  points                  integer not null check (points between 0 and 1000),
  -- What happens to the product named in the entry: delisted until an operator relists it,
  -- delisted for product_delist_days, or permanently delisted.
  product_action          text check (product_action in ('delist', 'delist_for_period', 'delist_permanently')),
  product_delist_days     integer check (product_delist_days between 1 and 3650),
  -- The merchant may put no product (back) on sale for this many days.
  publishing_freeze_days  integer check (publishing_freeze_days between 1 and 3650),
  -- Termination: a forced exit of the merchant (exit:<merchantId>).
  terminates              boolean not null default false,
  -- "Full deduction" of the deposit, whose amount this service does not hold.
  deducts_full_deposit    boolean not null default false,
  -- A fixed deposit deduction or fine, in yuan.
  penalty_yuan            numeric(14, 2) check (penalty_yuan > 0),
  -- Published sanctions this service records but does not enforce (yellow list, blacklist…).
  other_sanctions         text,
  -- Where the entry comes from: the spec's table, its published sanctions, or an operator.
  source                  text not null check (source in ('spec_table', 'spec_published_sanction', 'operator')),
  created_by              text not null,
  created_at              timestamptz not null default now(),
  retired_at              timestamptz,
  retired_by              text,
  retired_reason          text,
  check ((product_action = 'delist_for_period') = (product_delist_days is not null)),
  check ((retired_at is null) = (retired_by is null) and (retired_at is null) = (retired_reason is null))
);

insert into violation_catalogue
  (code, description, points, product_action, product_delist_days, publishing_freeze_days, terminates, deducts_full_deposit, penalty_yuan, other_sanctions, source, created_by)
values
  ('system_endangering_acts', 'Privilege escalation, back-doors or other system-endangering acts in service or development', 50, null, null, null, true, true, null, null, 'spec_table', 'migration'),
  ('unauthorised_cloud_configuration_change', 'Modifying cloud product configuration (incl. security settings) without authorisation', 50, null, null, null, true, true, null, null, 'spec_table', 'migration'),
  ('concealed_system_defects', 'Hiding and exploiting discovered system defects instead of reporting them to the marketplace', 50, null, null, null, true, true, null, null, 'spec_table', 'migration'),
  ('data_leak_or_misuse', 'Leaking information / using platform-collected data beyond the service, or selling/transferring/disclosing it', 50, null, null, null, true, true, null, null, 'spec_table', 'migration'),
  ('fraudulent_sales_inflation', 'Inflating sales or reputation by false, fraudulent, infringing or illegal means', 40, null, null, null, true, false, 5000, null, 'spec_table', 'migration'),
  ('off_platform_steering', 'Steering users to re-register or enter data outside a marketplace transaction', 30, null, null, null, true, false, 5000, null, 'spec_table', 'migration'),
  ('self_dealing_fraud', 'Fraud: buying own service as a buyer or writing self-reviews, faking complaint withdrawals', 10, 'delist_permanently', null, null, false, false, 5000, null, 'spec_table', 'migration'),
  ('outdated_product_content', 'Product content not updated as required or containing expired content', 10, 'delist_for_period', 7, null, false, false, null, null, 'spec_table', 'migration'),
  ('unnamed_permanent_delisting_publishing_freeze', 'The table''s unnamed row: product permanently delisted and publishing rights frozen 180 days (the spec names neither the violation nor its points)', 0, 'delist_permanently', null, 180, false, false, null, null, 'spec_table', 'migration'),
  ('faked_acceptance_evidence', 'Faked acceptance evidence, or delivery not on the marketplace''s cloud (published sanction; no points given)', 0, null, null, null, false, false, null, 'yellow list for 3 months; trading of all joint-operation products restricted for 1 month', 'spec_published_sanction', 'migration'),
  ('falsified_acceptance_materials', 'Falsified acceptance materials (published sanction; no points given)', 0, 'delist', null, null, false, false, 100000, 'partner blacklist for 6 months', 'spec_published_sanction', 'migration'),
  ('serious_public_misconduct', 'Serious public misconduct: delisting and removal (published sanction; no points given)', 0, null, null, null, true, false, null, null, 'spec_published_sanction', 'migration');

-- Publishing rights frozen until this time (spec §9.5): while it lies ahead, no product of
-- the merchant may be put (back) on sale through the listing routes. It ends by itself.
alter table merchants add column publishing_frozen_until timestamptz;

create table penalty_entries (
  entry_id                bigserial primary key,
  merchant_id             text not null references merchants (merchant_id),
  -- A catalogue entry used here is never deleted (no cascade; retiring is the way out).
  violation_code          text not null references violation_catalogue (code),
  product_id              text references products (product_id),
  -- As the catalogue said when recorded: a later change to the catalogue does not rewrite history.
  points                  integer not null,
  deducts_full_deposit    boolean not null,
  penalty_yuan            numeric(14, 2),
  other_sanctions         text,
  reason                  text not null,
  evidence                text,
  actor                   text not null,
  -- The caller's Idempotency-Key: a retry with it answers this entry instead of adding one.
  idempotency_key         text,
  -- What this entry changed (product listing, publishing freeze), for the ledger.
  delisted_until          timestamptz,
  publishing_frozen_until timestamptz,
  -- Why the entry terminates the merchant, if it does: the violation itself, or the points in
  -- the window reaching the termination threshold.
  termination             text check (termination in ('violation', 'points_threshold')),
  -- Set once the forced exit's workflow has been started (or found running). A termination
  -- without it is pending: a retry of the entry starts it.
  exit_workflow_id        text,
  exit_started_at         timestamptz,
  recorded_at             timestamptz not null default now(),
  unique (merchant_id, idempotency_key),
  check (exit_started_at is null or termination is not null),
  check ((exit_workflow_id is null) = (exit_started_at is null))
);
create index penalty_entries_merchant_idx on penalty_entries (merchant_id, recorded_at);

-- Listing changes made by a penalty name its entry; a publishing freeze is recorded there too.
alter table listing_changes
  add column penalty_entry_id bigint references penalty_entries (entry_id),
  add column change_kind text not null default 'listing' check (change_kind in ('listing', 'publishing_freeze'));
