//! The evidence log's tables: entries appended in the transaction of the fact they record,
//! the sequencer that gives them their place in the Merkle tree, the tree's node hashes,
//! signed checkpoints, the texts acknowledged, and members' salts (docs/evidence.md).

use std::collections::HashMap;

use sqlx::AssertSqlSafe;
use tidings_core::evidence::facts::{Fact, Leaf};
use tidings_core::evidence::tlog::{self, Frontier, Hash, Node};
use tidings_core::{MemberId, MessageId, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::sql::{placeholders, value_rows};
use crate::{Dialect, Error, Result, Tx};

/// A fact to append, its JSON exactly as it will be hashed.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    pub kind: &'a str,
    pub message: Option<MessageId>,
    /// The member the fact is about, kept beside the leaf (not in it) for the audit and
    /// for exports; erasing the member sets it to null.
    pub member: Option<MemberId>,
    /// The row it records, where message and member do not name it (a consent record).
    pub reference: Option<Uuid>,
    /// The message version it is about (an acknowledgment's, a correction's).
    pub version: Option<u32>,
    pub body: &'a str,
    pub at: Timestamp,
}

pub async fn append(tx: &mut Tx, e: &NewEntry<'_>) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into evidence_entries (kind, message_id, member_id, ref_id, version, body, recorded_at) \
         values ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(e.kind)
    .bind(e.message.map(|m| m.as_uuid()))
    .bind(e.member.map(|m| m.as_uuid()))
    .bind(e.reference)
    .bind(e.version.map(i64::from))
    .bind(e.body)
    .bind(e.at.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Appends `fact` as a leaf, in the caller's transaction.
pub async fn append_fact(tx: &mut Tx, fact: &Fact, member: Option<MemberId>, reference: Option<Uuid>) -> Result<()> {
    let body = Leaf::new(fact.clone()).to_json();
    let entry = NewEntry {
        kind: fact.kind(),
        message: fact.message(),
        member,
        reference,
        version: fact.version(),
        body: &body,
        at: fact.at(),
    };
    append(tx, &entry).await
}

/// Appends many leaves (an import's consent records, a release batch's inbox copies): on
/// PostgreSQL with `COPY`, on SQLite in a few multi-row statements.
pub async fn append_facts(tx: &mut Tx, facts: &[(Fact, Option<MemberId>, Option<Uuid>)]) -> Result<()> {
    if let crate::db::TxInner::Postgres(t) = &mut tx.0
        && !facts.is_empty()
    {
        let mut rows = crate::copy_in::Rows::with_capacity(facts.len() * 400);
        for (fact, member, reference) in facts {
            rows.text(fact.kind())
                .optional_plain(fact.message().map(|m| m.as_uuid()))
                .optional_plain(member.map(|m| m.as_uuid()))
                .optional_plain(*reference)
                .optional_plain(fact.version())
                .text(&Leaf::new(fact.clone()).to_json())
                .plain(fact.at().as_millis())
                .end_row();
        }
        let columns = "kind, message_id, member_id, ref_id, version, body, recorded_at";
        return rows.copy_into(t, "evidence_entries", columns).await;
    }
    const COLUMNS: usize = 7;
    for chunk in facts.chunks(500) {
        let rows = value_rows(tx.dialect(), chunk.len(), COLUMNS);
        let sql = format!(
            "insert into evidence_entries (kind, message_id, member_id, ref_id, version, body, recorded_at) values {rows}"
        );
        let bodies: Vec<String> = chunk.iter().map(|(f, _, _)| Leaf::new(f.clone()).to_json()).collect();
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for ((fact, member, reference), body) in chunk.iter().zip(&bodies) {
                q = q
                    .bind(fact.kind())
                    .bind(fact.message().map(|m| m.as_uuid()))
                    .bind(member.map(|m| m.as_uuid()))
                    .bind(*reference)
                    .bind(fact.version().map(i64::from))
                    .bind(body.clone())
                    .bind(fact.at().as_millis());
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

fn fresh_salt() -> Vec<u8> {
    let mut salt = [0u8; 32];
    let _ = getrandom::fill(&mut salt);
    salt.to_vec()
}

/// The salts of these members, made now for those who have none. Most have one already
/// (it is read on every acknowledgment and read), so they are looked up before anything
/// is written.
pub async fn salts_for(tx: &mut Tx, members: &[MemberId]) -> Result<HashMap<MemberId, [u8; 32]>> {
    let ids: Vec<Uuid> = members.iter().map(|m| m.as_uuid()).collect();
    let mut found = salts(tx, &ids).await?;
    let missing: Vec<Uuid> = ids.iter().filter(|id| !found.contains_key(id)).copied().collect();
    for chunk in missing.chunks(500) {
        let rows = value_rows(tx.dialect(), chunk.len(), 2);
        let sql = format!("insert into member_salts (member_id, salt) values {rows} on conflict do nothing");
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id).bind(fresh_salt());
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    if !missing.is_empty() {
        // Read back: a racing transaction's salt wins over ours.
        found.extend(salts(tx, &missing).await?);
    }
    Ok(found.into_iter().map(|(id, salt)| (MemberId::from_uuid(id), salt)).collect())
}

/// The member's salt, made now if they have none.
pub async fn member_salt(tx: &mut Tx, member: MemberId) -> Result<[u8; 32]> {
    salts_for(tx, &[member]).await?.remove(&member).ok_or_else(|| Error::corrupt("a member's salt was not kept"))
}

/// The salts of these members who still have one (erased members have none).
pub async fn salts(tx: &mut Tx, members: &[Uuid]) -> Result<HashMap<Uuid, [u8; 32]>> {
    let mut out = HashMap::new();
    for chunk in members.chunks(500) {
        let sql = format!(
            "select member_id, salt from member_salts where member_id in ({})",
            placeholders(tx.dialect(), 1, chunk.len())
        );
        let rows: Vec<(Uuid, Vec<u8>)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(c).await
        })?;
        for (id, salt) in rows {
            out.insert(id, salt.try_into().map_err(|_| Error::corrupt("a member's salt is not 32 bytes"))?);
        }
    }
    Ok(out)
}

/// The salts of the members whose copies of `message` lie after `after` up to `upto` (to
/// the end when `None`), made in the database for those who have none: one release
/// batch's, in two statements over the member id range rather than lists of ids.
pub async fn salts_of_copies(
    tx: &mut Tx,
    message: MessageId,
    after: Option<MemberId>,
    upto: Option<MemberId>,
) -> Result<Vec<(MemberId, [u8; 32])>> {
    // 32 bytes from the database's strong random source: two random UUIDs (122 random bits
    // each) on PostgreSQL, SQLite's randomblob.
    let random = match tx.dialect() {
        Dialect::Postgres => "uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())",
        Dialect::Sqlite => "randomblob(32)",
    };
    let range = "r.message_id = $1 and r.member_id > $2 and r.member_id <= $3";
    let make = format!(
        "insert into member_salts (member_id, salt) select r.member_id, {random} from recipients r \
         where {range} and not exists (select 1 from member_salts s where s.member_id = r.member_id) \
         on conflict do nothing"
    );
    let read = format!(
        "select r.member_id, s.salt from recipients r join member_salts s on s.member_id = r.member_id \
         where {range} order by r.member_id"
    );
    let (lo, hi) = (after.map_or(Uuid::nil(), |a| a.as_uuid()), upto.map_or(Uuid::max(), |u| u.as_uuid()));
    on_tx!(tx, |c| sqlx::query(AssertSqlSafe(make))
        .bind(message.as_uuid())
        .bind(lo)
        .bind(hi)
        .execute(c)
        .await
        .map(|_| ()))?;
    let rows: Vec<(Uuid, Vec<u8>)> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(read))
        .bind(message.as_uuid())
        .bind(lo)
        .bind(hi)
        .fetch_all(c)
        .await)?;
    rows.into_iter()
        .map(|(id, salt)| {
            let salt = salt.try_into().map_err(|_| Error::corrupt("a member's salt is not 32 bytes"))?;
            Ok((MemberId::from_uuid(id), salt))
        })
        .collect()
}

/// Keeps the text a content hash covers (once per hash).
pub async fn keep_text(tx: &mut Tx, content_hash: &str, body: &str) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into evidence_texts (content_hash, body) values ($1, $2) on conflict do nothing"
    )
    .bind(content_hash)
    .bind(body)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

