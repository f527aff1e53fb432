-- A provider's status callback names the message by the provider's id; an inbound text
-- names the member by phone.
create index deliveries_by_provider_id on deliveries (provider_id) where provider_id is not null;
create index members_by_phone on members (phone) where phone is not null;

-- A member's text (STOP, START) is a consent source. SQLite cannot change a check
-- constraint in place: the table is copied.
create table consent_records_with_sms (
    id blob primary key,
    member_id blob not null references members (id) on delete cascade,
    purpose text not null check (purpose in ('email', 'sms', 'terms')),
    granted boolean not null,
    source text not null check (source in ('portal', 'import', 'api', 'terms', 'unsubscribe', 'sms')),
    lawful_basis text not null check (lawful_basis in ('consent', 'contract', 'legitimate_interest')),
    text_version text not null,
    recorded_by text not null,
    recorded_at integer not null
);
insert into consent_records_with_sms select * from consent_records;
drop table consent_records;
alter table consent_records_with_sms rename to consent_records;
create index consent_records_by_member on consent_records (member_id, recorded_at);
