-- An escalation ladder's notice to the vendor's partner managers (staff, not members, so
-- not deliveries): one per manager and step, naming at send time the partners they manage
-- that still owe. Queued in the step's transaction, claimed under a lease and settled by
-- the `staff_notices` job, so a crash sends at most the notice in flight again.
create table staff_notices (
    message_id uuid not null,
    staff_id uuid not null,
    purpose text not null,
    status text not null check (status in ('queued', 'sending', 'sent', 'failed', 'suppressed')),
    attempts bigint not null default 0,
    due_at bigint,
    error text,
    created_at bigint not null,
    updated_at bigint not null,
    primary key (message_id, staff_id, purpose)
);
create index staff_notices_due on staff_notices (due_at) where due_at is not null;
