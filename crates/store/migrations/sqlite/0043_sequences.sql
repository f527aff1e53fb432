-- Sequences as staff define them (the sequence as JSON), found by their entry and goal events.
create table sequences (
    key text primary key,
    entry_event text not null,
    goal_event text,
    enabled integer not null,
    sequence text not null,
    created_at integer not null,
    updated_at integer not null
) without rowid;
create index sequences_entry on sequences (entry_event);
create index sequences_goal on sequences (goal_event) where goal_event is not null;

-- One member's (or, for an event naming no member, one partner's) run through a sequence:
-- the next step and when it is due while active. `subject` is `m:<member>` or
-- `p:<partner>`; one active run per sequence and subject.
create table sequence_runs (
    id blob primary key,
    sequence_key text not null,
    subject text not null,
    partner_id blob not null references partners (id) on delete cascade,
    member_id blob references members (id) on delete cascade,
    state text not null,
    next_step integer not null,
    next_due_at integer,
    entered_at integer not null,
    left_at integer,
    event_id blob
) without rowid;
create unique index sequence_runs_one_active on sequence_runs (sequence_key, subject) where state = 'active';
create index sequence_runs_due on sequence_runs (next_due_at) where next_due_at is not null;
create index sequence_runs_by_sequence on sequence_runs (sequence_key, state, next_step);
create index sequence_runs_by_partner on sequence_runs (partner_id, state);

-- Each step a run went through: the message it made, or why none.
create table sequence_run_steps (
    run_id blob not null,
    step integer not null,
    message_id blob,
    outcome text not null,
    at integer not null,
    primary key (run_id, step)
) without rowid;
