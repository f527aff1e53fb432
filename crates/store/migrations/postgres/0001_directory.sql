-- The directory: staff, API tokens, partners, partner groups, members and topics.
-- Times are unix milliseconds; ids are UUIDv7.

create table staff (
    id uuid primary key,
    email text not null unique,
    name text not null,
    role text not null check (role in ('admin', 'author', 'approver', 'analyst')),
    created_at bigint not null
);

create table api_tokens (
    id uuid primary key,
    name text not null,
    role text not null check (role in ('admin', 'author', 'approver', 'analyst')),
    token_hash text not null unique,
    created_by uuid references staff (id) on delete set null,
    created_at bigint not null,
    revoked_at bigint
);

create table partner_groups (
    id uuid primary key,
    key text not null unique,
    name text not null,
    description text not null,
    created_at bigint not null,
    updated_at bigint not null
);

create table partners (
    id uuid primary key,
    external_id text unique,
    name text not null,
    partner_type text not null,
    tier text not null,
    region text,
    country text,
    lifecycle_stage text not null
        check (lifecycle_stage in ('prospect', 'onboarding', 'active', 'at_risk', 'dormant', 'churned')),
    attributes jsonb not null default '{}',
    partner_manager_id uuid references staff (id) on delete set null,
    created_at bigint not null,
    updated_at bigint not null
);
create index partners_by_type_tier on partners (partner_type, tier);
create index partners_by_region on partners (region);

create table partner_group_members (
    group_id uuid not null references partner_groups (id) on delete cascade,
    partner_id uuid not null references partners (id) on delete cascade,
    primary key (group_id, partner_id)
);
create index partner_group_members_by_partner on partner_group_members (partner_id);

create table members (
    id uuid primary key,
    partner_id uuid not null references partners (id),
    external_id text unique,
    email text not null unique,
    phone text,
    name text not null,
    roles bigint not null default 0,
    locale text not null,
    time_zone text not null,
    status text not null check (status in ('active', 'test', 'disabled')),
    attributes jsonb not null default '{}',
    last_seen_at bigint,
    created_at bigint not null,
    updated_at bigint not null
);
create index members_by_partner on members (partner_id);

create table topics (
    id uuid primary key,
    key text not null unique,
    name text not null,
    description text not null,
    created_at bigint not null,
    updated_at bigint not null
);
