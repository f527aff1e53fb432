-- Messages: content, audience and channels as JSON (read whole, never queried inside),
-- the state and the times the scheduler and inbox query.

create table messages (
    id uuid primary key,
    topic_id uuid not null references topics (id),
    importance text not null check (importance in ('info', 'action', 'critical')),
    state text not null check (state in ('draft', 'scheduled', 'sending', 'sent', 'cancelled')),
    content jsonb not null,
    audience jsonb not null,
    channels jsonb,
    acknowledgment jsonb,
    send_at bigint,
    expires_at bigint,
    created_by text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index messages_due on messages (state, send_at);
