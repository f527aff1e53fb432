-- A member's browsers subscribed to notifications (web push), one row a browser.
create table push_subscriptions (
    endpoint text primary key,
    member_id uuid not null references members (id) on delete cascade,
    p256dh text not null,
    auth text not null,
    user_agent text,
    created_at bigint not null
);
create index push_subscriptions_by_member on push_subscriptions (member_id);