pub async fn text(tx: &mut Tx, content_hash: &str) -> Result<Option<String>> {
    let body: Option<String> =
        on_tx!(tx, |c| sqlx::query_scalar("select body from evidence_texts where content_hash = $1")
            .bind(content_hash)
            .fetch_optional(c)
            .await)?;
    Ok(body)
}

/// The log as sequenced so far: its size and right edge. With `lock`, on PostgreSQL, the
/// head row stays locked to the end of the transaction, so one sequencer runs at a time.
pub async fn head(tx: &mut Tx, lock: bool) -> Result<Frontier> {
    let sql = if lock && tx.dialect() == Dialect::Postgres {
        "select size, edge from evidence_head where id = 1 for update"
    } else {
        "select size, edge from evidence_head where id = 1"
    };
    let (size, edge): (i64, Vec<u8>) = on_tx!(tx, |c| sqlx::query_as(sql).fetch_one(c).await)?;
    let size = u64::try_from(size).map_err(Error::corrupt)?;
    let nodes = edge
        .chunks(32)
        .map(|h| h.try_into().map_err(|_| Error::corrupt("a log edge hash is short")))
        .collect::<Result<_>>()?;
    Frontier::from_parts(size, nodes).ok_or_else(|| Error::corrupt("the log's edge does not match its size"))
}

