-- The send path. Releasing a message writes one recipient row per member it reaches (the
-- member's inbox entry, exactly once) and one delivery row per outside channel (email),
-- which workers claim while `due_at` is set: the next attempt of a queued delivery, or the
-- end of the lease of one being sent. Events are appended per delivery and member.

alter table messages add column released_at integer;
-- The last member id the release has fanned out to: a release resumes after it.
alter table messages add column release_cursor blob;
alter table messages add column release_done boolean not null default false;

create table recipients (
    message_id blob not null,
    member_id blob not null,
    released_at integer not null,
    viewed_at integer,
    read_at integer,
    acknowledged_at integer,
    primary key (message_id, member_id)
) without rowid;
create index recipients_inbox on recipients (member_id, released_at);

create table deliveries (
    message_id blob not null,
    member_id blob not null,
    channel text not null,
    status text not null check (status in ('queued', 'sending', 'sent', 'delivered', 'bounced', 'failed', 'suppressed', 'unknown')),
    attempts integer not null default 0,
    due_at integer,
    provider_id text,
    error text,
    updated_at integer not null,
    primary key (message_id, member_id, channel)
) without rowid;
create index deliveries_due on deliveries (due_at) where due_at is not null;

create table events (
    id integer primary key,
    message_id blob not null,
    member_id blob not null,
    channel text,
    kind text not null,
    at integer not null,
    detail text
);
create index events_by_message on events (message_id, kind, member_id);

-- Evidence of each acknowledgment: who (and their partner and roles then), which text
-- (statement and content hash of the exact variant shown), when, from where.
create table acknowledgments (
    message_id blob not null,
    member_id blob not null,
    partner_id blob not null,
    roles integer not null,
    locale text not null,
    statement text not null,
    content_hash text not null,
    acknowledged_at integer not null,
    ip text,
    user_agent text,
    primary key (message_id, member_id)
) without rowid;

-- Addresses never to mail again (hard bounces, complaints): kept by address, so a
-- member who changes address is mailed again and a re-imported address stays suppressed.
-- This list replaces the per-member flag.
alter table member_preferences drop column email_suppressed;
create table email_suppressions (
    email text primary key,
    reason text not null,
    created_at integer not null
);

-- Instance-wide values the program creates once, such as its signing key.
create table settings (
    key text primary key,
    value text not null
);
