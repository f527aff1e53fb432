-- The evidence log (docs/evidence.md). Each entry is one fact (a release, a must-know
-- delivery, a read, an acknowledgment, a consent change, an obligation met, a
-- correction) as canonical JSON, appended in the transaction that records the fact.
-- The sequencer then gives entries their place in the Merkle tree (`position`), in one
-- order that never changes; until then `position` is null.
create table evidence_entries (
    id integer primary key,
    kind text not null,
    message_id blob,
    member_id blob references members (id) on delete set null,
    body text not null,
    recorded_at integer not null,
    position integer unique
);
create index evidence_unsequenced on evidence_entries (id) where position is null;
create index evidence_by_message on evidence_entries (message_id, kind, member_id) where message_id is not null;
-- Erasing a member sets their `member_id` here to null (the body names them only by
-- commitment); the index makes that a look-up.
create index evidence_by_member on evidence_entries (member_id) where member_id is not null;

-- The hash of every complete subtree of the log: level 0 are the leaves, `idx` counts
-- from the left at each level. Proofs are read from here.
create table evidence_nodes (
    level integer not null,
    idx integer not null,
    hash blob not null,
    primary key (level, idx)
) without rowid;

-- The log's head, one row: its size and its right edge (the hashes of the complete
-- subtrees of the whole tree, largest first), which appending needs.
create table evidence_head (
    id integer primary key check (id = 1),
    size integer not null,
    edge blob not null
);
insert into evidence_head (id, size, edge) values (1, 0, x'');

-- Signed statements of the log's size and root (c2sp.org/tlog-checkpoint notes).
create table evidence_checkpoints (
    size integer primary key,
    root blob not null,
    note text not null,
    signed_at integer not null
);

-- The exact texts acknowledged, by content hash, so an evidence pack carries them and a
-- verifier recomputes each hash.
create table evidence_texts (
    content_hash text primary key,
    body text not null
) without rowid;

-- A member's secret salt: the log names a member only as SHA-256 of this salt and their
-- id, so erasing the member (deleting this row with them) unlinks every entry from them
-- while every proof still holds.
create table member_salts (
    member_id blob primary key references members (id) on delete cascade,
    salt blob not null
) without rowid;

-- Acknowledgments recorded before the log began have no leaf; the audit counts them
-- apart instead of calling each one missing from the log.
alter table acknowledgments add column in_log integer not null default 0;
