-- Every staff action: who did what to which record, when, and the record before and
-- after. Append-only except that erasing a member blanks what earlier entries held of
-- them. Ids are UUIDv7, so the primary key is also the time order.
create table audit_log (
    id blob primary key,
    at integer not null,
    actor_kind text not null,
    actor_id blob,
    actor_name text not null,
    action text not null,
    subject_kind text not null,
    subject_id blob,
    before text,
    after text
) without rowid;

create index audit_log_subject on audit_log (subject_id, id);
create index audit_log_action on audit_log (action, id);
