-- Action attestation (docs/evidence.md): the answers a member gave to the message's form
-- when acknowledging, as canonical JSON (its hash is in the acknowledgment's leaf).
alter table acknowledgments add column attestation text;
alter table superseded_acknowledgments add column attestation text;
