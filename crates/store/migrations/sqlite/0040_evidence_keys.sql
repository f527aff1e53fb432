-- Keys that signed the evidence log's checkpoints before a rotation (their public half,
-- name+keyid+base64): the audit checks old checkpoints with them.
create table evidence_retired_keys (
    verifier text primary key,
    retired_at integer not null
);
