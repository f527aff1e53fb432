-- A partner lead's reminders to colleagues who have not acknowledged a message: the
-- evidence of who chased whom and when, and the cap on how often one partner is chased.
create table reminders (
    message_id blob not null references messages (id) on delete cascade,
    partner_id blob not null references partners (id) on delete cascade,
    reminded_by blob not null,
    reminded_at integer not null,
    recipients integer not null,
    primary key (message_id, partner_id, reminded_at)
) without rowid;
