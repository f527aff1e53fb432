-- A member can get one message more than once on one channel, on purpose: the release,
-- then reminders, escalation steps or a sequence's steps. Each is its own delivery, so
-- the purpose joins the key (`initial`, `reminder-1`, `escalation-2`, `sequence-3`).
-- Every existing delivery was a release's: it becomes `initial`, its Message-ID unchanged.
--
-- SQLite cannot change a WITHOUT ROWID table's key in place: the table is copied.
create table deliveries_by_purpose (
    message_id blob not null,
    member_id blob not null,
    channel text not null,
    purpose text not null default 'initial',
    status text not null check (status in ('queued', 'sending', 'sent', 'delivered', 'bounced', 'failed', 'suppressed', 'unknown')),
    attempts integer not null default 0,
    due_at integer,
    provider_id text,
    error text,
    updated_at integer not null,
    primary key (message_id, member_id, channel, purpose)
) without rowid;
insert into deliveries_by_purpose
    (message_id, member_id, channel, purpose, status, attempts, due_at, provider_id, error, updated_at)
    select message_id, member_id, channel, 'initial', status, attempts, due_at, provider_id, error, updated_at
    from deliveries;
drop table deliveries;
alter table deliveries_by_purpose rename to deliveries;
create index deliveries_due on deliveries (due_at) where due_at is not null;
create index deliveries_pending on deliveries (message_id, due_at) where due_at is not null;

-- Events of a delivery (sent, bounced, failed, suppressed, delivered) say which send they
-- were about; events of a member's copy (read, acknowledged, ...) have no purpose.
alter table events add column purpose text;
