-- When people may be chased (reminders and escalations wait for these hours in each
-- member's time zone): a partner's default and a member's own, as written, such as
-- `mon-fri 09:00-17:00`; null falls back to the partner's, then the instance's.
alter table partners add column working_hours text;
alter table members add column working_hours text;
