-- Portal sign-in by email: each link is single use and short-lived, and only a hash of
-- its token is stored, so a leaked database signs nobody in.
create table sign_in_links (
    token_hash text primary key,
    member_id blob not null references members (id) on delete cascade,
    created_at integer not null,
    expires_at integer not null,
    used_at integer
);
create index sign_in_links_member on sign_in_links (member_id, created_at);
