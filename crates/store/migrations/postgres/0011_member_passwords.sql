-- Optional portal passwords: an argon2id hash (PHC string) per member who set one.
create table member_passwords (
    member_id uuid primary key references members (id) on delete cascade,
    hash text not null,
    updated_at bigint not null
);
