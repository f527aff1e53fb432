-- A member can get one message more than once on one channel, on purpose: the release,
-- then reminders, escalation steps or a sequence's steps. Each is its own delivery, so
-- the purpose joins the key (`initial`, `reminder-1`, `escalation-2`, `sequence-3`).
-- Every existing delivery was a release's: it becomes `initial`, its Message-ID unchanged.
-- A column with a constant default is added without rewriting the table.
alter table deliveries add column purpose text not null default 'initial';
alter table deliveries drop constraint deliveries_pkey;
alter table deliveries add primary key (message_id, member_id, channel, purpose);

-- Events of a delivery (sent, bounced, failed, suppressed, delivered) say which send they
-- were about; events of a member's copy (read, acknowledged, ...) have no purpose.
alter table events add column purpose text;
