-- Work Tidings found for the vendor's staff (a partner gone quiet): one open task per
-- partner and kind, for the partner's manager when it has one, with the findings as a
-- JSON array of sentences.
create table tasks (
    id uuid primary key,
    kind text not null,
    partner_id uuid not null references partners (id) on delete cascade,
    staff_id uuid,
    title text not null,
    details jsonb not null,
    state text not null,
    created_at bigint not null,
    updated_at bigint not null,
    done_at bigint,
    done_by text
);
create unique index tasks_one_open on tasks (partner_id, kind) where state = 'open';
create index tasks_by_state on tasks (state, created_at);