/// Gives up to `max` waiting entries their places in the tree, in the order of their
/// ids, with the node hashes they complete. Returns how many it placed.
pub async fn integrate(tx: &mut Tx, max: i64) -> Result<u64> {
    let mut frontier = head(tx, true).await?;
    let waiting: Vec<(i64, String)> = on_tx!(tx, |c| sqlx::query_as(
        "select id, body from evidence_entries where position is null order by id limit $1"
    )
    .bind(max)
    .fetch_all(c)
    .await)?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let first = frontier.size();
    let mut nodes: Vec<(Node, Hash)> = Vec::with_capacity(waiting.len() * 2);
    for (_, body) in &waiting {
        let leaf = tlog::leaf_hash(body.as_bytes());
        nodes.push((Node { level: 0, index: frontier.size() }, leaf));
        frontier.append(leaf, |node, hash| nodes.push((node, hash)));
    }
    place(tx, first, &waiting.iter().map(|(id, _)| *id).collect::<Vec<_>>()).await?;
    insert_nodes(tx, &nodes).await?;
    let edge: Vec<u8> = frontier.nodes().concat();
    let size = i64::try_from(frontier.size()).map_err(Error::corrupt)?;
    on_tx!(tx, |c| sqlx::query("update evidence_head set size = $1, edge = $2 where id = 1")
        .bind(size)
        .bind(edge)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(waiting.len() as u64)
}

/// Entry `ids[i]` takes position `first + i`: one statement per thousand entries.
async fn place(tx: &mut Tx, first: u64, ids: &[i64]) -> Result<()> {
    let first = i64::try_from(first).map_err(Error::corrupt)?;
    for (n, chunk) in ids.chunks(1000).enumerate() {
        let rows = value_rows(tx.dialect(), chunk.len(), 2);
        let sql = format!(
            "with v (id, position) as (values {rows}) \
             update evidence_entries set position = v.position from v where evidence_entries.id = v.id"
        );
        let base = first + (n * 1000) as i64;
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (i, id) in chunk.iter().enumerate() {
                q = q.bind(*id).bind(base + i as i64);
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

async fn insert_nodes(tx: &mut Tx, nodes: &[(Node, Hash)]) -> Result<()> {
    for chunk in nodes.chunks(1000) {
        let rows = value_rows(tx.dialect(), chunk.len(), 3);
        let sql = format!("insert into evidence_nodes (level, idx, hash) values {rows}");
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (node, hash) in chunk {
                q = q.bind(i64::from(node.level)).bind(node.index as i64).bind(hash.to_vec());
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// The hashes of these complete subtrees (each must be in the tree already).
pub async fn nodes(tx: &mut Tx, wanted: &[Node]) -> Result<HashMap<Node, Hash>> {
    let unique: std::collections::BTreeSet<Node> = wanted.iter().copied().collect();
    let mut by_level: HashMap<u8, Vec<u64>> = HashMap::new();
    for n in &unique {
        by_level.entry(n.level).or_default().push(n.index);
    }
    let mut out = HashMap::with_capacity(unique.len());
    for (level, indexes) in by_level {
        for chunk in indexes.chunks(500) {
            let sql = format!(
                "select idx, hash from evidence_nodes where level = {} and idx in ({})",
                placeholders(tx.dialect(), 1, 1),
                placeholders(tx.dialect(), 2, chunk.len())
            );
            let rows: Vec<(i64, Vec<u8>)> = on_tx!(tx, |c| {
                let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(i64::from(level));
                for i in chunk {
                    q = q.bind(*i as i64);
                }
                q.fetch_all(c).await
            })?;
            for (idx, hash) in rows {
                let hash = hash.try_into().map_err(|_| Error::corrupt("a log node hash is not 32 bytes"))?;
                out.insert(Node { level, index: idx as u64 }, hash);
            }
        }
    }
    if out.len() < unique.len() {
        return Err(Error::corrupt("the evidence log is missing node hashes its proofs need"));
    }
    Ok(out)
}

/// The hashes of whole spans, each from its complete subtrees.
pub async fn span_hashes(tx: &mut Tx, spans: &[tlog::Span]) -> Result<Vec<Hash>> {
    let wanted: Vec<Node> = spans.iter().flat_map(|s| s.nodes()).collect();
    let found = nodes(tx, &wanted).await?;
    spans
        .iter()
        .map(|s| {
            let parts: Vec<Hash> = s.nodes().iter().filter_map(|n| found.get(n).copied()).collect();
            Ok(tlog::fold(&parts))
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: Hash,
    /// The signed note.
    pub note: String,
    pub signed_at: Timestamp,
}

type CheckpointRow = (i64, Vec<u8>, String, i64);

fn checkpoint(row: CheckpointRow) -> Result<StoredCheckpoint> {
    let (size, root, note, at) = row;
    Ok(StoredCheckpoint {
        size: u64::try_from(size).map_err(Error::corrupt)?,
        root: root.try_into().map_err(|_| Error::corrupt("a checkpoint's root is not 32 bytes"))?,
        note,
        signed_at: Timestamp::from_millis(at),
    })
}

/// Stores `c`; a checkpoint of the same size already stored stays.
pub async fn put_checkpoint(tx: &mut Tx, c: &StoredCheckpoint) -> Result<()> {
    store_checkpoint(tx, c, "do nothing").await
}

/// Stores `c`, replacing a checkpoint of the same size (one the old key alone signed,
/// while a rotation's co-signed one was being made).
pub async fn replace_checkpoint(tx: &mut Tx, c: &StoredCheckpoint) -> Result<()> {
    store_checkpoint(tx, c, "do update set note = excluded.note, signed_at = excluded.signed_at").await
}

async fn store_checkpoint(tx: &mut Tx, c: &StoredCheckpoint, on_conflict: &'static str) -> Result<()> {
    let sql = format!(
        "insert into evidence_checkpoints (size, root, note, signed_at) values ($1, $2, $3, $4) \
         on conflict (size) {on_conflict}"
    );
    on_tx!(tx, |conn| sqlx::query(AssertSqlSafe(sql))
        .bind(c.size as i64)
        .bind(c.root.to_vec())
        .bind(c.note.clone())
        .bind(c.signed_at.as_millis())
        .execute(conn)
        .await
        .map(|_| ()))?;
    Ok(())
}

pub async fn latest_checkpoint(tx: &mut Tx) -> Result<Option<StoredCheckpoint>> {
    let row: Option<CheckpointRow> = on_tx!(tx, |c| sqlx::query_as(
        "select size, root, note, signed_at from evidence_checkpoints order by size desc limit 1"
    )
    .fetch_optional(c)
    .await)?;
    row.map(checkpoint).transpose()
}

/// Every checkpoint, oldest first.
pub async fn checkpoints(tx: &mut Tx) -> Result<Vec<StoredCheckpoint>> {
    let rows: Vec<CheckpointRow> =
        on_tx!(tx, |c| sqlx::query_as("select size, root, note, signed_at from evidence_checkpoints order by size")
            .fetch_all(c)
            .await)?;
    rows.into_iter().map(checkpoint).collect()
}

/// An entry as stored, with its place in the tree once sequenced.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredEntry {
    pub id: i64,
    pub position: Option<i64>,
    pub kind: String,
    pub message_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub body: String,
    pub recorded_at: i64,
}

const ENTRY: &str = "select id, position, kind, message_id, member_id, body, recorded_at from evidence_entries";

/// Sequenced entries in tree order after position `after`, below `size`, `limit` at a
/// time: of one message when `message` is given, and of one partner's members (those not
/// erased) when `partner` is.
pub async fn entries(
    tx: &mut Tx,
    message: Option<MessageId>,
    partner: Option<tidings_core::PartnerId>,
    after: i64,
    size: i64,
    limit: i64,
) -> Result<Vec<StoredEntry>> {
    let mut filter = crate::sql::Filter::default();
    filter.push("position is not null".into());
    let after = filter.bind(crate::sql::Value::Int(after));
    filter.push(format!("position > {after}"));
    let size = filter.bind(crate::sql::Value::Int(size));
    filter.push(format!("position < {size}"));
    if let Some(m) = message {
        let m = filter.bind(crate::sql::Value::Uuid(m.as_uuid()));
        filter.push(format!("message_id = {m}"));
    }
    if let Some(p) = partner {
        let p = filter.bind(crate::sql::Value::Uuid(p.as_uuid()));
        filter.push(format!("member_id in (select id from members where partner_id = {p})"));
    }
    let limit = filter.bind(crate::sql::Value::Int(limit));
    let sql = format!("{ENTRY} {} order by position limit {limit}", filter.sql());
    let rows: Vec<StoredEntry> =
        on_tx!(tx, |c| crate::sql::bind_as(sqlx::query_as(AssertSqlSafe(sql)), &filter.values).fetch_all(c).await)?;
    Ok(rows)
}

/// How many entries wait for the sequencer.
pub async fn waiting(tx: &mut Tx) -> Result<i64> {
    let n: i64 = on_tx!(tx, |c| sqlx::query_scalar("select count(*) from evidence_entries where position is null")
        .fetch_one(c)
        .await)?;
    Ok(n)
}

/// Who a commitment in the log stands for, while the member exists: what an evidence pack
/// reveals so an auditor can recompute the commitment.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Person {
    pub member_id: Uuid,
    pub name: String,
    pub email: String,
    pub partner_id: Uuid,
    pub partner_name: String,
    pub salt: Vec<u8>,
}

/// The people behind these member ids who are not erased.
pub async fn people(tx: &mut Tx, members: &[Uuid]) -> Result<HashMap<Uuid, Person>> {
    let mut out = HashMap::with_capacity(members.len());
    for chunk in members.chunks(500) {
        let sql = format!(
            "select m.id as member_id, m.name, m.email, m.partner_id, p.name as partner_name, s.salt \
             from members m join partners p on p.id = m.partner_id join member_salts s on s.member_id = m.id \
             where m.id in ({})",
            placeholders(tx.dialect(), 1, chunk.len())
        );
        let rows: Vec<Person> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(c).await
        })?;
        out.extend(rows.into_iter().map(|p| (p.member_id, p)));
    }
    Ok(out)
}

/// An entry with what the audit holds it to: the acknowledgment row it records (for an
/// acknowledgment leaf) and the member's salt, while the member exists.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub position: Option<i64>,
    pub kind: String,
    pub message_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub body: String,
    pub salt: Option<Vec<u8>>,
    pub ack_partner_id: Option<Uuid>,
    pub ack_roles: Option<i64>,
    pub ack_locale: Option<String>,
    pub ack_statement: Option<String>,
    pub ack_content_hash: Option<String>,
    pub ack_at: Option<i64>,
    pub ack_ip: Option<String>,
    pub ack_user_agent: Option<String>,
    /// The answers to the attestation form, as kept.
    pub ack_attestation: Option<String>,
    /// For a read: when the copy says it was read.
    pub read_at: Option<i64>,
    /// For a consent change: its record's columns.
    pub consent_member: Option<Uuid>,
    pub consent_purpose: Option<String>,
    pub consent_granted: Option<bool>,
    pub consent_source: Option<String>,
    pub consent_basis: Option<String>,
    pub consent_text_version: Option<String>,
    pub consent_recorded_by: Option<String>,
    pub consent_at: Option<i64>,
    /// The entry's reference (a consent record, or an obligation's partner).
    pub ref_id: Option<Uuid>,
    /// For an obligation met: the partner's quotas in scope still unmet.
    pub unmet_quotas: Option<i64>,
    /// For an obligation met: the message's current version (a material correction
    /// since asks again, so an earlier version's obligation met is history).
    pub message_version: Option<i64>,
    /// For a delivery: whether the member's copy of the message exists (1) or not (0).
    pub copies: Option<i64>,
}

/// The whole log in tree order, `limit` entries after position `after`, each beside the
/// row it records.
pub async fn audit_page(tx: &mut Tx, after: i64, limit: i64) -> Result<Vec<AuditRow>> {
    let rows: Vec<AuditRow> = on_tx!(tx, |c| sqlx::query_as(
        "select e.id, e.position, e.kind, e.message_id, e.member_id, e.body, s.salt, \
         coalesce(a.partner_id, sa.partner_id) as ack_partner_id, coalesce(a.roles, sa.roles) as ack_roles, \
         coalesce(a.locale, sa.locale) as ack_locale, coalesce(a.statement, sa.statement) as ack_statement, \
         coalesce(a.content_hash, sa.content_hash) as ack_content_hash, \
         coalesce(a.acknowledged_at, sa.acknowledged_at) as ack_at, \
         case when a.member_id is not null then a.ip else sa.ip end as ack_ip, \
         case when a.member_id is not null then a.user_agent else sa.user_agent end as ack_user_agent, \
         case when a.member_id is not null then a.attestation else sa.attestation end as ack_attestation, r.read_at, \
         c.member_id as consent_member, c.purpose as consent_purpose, c.granted as consent_granted, \
         c.source as consent_source, c.lawful_basis as consent_basis, c.text_version as consent_text_version, \
         c.recorded_by as consent_recorded_by, c.recorded_at as consent_at, e.ref_id, \
         case when e.kind = 'obligation_met' then (select count(*) from obligation_progress o \
           where o.message_id = e.message_id and o.partner_id = e.ref_id and o.in_scope > 0 \
           and o.met_at is null) end as unmet_quotas, \
         case when e.kind = 'obligation_met' then (select m.version from messages m where m.id = e.message_id) \
           end as message_version, \
         case when e.kind = 'delivered' then (select count(*) from recipients c2 where c2.message_id = e.message_id \
           and c2.member_id = e.member_id) end as copies \
         from evidence_entries e \
         left join member_salts s on s.member_id = e.member_id \
         left join acknowledgments a on e.kind = 'acknowledged' and a.message_id = e.message_id \
           and a.member_id = e.member_id and a.version = coalesce(e.version, 1) \
         left join superseded_acknowledgments sa on e.kind = 'acknowledged' and sa.message_id = e.message_id \
           and sa.member_id = e.member_id and sa.version = coalesce(e.version, 1) \
         left join recipients r on e.kind = 'read' and r.message_id = e.message_id and r.member_id = e.member_id \
         left join consent_records c on e.kind = 'consent' and c.id = e.ref_id \
         where e.position is not null and e.position > $1 order by e.position limit $2"
    )
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await)?;
    Ok(rows)
}

/// Consent records that claim to be in the log but have no leaf there (at most `limit`;
/// an erased member's records go with them), and how many came before the log began.
pub async fn consent_without_leaf(tx: &mut Tx, limit: i64) -> Result<(Vec<Uuid>, i64)> {
    let missing: Vec<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
        "select c.id from consent_records c where c.in_log = 1 and not exists ( \
         select 1 from evidence_entries e where e.ref_id = c.id and e.kind = 'consent') limit $1"
    )
    .bind(limit)
    .fetch_all(c)
    .await)?;
    let before: i64 =
        on_tx!(tx, |c| sqlx::query_scalar("select count(*) from consent_records where in_log = 0").fetch_one(c).await)?;
    Ok((missing, before))
}

/// Acknowledgment rows that claim to be in the log but have no leaf there (at most
/// `limit`; an erased member's rows are passed over, as their leaves no longer name them),
/// and how many were recorded before the log began.
pub async fn acknowledgments_without_leaf(tx: &mut Tx, limit: i64) -> Result<(Vec<(Uuid, Uuid)>, i64)> {
    let mut missing: Vec<(Uuid, Uuid)> = Vec::new();
    for table in ["acknowledgments", "superseded_acknowledgments"] {
        let sql = format!(
            "select a.message_id, a.member_id from {table} a where a.in_log = 1 and not exists ( \
             select 1 from evidence_entries e where e.message_id = a.message_id and e.kind = 'acknowledged' \
             and e.member_id = a.member_id and coalesce(e.version, 1) = a.version) \
             and exists (select 1 from members m where m.id = a.member_id) limit $1"
        );
        let rows: Vec<(Uuid, Uuid)> =
            on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(limit).fetch_all(c).await)?;
        missing.extend(rows);
    }
    let before: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "select (select count(*) from acknowledgments where in_log = 0) \
         + (select count(*) from superseded_acknowledgments where in_log = 0)"
    )
    .fetch_one(c)
    .await)?;
    Ok((missing, before))
}

