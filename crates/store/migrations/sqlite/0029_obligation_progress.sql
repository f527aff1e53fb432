-- Each partner's progress on each quota of a must-know message's obligation ("1 support,
-- 1 operations"; the whole audience is one quota with role_mask 0): written when the
-- release's fan-out is done, moved by each acknowledgment in its own transaction, so a
-- compliance page over 10,000 partners reads one row per partner and quota.
create table obligation_progress (
    message_id blob not null,
    partner_id blob not null,
    quota integer not null,
    -- The quota's role as a bit (0: any role), and how many people it asks for (null:
    -- everyone in scope).
    role_mask integer not null,
    wanted integer,
    in_scope integer not null,
    acknowledged integer not null,
    met_at integer,
    primary key (message_id, partner_id, quota)
) without rowid;
