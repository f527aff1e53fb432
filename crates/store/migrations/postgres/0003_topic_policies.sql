-- Each topic's policy per member role: required, optional_on or optional_off.
alter table topics add column policies jsonb not null default '{"default":"optional_on","by_role":{}}';
