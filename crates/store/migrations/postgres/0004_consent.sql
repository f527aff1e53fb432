-- Consent: an append-only record of every change (who, what, when, how, which text), and
-- each member's current choices, written in the same transaction as the record.

create table consent_records (
    id uuid primary key,
    member_id uuid not null references members (id) on delete cascade,
    purpose text not null check (purpose in ('email', 'sms', 'terms')),
    granted boolean not null,
    source text not null check (source in ('portal', 'import', 'api', 'terms', 'unsubscribe')),
    lawful_basis text not null check (lawful_basis in ('consent', 'contract', 'legitimate_interest')),
    text_version text not null,
    recorded_by text not null,
    recorded_at bigint not null
);
create index consent_records_by_member on consent_records (member_id, recorded_at);

create table member_preferences (
    member_id uuid primary key references members (id) on delete cascade,
    topics jsonb not null default '{}',
    channels jsonb not null default '{}',
    email_opted_in boolean not null default false,
    sms_opted_in boolean not null default false,
    terms_accepted boolean not null default false,
    email_suppressed boolean not null default false,
    updated_at bigint not null
);
