-- A sequence's entry rule takes each member in once: whether they ever were in it is one
-- index probe.
create index sequence_runs_by_member on sequence_runs (sequence_key, member_id);
