-- Portal sessions (tower-sessions records): the session's data as JSON, until it expires.
-- The id is the random 128-bit session id the cookie carries.
create table sessions (
    id text primary key,
    data text not null,
    expires_at integer not null
);
create index sessions_expiry on sessions (expires_at);
