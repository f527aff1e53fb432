-- The send path. Releasing a message writes one recipient row per member it reaches (the
-- member's inbox entry, exactly once) and one delivery row per outside channel (email),
-- which workers claim while `due_at` is set: the next attempt of a queued delivery, or the
-- end of the lease of one being sent. Events are appended per delivery and member.

alter table messages add column released_at bigint;
-- The last member id the release has fanned out to: a release resumes after it.
alter table messages add column release_cursor uuid;
alter table messages add column release_done boolean not null default false;

create table recipients (
    message_id uuid not null,
    member_id uuid not null,
    released_at bigint not null,
    viewed_at bigint,
    read_at bigint,
    acknowledged_at bigint,
    primary key (message_id, member_id)
);
create index recipients_inbox on recipients (member_id, released_at);

create table deliveries (
    message_id uuid not null,
    member_id uuid not null,
    channel text not null,
    status text not null check (status in ('queued', 'sending', 'sent', 'delivered', 'bounced', 'failed', 'suppressed', 'unknown')),
    attempts integer not null default 0,
    due_at bigint,
    provider_id text,
    error text,
    updated_at bigint not null,
    primary key (message_id, member_id, channel)
);
create index deliveries_due on deliveries (due_at) where due_at is not null;

create table events (
    id bigint generated always as identity primary key,
    message_id uuid not null,
    member_id uuid not null,
    channel text,
    kind text not null,
    at bigint not null,
    detail jsonb
);
create index events_by_message on events (message_id, kind, member_id);

-- Evidence of each acknowledgment: who (and their partner and roles then), which text
-- (statement and content hash of the exact variant shown), when, from where.
create table acknowledgments (
    message_id uuid not null,
    member_id uuid not null,
    partner_id uuid not null,
    roles bigint not null,
    locale text not null,
    statement text not null,
    content_hash text not null,
    acknowledged_at bigint not null,
    ip text,
    user_agent text,
    primary key (message_id, member_id)
);

-- Addresses never to mail again (hard bounces, complaints): kept by address, so a
-- member who changes address is mailed again and a re-imported address stays suppressed.
-- This list replaces the per-member flag.
alter table member_preferences drop column email_suppressed;
create table email_suppressions (
    email text primary key,
    reason text not null,
    created_at bigint not null
);

-- Instance-wide values the program creates once, such as its signing key.
create table settings (
    key text primary key,
    value text not null
);
