-- Each channel is worked in its own lane, so a slow provider never holds up another
-- channel's deliveries: due deliveries are found per channel, oldest first.
drop index deliveries_due;
create index deliveries_due on deliveries (channel, due_at) where due_at is not null;
drop index deliveries_leased;
create index deliveries_leased on deliveries (channel, due_at) where status = 'sending';
