-- Saved segments: a named audience rule, kept as the text the author wrote.

create table segments (
    id blob primary key,
    name text not null unique,
    description text not null,
    rule text not null,
    created_at integer not null,
    updated_at integer not null
);
