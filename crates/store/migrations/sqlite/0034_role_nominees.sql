-- Who answers for a role at a partner: its lead (or staff) names one member, and an
-- escalation ladder then reminds that member, not everyone in the role, for what the
-- role owes. The role is its bit, as in an obligation's quota.
create table role_nominees (
    partner_id blob not null references partners (id) on delete cascade,
    role integer not null,
    member_id blob not null references members (id) on delete cascade,
    nominated_by text not null,
    nominated_at integer not null,
    primary key (partner_id, role)
) without rowid;
create index role_nominees_member on role_nominees (member_id);
