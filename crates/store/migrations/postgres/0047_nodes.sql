-- Every process that serves or works, as it last reported itself: a heartbeat every few
-- seconds, with what only that process knows (its providers' outages and the provider
-- errors it met lately) as JSON. The system page tells live nodes from stale ones by it.
create table nodes (
    id uuid primary key,
    kind text not null,
    host text not null,
    pid bigint not null,
    version text not null,
    started_at bigint not null,
    seen_at bigint not null,
    stopped_at bigint,
    report jsonb not null
);
create index nodes_by_seen on nodes (seen_at);
