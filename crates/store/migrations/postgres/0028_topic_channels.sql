-- Per topic, the channels a member turned off for it: {"topic": {"email": false}}.
alter table member_preferences add column topic_channels jsonb not null default '{}';
