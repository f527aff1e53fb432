-- Recurring work (scheduled releases, report folds, housekeeping, and later reminders,
-- escalation, digests and sequences) is one registry of jobs. Each job's next run is kept
-- here, so every worker process agrees on it: a worker runs a job only by moving its
-- `due_at` on from a time that has come, and of two workers racing, one moves it.
create table jobs (
    name text primary key,
    due_at integer not null,
    last_started_at integer,
    last_finished_at integer,
    last_error text
);