/// Corrections (versions after the first) with no leaf in the log, at most `limit`.
pub async fn corrections_without_leaf(tx: &mut Tx, limit: i64) -> Result<Vec<(Uuid, i64)>> {
    let rows: Vec<(Uuid, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "select v.message_id, v.version from message_versions v where v.kind <> 'original' and not exists ( \
         select 1 from evidence_entries e where e.message_id = v.message_id and e.kind = 'corrected' \
         and e.version = v.version) limit $1"
    )
    .bind(limit)
    .fetch_all(c)
    .await)?;
    Ok(rows)
}

/// Every kept text, `limit` at a time after `after` (a content hash).
pub async fn texts_page(tx: &mut Tx, after: &str, limit: i64) -> Result<Vec<(String, String)>> {
    let rows: Vec<(String, String)> = on_tx!(tx, |c| sqlx::query_as(
        "select content_hash, body from evidence_texts where content_hash > $1 order by content_hash limit $2"
    )
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await)?;
    Ok(rows)
}

/// What a pack reveals beside each of these members' acknowledgment leaves of `message`,
/// by member and version (a material correction sets the earlier ones aside): where it
/// came from (IP address, user agent), which the leaf holds only as a commitment, and the
/// answers to the attestation form, which it holds only as a hash.
#[derive(Debug, Clone, Default)]
pub struct AckDetails {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub attestation: Option<String>,
}

