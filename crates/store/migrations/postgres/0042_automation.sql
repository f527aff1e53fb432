-- Custom event types an admin declares (the built-in ones need no row): the schema their
-- data is checked against.
create table event_types (
    name text primary key,
    description text not null,
    schema text not null,
    created_at bigint not null,
    updated_at bigint not null
);

-- What the vendor's CRM or PRM reported about a partner and its people; never changed.
-- A repeat of an idempotency key is answered with the stored event; `body_hash` tells a
-- repeat from another event that reused the key.
create table partner_events (
    id uuid primary key,
    idempotency_key text not null unique,
    body_hash text not null,
    type text not null,
    partner_id uuid not null references partners (id) on delete cascade,
    member_id uuid references members (id) on delete set null,
    data jsonb not null,
    occurred_at bigint not null,
    received_at bigint not null
);
create index partner_events_partner on partner_events (partner_id, id);
create index partner_events_member on partner_events (member_id, id) where member_id is not null;
create index partner_events_type on partner_events (type, id);

-- Events whose triggers have not run yet: written in the event's transaction and removed
-- in the one that runs them (ids alone cannot say what is new: on PostgreSQL they are not
-- in commit order).
create table pending_triggers (
    event_id uuid primary key,
    due_at bigint not null
);
create index pending_triggers_due on pending_triggers (due_at);

-- Triggers as staff define them (the trigger as JSON), found by their event type.
create table triggers (
    key text primary key,
    event_type text not null,
    enabled boolean not null,
    trigger text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index triggers_by_type on triggers (event_type);

-- What each trigger did with each event of its type: at most once.
create table trigger_firings (
    trigger_key text not null,
    event_id uuid not null,
    message_id uuid,
    outcome text not null,
    fired_at bigint not null,
    primary key (trigger_key, event_id)
);
create index trigger_firings_event on trigger_firings (event_id);

-- The trigger and event a message answers.
alter table messages add column triggered_by jsonb;
