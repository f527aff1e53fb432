-- Each partner's progress on each quota of a must-know message's obligation ("1 support,
-- 1 operations"; the whole audience is one quota with role_mask 0): written when the
-- release's fan-out is done, moved by each acknowledgment in its own transaction, so a
-- compliance page over 10,000 partners reads one row per partner and quota.
create table obligation_progress (
    message_id uuid not null,
    partner_id uuid not null,
    quota bigint not null,
    -- The quota's role as a bit (0: any role), and how many people it asks for (null:
    -- everyone in scope).
    role_mask bigint not null,
    wanted bigint,
    in_scope bigint not null,
    acknowledged bigint not null,
    met_at bigint,
    primary key (message_id, partner_id, quota)
);
