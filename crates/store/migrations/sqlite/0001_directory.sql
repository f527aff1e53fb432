-- The directory: staff, API tokens, partners, partner groups, members and topics.
-- Times are unix milliseconds; ids are UUIDv7 stored as 16-byte blobs.

create table staff (
    id blob primary key,
    email text not null unique,
    name text not null,
    role text not null check (role in ('admin', 'author', 'approver', 'analyst')),
    created_at integer not null
);

create table api_tokens (
    id blob primary key,
    name text not null,
    role text not null check (role in ('admin', 'author', 'approver', 'analyst')),
    token_hash text not null unique,
    created_by blob references staff (id) on delete set null,
    created_at integer not null,
    revoked_at integer
);

create table partner_groups (
    id blob primary key,
    key text not null unique,
    name text not null,
    description text not null,
    created_at integer not null,
    updated_at integer not null
);

create table partners (
    id blob primary key,
    external_id text unique,
    name text not null,
    partner_type text not null,
    tier text not null,
    region text,
    country text,
    lifecycle_stage text not null
        check (lifecycle_stage in ('prospect', 'onboarding', 'active', 'at_risk', 'dormant', 'churned')),
    attributes text not null default '{}',
    partner_manager_id blob references staff (id) on delete set null,
    created_at integer not null,
    updated_at integer not null
);
create index partners_by_type_tier on partners (partner_type, tier);
create index partners_by_region on partners (region);

create table partner_group_members (
    group_id blob not null references partner_groups (id) on delete cascade,
    partner_id blob not null references partners (id) on delete cascade,
    primary key (group_id, partner_id)
) without rowid;
create index partner_group_members_by_partner on partner_group_members (partner_id);

create table members (
    id blob primary key,
    partner_id blob not null references partners (id),
    external_id text unique,
    email text not null unique,
    phone text,
    name text not null,
    roles integer not null default 0,
    locale text not null,
    time_zone text not null,
    status text not null check (status in ('active', 'test', 'disabled')),
    attributes text not null default '{}',
    last_seen_at integer,
    created_at integer not null,
    updated_at integer not null
);
create index members_by_partner on members (partner_id);

create table topics (
    id blob primary key,
    key text not null unique,
    name text not null,
    description text not null,
    created_at integer not null,
    updated_at integer not null
);
