-- A partner manager's decision about one partner's obligation on one message: exempt it
-- (it owes nothing, with the reason) or snooze it (left out of the overdue queue until a
-- time, with the reason). One at a time; each change is also in the audit log.
create table obligation_waivers (
    message_id uuid not null,
    partner_id uuid not null,
    kind text not null check (kind in ('exempt', 'snoozed')),
    reason text not null,
    until bigint,
    decided_by text not null,
    decided_at bigint not null,
    primary key (message_id, partner_id)
);
