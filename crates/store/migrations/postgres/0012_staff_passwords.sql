-- Staff passwords for the admin console: an argon2id hash (PHC string) per person.
create table staff_passwords (
    staff_id uuid primary key references staff (id) on delete cascade,
    hash text not null,
    updated_at bigint not null
);
