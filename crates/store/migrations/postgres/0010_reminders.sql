-- A partner lead's reminders to colleagues who have not acknowledged a message: the
-- evidence of who chased whom and when, and the cap on how often one partner is chased.
create table reminders (
    message_id uuid not null references messages (id) on delete cascade,
    partner_id uuid not null references partners (id) on delete cascade,
    reminded_by uuid not null,
    reminded_at bigint not null,
    recipients bigint not null,
    primary key (message_id, partner_id, reminded_at)
);
