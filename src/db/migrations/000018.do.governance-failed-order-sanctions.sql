-- Interface sanctions for failed orders (spec §4): a product delisted because more than 5 of
-- its orders failed in one Beijing calendar month. One row per product and month makes the
-- delisting and the merchant's notice happen once, however many failures follow. The count
-- itself is always read from order_lines; this row only records the sanction taken.
create table failed_order_sanctions (
  product_id    text not null references products (product_id),
  -- YYYY-MM, the calendar month in Beijing time.
  month         text not null check (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  merchant_id   text not null references merchants (merchant_id),
  failed_count  integer not null,
  -- The failed order lines that made the count, as the merchant was told.
  orders        jsonb not null,
  -- The listing change that delisted the product; null when it was already off sale.
  change_id     bigint references listing_changes (change_id),
  sanctioned_at timestamptz not null default now(),
  primary key (product_id, month)
);
