-- Escalation ladders staff define (the ladder as JSON: its steps, repeats and whether
-- reminders wait for working hours), and a topic's ladder for its must-know messages.
create table escalation_ladders (
    key text primary key,
    ladder text not null,
    created_at integer not null,
    updated_at integer not null
) without rowid;
alter table topics add column ladder_key text;

-- A released message's copy of its ladder (editing the ladder later does not change it)
-- and the next step to run: a worker runs a step only by moving `next_step` on from the
-- one it read, in the transaction that queues the step's deliveries, so of two workers
-- one runs it, and a crash leaves it to run again whole.
create table message_ladders (
    message_id blob primary key,
    ladder text not null,
    started_at integer not null,
    next_step integer not null,
    next_due_at integer
) without rowid;
create index message_ladders_due on message_ladders (next_due_at) where next_due_at is not null;

-- Each step that ran: when, and how many deliveries it queued.
create table ladder_steps (
    message_id blob not null,
    step integer not null,
    purpose text not null,
    target text not null,
    ran_at integer not null,
    queued integer not null,
    primary key (message_id, step)
) without rowid;
