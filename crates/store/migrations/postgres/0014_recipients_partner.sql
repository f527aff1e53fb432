-- Each inbox copy names the member's partner at release, as the acknowledgment evidence
-- does: compliance is reported by partner without joining a million copies to members,
-- and a member who moves on later stays counted where they were asked.
alter table recipients add column partner_id uuid;
update recipients set partner_id = (select m.partner_id from members m where m.id = recipients.member_id);
create index recipients_by_partner on recipients (message_id, partner_id, acknowledged_at, read_at);
