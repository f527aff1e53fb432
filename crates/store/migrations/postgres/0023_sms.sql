-- A provider's status callback names the message by the provider's id; an inbound text
-- names the member by phone.
create index deliveries_by_provider_id on deliveries (provider_id) where provider_id is not null;
create index members_by_phone on members (phone) where phone is not null;

-- A member's text (STOP, START) is a consent source.
alter table consent_records drop constraint consent_records_source_check;
alter table consent_records add constraint consent_records_source_check
    check (source in ('portal', 'import', 'api', 'terms', 'unsubscribe', 'sms'));
