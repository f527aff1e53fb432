-- Whose session it is (`member:<id>` or `staff:<id>`), so that a password change can end
-- the person's other sessions. Sessions from before stay anonymous until next saved.
alter table sessions add column owner text;
create index sessions_by_owner on sessions (owner) where owner is not null;
