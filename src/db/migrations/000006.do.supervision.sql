-- Service supervision (spec §9.1): products marked supervised at listing, with their
-- acceptance standard; one supervision per supervised order line (its node, the validity it
-- set), every node it passed (the order's timeline), the documents of both parties, and
-- the settlement gate that the monthly bill run reads.

-- Chosen at listing; cannot change once the product has orders (api/catalog/merchants.ts).
alter table products add column supervised boolean not null default false;
alter table products add column acceptance_standard text;
-- service: requirement → confirmation → delivery → acceptance; licence: claim → activation → proof.
alter table products add column supervision_variant text not null default 'service' check (supervision_variant in ('service', 'licence'));

create table supervisions (
  workflow_id        text primary key,
  order_id           text not null,
  order_line_id      text not null,
  merchant_id        text not null references merchants (merchant_id),
  customer_id        text not null,
  product_id         text not null,
  variant            text not null check (variant in ('service', 'licence')),
  node               text not null,
  -- The node an appeal froze, while it is frozen.
  frozen_node        text,
  node_since         timestamptz not null,
  accepted_at        timestamptz,
  validity_start     timestamptz,
  validity_end       timestamptz,
  completed_at       timestamptz,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  unique (order_id, order_line_id)
);
create index supervisions_node_idx on supervisions (node, node_since);
create index supervisions_merchant_idx on supervisions (merchant_id);

-- Every node a supervision passed, who acted and when: the order's supervision timeline.
create table supervision_events (
  workflow_id   text not null references supervisions (workflow_id),
  seq           integer not null,
  node          text not null,
  action        text not null,
  actor_type    text not null check (actor_type in ('customer', 'merchant', 'operator', 'system')),
  actor_id      text not null,
  detail        jsonb not null default '{}'::jsonb,
  at            timestamptz not null,
  primary key (workflow_id, seq)
);

-- Requirement attachments, acceptance documents, delivery proofs and appeal evidence. The
-- bytes are kept here (small files: the size limit is in api/supervision/documents.ts).
create table supervision_documents (
  document_id     uuid primary key,
  order_id        text not null,
  order_line_id   text not null,
  purpose         text not null check (purpose in ('requirement', 'acceptance', 'delivery-proof', 'appeal')),
  file_name       text not null,
  content_type    text not null,
  size_bytes      integer not null check (size_bytes > 0),
  sha256          text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  uploader_type   text not null check (uploader_type in ('customer', 'merchant', 'operator')),
  uploader_id     text not null,
  content         bytea not null,
  created_at      timestamptz not null default now()
);
create index supervision_documents_line_idx on supervision_documents (order_id, order_line_id);

-- The settlement gate (spec §9.2): an order line is settleable when its product is not
-- supervised, or when its supervision has completed; `settleable_since` is when it became so.
create view settleable_order_lines as
select l.order_id, l.order_line_id, l.product_id, p.merchant_id, l.amount,
       p.supervised,
       s.node as supervision_node,
       case when p.supervised then s.completed_at else l.accepted_at end as settleable_since
  from order_lines l
  join products p on p.product_id = l.product_id
  left join supervisions s on s.order_id = l.order_id and s.order_line_id = l.order_line_id
 where not p.supervised or s.completed_at is not null;
