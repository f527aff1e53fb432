-- The author's time zone: a send time or due date given without an offset is read in it,
-- and the console states the message's times in it. Messages from before it were written
-- in UTC, which is what the console said.
alter table messages add column time_zone text not null default 'UTC';
