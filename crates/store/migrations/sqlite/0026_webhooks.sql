-- Endpoints of the vendor's own systems (no partner) or a partner's, signed per the
-- Standard Webhooks specification with the endpoint's secret.
create table webhook_endpoints (
    id blob primary key,
    partner_id blob references partners (id) on delete cascade,
    url text not null,
    description text not null default '',
    secret text not null,
    enabled boolean not null default true,
    disabled_reason text,
    -- The first failure since the last success: an endpoint failing for days is disabled.
    failing_since integer,
    created_by text not null,
    created_at integer not null,
    updated_at integer not null
);

create table webhook_subscriptions (
    endpoint_id blob not null references webhook_endpoints (id) on delete cascade,
    event_type text not null,
    primary key (event_type, endpoint_id)
) without rowid;

-- The outbox: written in the transaction of the change it reports, sent by workers with
-- the same id on every attempt (webhook-id), retried on a schedule.
create table webhook_deliveries (
    id blob primary key,
    endpoint_id blob not null references webhook_endpoints (id) on delete cascade,
    event_type text not null,
    payload text not null,
    status text not null check (status in ('queued', 'sending', 'sent', 'failed')),
    attempts integer not null default 0,
    due_at integer,
    response_status integer,
    error text,
    created_at integer not null,
    updated_at integer not null
);
create index webhook_deliveries_due on webhook_deliveries (due_at) where due_at is not null;
create index webhook_deliveries_by_endpoint on webhook_deliveries (endpoint_id, created_at);
