-- Deliveries being sent, by the end of their lease: a worker takes those whose lease ran
-- out (their worker died) before fresh work. Small: it holds only what is in flight.
create index deliveries_leased on deliveries (due_at) where status = 'sending';
