-- Keeping noise down. A member's own digest choice (null: their partner's default, else
-- the vendor's policy); a partner's defaults for its people (topics on or off, digest).
alter table member_preferences add column digest text check (digest in ('off', 'daily', 'weekly'));
create table partner_defaults (
    partner_id uuid primary key references partners (id) on delete cascade,
    topics jsonb not null default '{}',
    digest text check (digest in ('off', 'daily', 'weekly')),
    updated_at bigint not null,
    updated_by text not null
);
-- A digest's items are email deliveries of purpose `digest`, sent together per member by
-- their own lane: the email lane's index leaves them out, so a week's digests coming due
-- at once never stand in the way of the email queue.
drop index deliveries_due;
create index deliveries_due on deliveries (channel, due_at) where due_at is not null and purpose <> 'digest';
create index deliveries_digest_due on deliveries (due_at) where due_at is not null and purpose = 'digest';
create index deliveries_digest_member on deliveries (member_id, due_at) where due_at is not null and purpose = 'digest';
