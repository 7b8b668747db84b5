-- Tenant and user sync (joint-operation Kit, spec §7): the merchant's sync key and
-- clientSecret encryption settings, the product's application public key, every sync event
-- we accepted, and what each tenant's merchant holds as far as we know.

-- The key bound to the joint-SaaS sync interface class, distinct from access_key_enc
-- (spec §1.1): AES-256-GCM envelope like the other keys, never stored in clear.
alter table merchants add column sync_key_enc text;
-- RSA-OAEP settings of the clientSecret (spec §7.2 leaves both unconfirmed).
alter table merchants add column kit_oaep_hash text not null default 'sha256' check (kit_oaep_hash in ('sha256', 'sha1'));
alter table merchants add column kit_cipher_encoding text not null default 'base64' check (kit_cipher_encoding in ('base64', 'hex'));
-- The public key the merchant registered for the product's application (PEM, RSA ≥ 3072 bits).
alter table products add column app_public_key text;

-- One row per tenant sync workflow: what the merchant holds after our successful calls.
create table tenant_syncs (
  workflow_id     text primary key,
  instance_id     text not null,
  tenant_id       text not null,
  merchant_id     text not null references merchants (merchant_id),
  -- { tenantCode, name, domainName } while the tenant exists at the merchant; null otherwise.
  tenant          jsonb,
  -- appId → { clientId }: applications the merchant holds (never the secret).
  applications    jsonb not null default '{}'::jsonb,
  org_count       integer not null default 0,
  last_synced_at  timestamptz,
  last_event_id   text,
  created_at      timestamptz not null default now(),
  unique (instance_id, tenant_id)
);

-- Users authorised at the merchant, per application (the operators' user count).
create table tenant_sync_users (
  workflow_id  text not null,
  app_id       text not null,
  user_name    text not null,
  role         text not null,
  primary key (workflow_id, app_id, user_name)
);

-- Every sync event accepted, keyed by its webhook-id. The payload is what the Kit calls
-- need, without the clientSecret: that is in secret_enc (AES-256-GCM envelope) and is
-- encrypted to the merchant's RSA key only when the call is made.
create table sync_events (
  event_id        text primary key,
  workflow_id     text not null,
  kind            text not null check (kind in ('tenant', 'application', 'users', 'organizations', 'organization')),
  flag            smallint check (flag in (0, 1, 2)),
  payload         jsonb not null,
  secret_enc      text,
  calls           integer not null,
  calls_done      integer not null default 0,
  status          text not null default 'pending' check (status in ('pending', 'synced', 'failed', 'skipped')),
  last_error      text,
  accepted_at     timestamptz not null,
  updated_at      timestamptz not null default now()
);
create index sync_events_workflow_idx on sync_events (workflow_id, accepted_at);

-- The ingress stores each webhook's payload as it came; an application event's clientSecret
-- is blanked there in the same transaction (see api/tenant-sync/events.ts). This partial
-- index finds the rows still holding one without scanning the table.
create index inbound_events_client_secret_idx on inbound_events (event_id)
  where event_type in ('application.added', 'application.modified') and (payload -> 'data') ? 'clientSecret';
