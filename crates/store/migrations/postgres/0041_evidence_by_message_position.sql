-- A message's leaves in tree order, a page at a time (evidence packs): a range scan.
-- Through (message_id, kind, member_id) each page sorted all of the message's leaves
-- again, which made exporting a pack quadratic in its size.
create index evidence_by_message_position on evidence_entries (message_id, position)
    where message_id is not null and position is not null;
