-- Work Tidings found for the vendor's staff (a partner gone quiet): one open task per
-- partner and kind, for the partner's manager when it has one, with the findings as a
-- JSON array of sentences.
create table tasks (
    id blob primary key,
    kind text not null,
    partner_id blob not null references partners (id) on delete cascade,
    staff_id blob,
    title text not null,
    details text not null,
    state text not null,
    created_at integer not null,
    updated_at integer not null,
    done_at integer,
    done_by text
) without rowid;
create unique index tasks_one_open on tasks (partner_id, kind) where state = 'open';
create index tasks_by_state on tasks (state, created_at);
