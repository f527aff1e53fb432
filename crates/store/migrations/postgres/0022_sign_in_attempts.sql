-- Failed password sign-ins per account (a lowercased address, for members and staff
-- apart), in a window: past a few, the account takes no more password attempts until the
-- window ends. Kept in the database so every node counts together.
create table sign_in_attempts (
    account text primary key,
    failures bigint not null,
    window_start bigint not null
);
