-- A partner's shared Teams or Slack channel, bound by its webhook URL: one per partner
-- and service. The URL is a secret (whoever has it may post there), shown only masked.
create table partner_bindings (
    partner_id blob not null references partners (id) on delete cascade,
    channel text not null check (channel in ('teams', 'slack')),
    url text not null,
    label text not null default '',
    bound_by text not null,
    created_at integer not null,
    updated_at integer not null,
    last_posted_at integer,
    last_error text,
    primary key (partner_id, channel)
) without rowid;

-- A message's post to a partner's bound channel: the partner-level ledger beside the
-- per-member deliveries, with the same states, lease and retries.
create table channel_posts (
    message_id blob not null references messages (id) on delete cascade,
    partner_id blob not null references partners (id) on delete cascade,
    channel text not null,
    status text not null check (status in ('queued', 'sending', 'sent', 'failed', 'unknown')),
    attempts integer not null default 0,
    due_at integer,
    error text,
    updated_at integer not null,
    primary key (message_id, partner_id, channel)
) without rowid;
create index channel_posts_due on channel_posts (due_at) where due_at is not null;
