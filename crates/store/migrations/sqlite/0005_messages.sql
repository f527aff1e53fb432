-- Messages: content, audience and channels as JSON (read whole, never queried inside),
-- the state and the times the scheduler and inbox query.

create table messages (
    id blob primary key,
    topic_id blob not null references topics (id),
    importance text not null check (importance in ('info', 'action', 'critical')),
    state text not null check (state in ('draft', 'scheduled', 'sending', 'sent', 'cancelled')),
    content text not null,
    audience text not null,
    channels text,
    acknowledgment text,
    send_at integer,
    expires_at integer,
    created_by text not null,
    created_at integer not null,
    updated_at integer not null
);
create index messages_due on messages (state, send_at);
