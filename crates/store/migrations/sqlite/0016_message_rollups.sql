-- A message report reads counts kept as things happen instead of counting a million
-- copies on every page view (a report read each copy about seven times: 2.5 s at a
-- million copies).
--
-- Each copy also keeps when its member first had a machine's open, a scanner's click and
-- an unsubscribe from it: setting a time only where none is set is what makes each
-- member count once, even when a scanner follows every link of an email at once.
alter table recipients add column machine_opened_at integer;
alter table recipients add column scanner_clicked_at integer;
alter table recipients add column unsubscribed_at integer;
update recipients set machine_opened_at = e.at
    from (select message_id, member_id, min(at) as at from events where kind = 'machine_opened' group by message_id, member_id) e
    where recipients.message_id = e.message_id and recipients.member_id = e.member_id;
update recipients set scanner_clicked_at = e.at
    from (select message_id, member_id, min(at) as at from events where kind = 'scanner_clicked' group by message_id, member_id) e
    where recipients.message_id = e.message_id and recipients.member_id = e.member_id;
update recipients set unsubscribed_at = e.at
    from (select message_id, member_id, min(at) as at from events where kind = 'unsubscribed' group by message_id, member_id) e
    where recipients.message_id = e.message_id and recipients.member_id = e.member_id;

-- The report and the compliance page read the counts, so the copies need no index by
-- partner: kept up in random order as a release wrote copies in member order, it made
-- each batch's commit rewrite most of the index (a release to a million members went
-- from 5.6 s to 18.8 s on SQLite). The partner's members are found by reading the
-- message's copies in key order (70 ms for a million on SQLite).
drop index recipients_by_partner;

-- The counts, one row per key of one of four kinds:
--   partner:   copies of a partner's members (roles -1, hour -1, channel ''; counted once a
--              release's fan-out is done), and how many of their members reached each step;
--   roles:     the same for the members holding exactly these roles (partner_id nil, hour
--              -1, channel ''); partner and roles apart, since crossed they made a quarter
--              of a million rows for a million members in 10,000 partners;
--   period:    hour (ms since the epoch / 3,600,000) in which members reached each step
--              (partner_id nil, roles -1, channel '');
--   delivery:  channel and status of deliveries (partner_id nil, roles -1, hour -1), the
--              statuses awaiting a worker (queued, sending, unknown) counted as queued.
-- A nil partner_id (16 zero bytes) is "not about a partner" or a copy without one.
create table message_rollups (
    message_id blob not null,
    partner_id blob not null,
    roles integer not null,
    hour integer not null,
    channel text not null,
    status text not null,
    recipients integer not null default 0,
    opened integer not null default 0,
    clicked integer not null default 0,
    read integer not null default 0,
    acknowledged integer not null default 0,
    machine_opened integer not null default 0,
    scanner_clicked integer not null default 0,
    unsubscribed integer not null default 0,
    deliveries integer not null default 0,
    -- The latest acknowledgment (partner and roles rows): folded as a maximum, not a sum.
    last_acknowledged_at integer,
    primary key (message_id, partner_id, roles, hour, channel, status)
) without rowid;

-- Changes to the counts, appended by the transaction that makes them (no row is ever
-- updated, so writers never wait on one another) and folded into message_rollups by the
-- worker every few seconds; a report adds the ones not folded yet.
create table message_rollup_deltas (
    message_id blob not null,
    partner_id blob not null,
    roles integer not null,
    hour integer not null,
    channel text not null,
    status text not null,
    recipients integer not null default 0,
    opened integer not null default 0,
    clicked integer not null default 0,
    read integer not null default 0,
    acknowledged integer not null default 0,
    machine_opened integer not null default 0,
    scanner_clicked integer not null default 0,
    unsubscribed integer not null default 0,
    deliveries integer not null default 0,
    last_acknowledged_at integer
);
create index message_rollup_deltas_by_message on message_rollup_deltas (message_id);

-- The counts of the messages already sent, as `rollups::recount` makes them.
insert into message_rollups (message_id, partner_id, roles, hour, channel, status, recipients, opened, clicked,
    read, acknowledged, machine_opened, scanner_clicked, unsubscribed, last_acknowledged_at)
    select message_id, coalesce(partner_id, zeroblob(16)), -1, -1, '', '', count(*), count(opened_at),
        count(clicked_at), count(read_at), count(acknowledged_at), count(machine_opened_at),
        count(scanner_clicked_at), count(unsubscribed_at), max(acknowledged_at)
    from recipients group by message_id, coalesce(partner_id, zeroblob(16));
insert into message_rollups (message_id, partner_id, roles, hour, channel, status, recipients, opened, clicked,
    read, acknowledged, machine_opened, scanner_clicked, unsubscribed, last_acknowledged_at)
    select message_id, zeroblob(16), roles, -1, '', '', count(*), count(opened_at),
        count(clicked_at), count(read_at), count(acknowledged_at), count(machine_opened_at),
        count(scanner_clicked_at), count(unsubscribed_at), max(acknowledged_at)
    from recipients group by message_id, roles;
insert into message_rollups (message_id, partner_id, roles, hour, channel, status, opened, clicked, read, acknowledged)
    select message_id, zeroblob(16), -1, hour, '', '', sum(opened), sum(clicked), sum(read), sum(acknowledged)
    from (select message_id, opened_at / 3600000 as hour, 1 as opened, 0 as clicked, 0 as read, 0 as acknowledged
              from recipients where opened_at is not null
          union all select message_id, clicked_at / 3600000, 0, 1, 0, 0 from recipients where clicked_at is not null
          union all select message_id, read_at / 3600000, 0, 0, 1, 0 from recipients where read_at is not null
          union all select message_id, acknowledged_at / 3600000, 0, 0, 0, 1 from recipients where acknowledged_at is not null) steps
    group by message_id, hour;
insert into message_rollups (message_id, partner_id, roles, hour, channel, status, deliveries)
    select message_id, zeroblob(16), -1, -1, channel, status, count(*)
    from (select message_id, channel,
              case when status in ('queued', 'sending', 'unknown') then 'queued' else status end as status
          from deliveries) d
    group by message_id, channel, status;
