-- Corrections (docs/evidence.md): a released message's text changes as a new version.
-- `messages` holds the current version; each version's text, once a message has been
-- corrected, is kept here (version 1 is written by the first correction).
alter table messages add column version bigint not null default 1;
create table message_versions (
    message_id uuid not null,
    version bigint not null,
    kind text not null check (kind in ('original', 'material', 'editorial')),
    content jsonb not null,
    acknowledgment jsonb,
    note text not null,
    created_by text not null,
    created_at bigint not null,
    primary key (message_id, version)
);

-- An acknowledgment binds the version it was given to.
alter table acknowledgments add column version bigint not null default 1;

-- A material correction asks everyone again: the acknowledgments of the earlier text
-- move here, unchanged and still bound to their text, and count no more.
create table superseded_acknowledgments (
    message_id uuid not null,
    member_id uuid not null,
    version bigint not null,
    partner_id uuid not null,
    roles bigint not null,
    locale text not null,
    statement text not null,
    content_hash text not null,
    acknowledged_at bigint not null,
    ip text,
    user_agent text,
    in_log smallint not null,
    superseded_at bigint not null,
    primary key (message_id, member_id, version)
);

-- The version an evidence entry is about (an acknowledgment's, a correction's), so the
-- audit holds an acknowledgment's leaf to the row of that version.
alter table evidence_entries add column version bigint;
