-- Governance: the listing state of merchants and products (spec §4, §9.4, §9.5), and the
-- history of every change with who made it and why.

alter table merchants
  add column listing_state text not null default 'active'
    check (listing_state in ('active', 'trading_frozen', 'exiting', 'removed'));

alter table products
  add column listing_state text not null default 'on_sale'
    check (listing_state in ('on_sale', 'hidden', 'delisted', 'delisted_until', 'permanently_delisted')),
  -- The end of a delisting for a period; set exactly when the state is delisted_until.
  add column delisted_until timestamptz,
  add constraint products_delisted_until_check check ((listing_state = 'delisted_until') = (delisted_until is not null));

-- The state a product is in now: a delisting for a period that has ended reads as on sale,
-- so no timer has to end it. Stable, not immutable: it reads the transaction's now().
create function product_listing_state(state text, delisted_until timestamptz) returns text
  language sql stable
  as $$ select case when state = 'delisted_until' and delisted_until <= now() then 'on_sale' else state end $$;

create table listing_changes (
  change_id    bigserial primary key,
  target_type  text not null check (target_type in ('merchant', 'product')),
  merchant_id  text not null references merchants (merchant_id),
  -- Set for a product's change, null for the merchant's own.
  product_id   text references products (product_id),
  -- The state as read when the change was made (a delisting whose period had ended reads on_sale).
  from_state   text not null,
  to_state     text not null,
  until        timestamptz,
  actor        text not null,
  reason       text not null,
  changed_at   timestamptz not null default now(),
  check ((target_type = 'product') = (product_id is not null))
);
create index listing_changes_merchant_idx on listing_changes (merchant_id, changed_at);
create index listing_changes_product_idx on listing_changes (product_id, changed_at) where product_id is not null;
