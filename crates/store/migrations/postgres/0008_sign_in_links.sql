-- Portal sign-in by email: each link is single use and short-lived, and only a hash of
-- its token is stored, so a leaked database signs nobody in.
create table sign_in_links (
    token_hash text primary key,
    member_id uuid not null references members (id) on delete cascade,
    created_at bigint not null,
    expires_at bigint not null,
    used_at bigint
);
create index sign_in_links_member on sign_in_links (member_id, created_at);
