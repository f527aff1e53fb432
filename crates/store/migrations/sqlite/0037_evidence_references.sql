-- The row an evidence entry records, where its message and member do not name it alone
-- (a consent change's record, or the partner whose obligation was met): the audit
-- holds the leaf to that row.
alter table evidence_entries add column ref_id blob;
create index evidence_by_reference on evidence_entries (ref_id) where ref_id is not null;

-- Consent records from before the log began have no leaf; the audit counts them apart.
alter table consent_records add column in_log integer not null default 0;
