-- A message turns sent once none of its deliveries awaits an attempt. Without this index
-- that check walked the message's deliveries in member order, past every one already
-- sent: half a million rows a second halfway through a 1,000,000-member send. With it,
-- the check is one index probe (it covers the query, so SQLite's planner prefers it to
-- the primary key too).
create index deliveries_pending on deliveries (message_id, due_at) where due_at is not null;
