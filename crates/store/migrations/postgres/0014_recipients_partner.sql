-- Each inbox copy carries what reports group and count by, so that a report over a
-- million copies reads one index instead of joining members and scanning events:
-- the member's partner and roles at release (as the acknowledgment evidence keeps them:
-- a member who moves on later stays counted where they were asked), and when a person
-- first opened the email and first clicked in it (machine opens and scanner clicks stay
-- events only).
alter table recipients add column partner_id uuid;
alter table recipients add column roles bigint not null default 0;
alter table recipients add column opened_at bigint;
alter table recipients add column clicked_at bigint;
update recipients set
    partner_id = (select m.partner_id from members m where m.id = recipients.member_id),
    roles = coalesce((select m.roles from members m where m.id = recipients.member_id), 0),
    opened_at = (select min(e.at) from events e where e.message_id = recipients.message_id
                 and e.member_id = recipients.member_id and e.kind = 'opened'),
    clicked_at = (select min(e.at) from events e where e.message_id = recipients.message_id
                  and e.member_id = recipients.member_id and e.kind = 'clicked');
create index recipients_by_partner on recipients (message_id, partner_id, roles, read_at, acknowledged_at, opened_at, clicked_at);
