-- Each partner's leads (the partner lead role is bit 7 of `roles`): a ladder step that
-- tells them who is outstanding reads these few rows, not the whole directory.
create index members_partner_leads on members (partner_id) where (roles & 128) <> 0;
