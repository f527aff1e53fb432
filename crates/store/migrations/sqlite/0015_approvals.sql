-- The second person's approval of a message that needs one before it goes (the four-eyes
-- rule, switched on per importance or topic in the settings). A change to the message
-- deletes its approval.
create table approvals (
    message_id blob primary key references messages (id) on delete cascade,
    approved_by_kind text not null,
    approved_by_id blob,
    approved_by_name text not null,
    approved_at integer not null
);