pub async fn acknowledgment_details(
    tx: &mut Tx,
    message: MessageId,
    members: &[Uuid],
) -> Result<HashMap<(Uuid, u32), AckDetails>> {
    let mut out = HashMap::with_capacity(members.len());
    for chunk in members.chunks(500) {
        for table in ["acknowledgments", "superseded_acknowledgments"] {
            let sql = format!(
                "select member_id, version, ip, user_agent, attestation from {table} where message_id = {} \
                 and member_id in ({})",
                placeholders(tx.dialect(), 1, 1),
                placeholders(tx.dialect(), 2, chunk.len())
            );
            type Row = (Uuid, i64, Option<String>, Option<String>, Option<String>);
            let rows: Vec<Row> = on_tx!(tx, |c| {
                let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(message.as_uuid());
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(c).await
            })?;
            for (id, version, ip, user_agent, attestation) in rows {
                let version = u32::try_from(version).map_err(Error::corrupt)?;
                out.insert((id, version), AckDetails { ip, user_agent, attestation });
            }
        }
    }
    Ok(out)
}

/// The public keys retired by rotations, oldest first.
pub async fn retired_keys(tx: &mut Tx) -> Result<Vec<String>> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar("select verifier from evidence_retired_keys order by retired_at, verifier")
        .fetch_all(c)
        .await)?)
}

pub async fn retire_key(tx: &mut Tx, verifier: &str, at: Timestamp) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into evidence_retired_keys (verifier, retired_at) values ($1, $2) on conflict do nothing"
    )
    .bind(verifier)
    .bind(at.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The log's key rotations in tree order: each leaf's position and data.
pub async fn rotations(tx: &mut Tx) -> Result<Vec<(i64, String)>> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "select position, body from evidence_entries where kind = 'key_rotated' and position is not null \
         order by position"
    )
    .fetch_all(c)
    .await)?)
}
