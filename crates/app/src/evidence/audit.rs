//! `tidings evidence audit`: the whole log held to itself, to its signed checkpoints and
//! to the rows it records. It rebuilds the tree from the entries, so an entry altered,
//! reordered, inserted or deleted, a node hash changed, a checkpoint rewritten, an
//! acknowledgment row changed or one without its leaf, or a kept text changed, is named.

use std::collections::HashMap;

use serde::Serialize;
use tidings_core::evidence::facts::KeyRotated;
use tidings_core::evidence::facts::{self, Acknowledged, Committed, Fact, Leaf, ShownText};
use tidings_core::evidence::note::{Checkpoint, VerifierKey};
use tidings_core::evidence::tlog::{self, Frontier, Hash, Node};
use tidings_core::{Action, Roles, Timestamp};
use tidings_store::evidence::{self as store, AuditRow};

use crate::{App, AppError, Caller};

const PAGE: i64 = 5_000;
/// Problems listed at most; the count goes on.
const LISTED: usize = 200;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Audited {
    pub leaves: u64,
    pub checkpoints: u64,
    pub releases: u64,
    pub acknowledgments: u64,
    pub reads: u64,
    pub consent_changes: u64,
    pub obligations_met: u64,
    pub corrections: u64,
    pub deliveries: u64,
    pub key_rotations: u64,
    pub texts: u64,
    /// Entries appended but not yet placed in the tree (the sequencer places them within
    /// seconds).
    pub waiting: i64,
    /// Acknowledgments recorded before this instance kept an evidence log.
    pub before_log: i64,
    /// Consent changes recorded before this instance kept an evidence log.
    pub consent_before_log: i64,
    pub problems: Vec<String>,
    /// All problems found, of which `problems` lists the first.
    pub problem_count: u64,
}

impl Audited {
    fn problem(&mut self, text: String) {
        self.problem_count += 1;
        if self.problems.len() < LISTED {
            self.problems.push(text);
        }
    }
}

pub async fn audit(app: &App, caller: &Caller) -> Result<Audited, AppError> {
    caller.require(Action::ReadDirectory, "audit the evidence log")?;
    let mut out = Audited::default();
    let keys = super::keys::history(app).await?;
    let current = super::public_key(app).await?;
    let mut tx = app.db.read().await?;
    let checkpoints = store::checkpoints(&mut tx).await?;
    out.checkpoints = checkpoints.len() as u64;
    let rotations = rotations(&mut tx, &mut out).await?;
    let retired = store::retired_keys(&mut tx).await?;
    check_key_chain(&mut out, &rotations, &retired, &current);
    let mut before = 0u64;
    for c in &checkpoints {
        // Signed by the key of its time; the first checkpoint past a rotation, by the
        // retiring key too.
        let passed: Vec<&(u64, KeyRotated)> = rotations.iter().filter(|(p, _)| *p < c.size).collect();
        let current =
            passed.last().map_or_else(|| keys.first().map(VerifierKey::encode), |(_, r)| Some(r.next.clone()));
        let mut wanted: Vec<String> = current.into_iter().collect();
        wanted.extend(passed.iter().filter(|(p, _)| *p >= before).map(|(_, r)| r.previous.clone()));
        for text in wanted {
            let opened = VerifierKey::parse(&text)
                .map_err(|e| e.to_string())
                .and_then(|key| Checkpoint::open(&c.note, &key).map_err(|e| e.to_string()));
            match opened {
                Ok(signed) if signed.size == c.size && signed.root == c.root => {}
                Ok(_) => {
                    out.problem(format!("checkpoint of {} leaves: its row does not match its signed note", c.size))
                }
                Err(e) => out.problem(format!("checkpoint of {} leaves: {e}", c.size)),
            }
        }
        before = c.size;
    }
    for pair in checkpoints.windows(2) {
        let (old, new) = (&pair[0], &pair[1]);
        let spans = tlog::consistency_spans(old.size, new.size).unwrap_or_default();
        let checked = match store::span_hashes(&mut tx, &spans).await {
            Ok(proof) => {
                tlog::verify_consistency(old.size, new.size, &proof, &old.root, &new.root).map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = checked {
            out.problem(format!("checkpoints of {} and {} leaves are not consistent: {e}", old.size, new.size));
        }
    }
    let by_size: HashMap<u64, Hash> = checkpoints.iter().map(|c| (c.size, c.root)).collect();
    let head = store::head(&mut tx, false).await?;

    let mut frontier = Frontier::default();
    let mut after = -1i64;
    loop {
        let page = store::audit_page(&mut tx, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.position.unwrap_or(after);
        let mut computed: Vec<(Node, Hash, i64)> = Vec::with_capacity(page.len() * 2);
        for row in &page {
            let position = row.position.unwrap_or_default();
            if position as u64 != frontier.size() {
                out.problem(format!(
                    "entry {} is at position {position} where position {} was expected: an entry is missing, \
                     repeated or moved",
                    row.id,
                    frontier.size()
                ));
            }
            let leaf = tlog::leaf_hash(row.body.as_bytes());
            computed.push((Node { level: 0, index: frontier.size() }, leaf, row.id));
            frontier.append(leaf, |node, hash| computed.push((node, hash, row.id)));
            if let Some(root) = by_size.get(&frontier.size())
                && *root != frontier.root()
            {
                out.problem(format!(
                    "the entries up to position {} do not hash to the signed checkpoint of {} leaves",
                    position,
                    frontier.size()
                ));
            }
            out.leaves += 1;
            check_row(&mut out, row);
            if row.kind == "released" || row.kind == "corrected" {
                check_text(&mut tx, &mut out, row).await?;
            }
        }
        let wanted: Vec<Node> = computed.iter().map(|(n, _, _)| *n).collect();
        let stored = match store::nodes(&mut tx, &wanted).await {
            Ok(s) => s,
            Err(_) => partial_nodes(&mut tx, &wanted).await?,
        };
        for (node, hash, id) in &computed {
            if stored.get(node) != Some(hash) {
                out.problem(format!(
                    "the tree's node at level {} index {} (over entry {id}) is not the hash of its entries",
                    node.level, node.index
                ));
            }
        }
    }
    if frontier.size() != head.size() || frontier.root() != head.root() {
        out.problem(format!(
            "the log's head says {} leaves with another root than the {} entries give",
            head.size(),
            frontier.size()
        ));
    }
    let (missing, before_log) = store::acknowledgments_without_leaf(&mut tx, LISTED as i64).await?;
    out.before_log = before_log;
    for (message, member) in missing {
        out.problem(format!("acknowledgment of message {message} by member {member} has no leaf in the log"));
    }
    for (message, version) in store::corrections_without_leaf(&mut tx, LISTED as i64).await? {
        out.problem(format!("version {version} of message {message} (a correction) has no leaf in the log"));
    }
    let (missing, before_log) = store::consent_without_leaf(&mut tx, LISTED as i64).await?;
    out.consent_before_log = before_log;
    for record in missing {
        out.problem(format!("consent record {record} has no leaf in the log"));
    }
    let mut after_hash = String::new();
    loop {
        let page = store::texts_page(&mut tx, &after_hash, PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after_hash = last.clone();
        for (hash, body) in &page {
            out.texts += 1;
            match serde_json::from_str::<ShownText>(body) {
                Ok(text) if text.content_hash() == *hash => {}
                _ => out.problem(format!("the kept text {hash} does not hash to its name")),
            }
        }
    }
    out.waiting = store::waiting(&mut tx).await?;
    tx.rollback().await?;
    Ok(out)
}

/// Holds a release's or a correction's leaf to the text kept of that version: a message
/// that went out changes only by corrections, each kept whole, so every version's text in
/// every language must still be word for word what the log says; and the message's
/// current text must be its latest version's.
async fn check_text(tx: &mut tidings_store::Tx, out: &mut Audited, row: &AuditRow) -> Result<(), AppError> {
    let at = format!("entry {} (position {})", row.id, row.position.unwrap_or_default());
    let (message, version, variants, statement) = match Leaf::parse(&row.body) {
        Ok(Leaf { fact: Fact::Released(r), .. }) => (r.message, 1, r.variants, r.statement),
        Ok(Leaf { fact: Fact::Corrected(c), .. }) => {
            out.corrections += 1;
            (c.message, c.version, c.variants, c.statement)
        }
        _ => return Ok(()),
    };
    let m = match tidings_store::messages::get(tx, message).await {
        Ok(m) => m,
        Err(tidings_store::Error::NotFound) => {
            out.problem(format!("{at}: message {message} it records is gone"));
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let named = |content: &tidings_core::messages::Content| -> std::collections::BTreeMap<String, _> {
        content.variants.iter().map(|(l, v)| (l.to_string(), v.clone())).collect()
    };
    let kept = match tidings_store::versions::get(tx, message, version).await? {
        Some(v) => Some((named(&v.content), v.acknowledgment.map(|a| a.statement))),
        None if version == 1 && m.version == 1 => None,
        None => {
            out.problem(format!("{at}: version {version} of message {message} is not kept"));
            return Ok(());
        }
    };
    let current = (named(&m.content), m.acknowledgment.as_ref().map(|a| a.statement.clone()));
    let what = if version == 1 { "released" } else { "its correction" };
    let mut hold = |kept: &(std::collections::BTreeMap<String, _>, Option<String>), whose: &str| {
        if kept.0 != variants {
            out.problem(format!("{at}: the text of {whose} is not what the log says was {what}"));
        }
        if kept.1 != statement {
            out.problem(format!("{at}: the statement of {whose} is not what the log says was {what}"));
        }
    };
    if let Some(kept) = &kept {
        hold(kept, &format!("version {version} of message {message}"));
    }
    if version == m.version {
        hold(&current, &format!("message {message} as it stands"));
    }
    Ok(())
}

/// The log's key rotations, in tree order, with their positions.
async fn rotations(tx: &mut tidings_store::Tx, out: &mut Audited) -> Result<Vec<(u64, KeyRotated)>, AppError> {
    let mut found = Vec::new();
    for (position, body) in store::rotations(tx).await? {
        match Leaf::parse(&body) {
            Ok(Leaf { fact: Fact::KeyRotated(r), .. }) => found.push((position as u64, r)),
            _ => out.problem(format!("the key rotation at position {position} does not read")),
        }
    }
    out.key_rotations = found.len() as u64;
    Ok(found)
}

/// The rotations chain one to the next, the keys they retire are the ones kept as
/// retired, and the last names the current key.
fn check_key_chain(out: &mut Audited, rotations: &[(u64, KeyRotated)], retired: &[String], current: &VerifierKey) {
    for pair in rotations.windows(2) {
        if pair[0].1.next != pair[1].1.previous {
            out.problem(format!("the key rotation at position {} retires a key that was not signing", pair[1].0));
        }
    }
    let mut named: Vec<&str> = rotations.iter().map(|(_, r)| r.previous.as_str()).collect();
    let mut kept: Vec<&str> = retired.iter().map(String::as_str).collect();
    named.sort_unstable();
    kept.sort_unstable();
    if named != kept {
        out.problem("the retired keys kept are not the ones the log's key rotations retired".to_owned());
    }
    if rotations.last().is_some_and(|(_, r)| r.next != current.encode()) {
        out.problem("the signing key is not the one the log's last key rotation named".to_owned());
    }
}

/// The nodes that exist of `wanted` (some are missing when the tree was tampered with).
async fn partial_nodes(tx: &mut tidings_store::Tx, wanted: &[Node]) -> Result<HashMap<Node, Hash>, AppError> {
    let mut found = HashMap::new();
    for node in wanted {
        if let Ok(one) = store::nodes(tx, std::slice::from_ref(node)).await {
            found.extend(one);
        }
    }
    Ok(found)
}

/// Holds a leaf to the row it records.
fn check_row(out: &mut Audited, row: &AuditRow) {
    let at = format!("entry {} (position {})", row.id, row.position.unwrap_or_default());
    let leaf = match Leaf::parse(&row.body) {
        Ok(l) => l,
        Err(e) => return out.problem(format!("{at}: does not read as a leaf: {e}")),
    };
    if leaf.fact.kind() != row.kind || leaf.fact.message().map(|m| m.as_uuid()) != row.message_id {
        out.problem(format!("{at}: its kind or message is not the one its leaf states"));
    }
    let differs = |what: &str| format!("{at}: the {what} is not what the log recorded");
    let salt = row.salt.as_ref().and_then(|s| <[u8; 32]>::try_from(s.as_slice()).ok());
    if let (Some(member), Some(committed)) = (row.member_id, leaf.fact.member()) {
        match salt {
            Some(salt) if facts::commitment(&salt, Committed::Member, member) == committed => {}
            Some(_) => out.problem(differs("member")),
            None => out.problem(format!("{at}: member {member} has no salt to check the leaf's commitment")),
        }
    }
    match &leaf.fact {
        Fact::Acknowledged(a) => {
            out.acknowledgments += 1;
            // An erased member: the leaf stands alone, with nothing left to hold it to.
            let Some(member) = row.member_id else { return };
            let Some(content_hash) = &row.ack_content_hash else {
                return out.problem(format!("{at}: the acknowledgment it records (member {member}) is gone"));
            };
            let differs = |what: &str| format!("{at}: the acknowledgment row's {what} is not what the log recorded");
            if let Some(salt) = salt {
                if row.ack_partner_id.map(|p| facts::commitment(&salt, Committed::Partner, p)).as_deref()
                    != Some(a.partner.as_str())
                {
                    out.problem(differs("partner"));
                }
                if facts::origin_commitment(&salt, row.ack_ip.as_deref(), row.ack_user_agent.as_deref()) != a.origin {
                    out.problem(differs("origin (IP address or user agent)"));
                }
            }
            compare(out, &differs, row, content_hash, a);
        }
        Fact::Read(r) => {
            out.reads += 1;
            if row.member_id.is_some() && row.read_at.map(Timestamp::from_millis) != Some(r.at) {
                out.problem(differs("copy's time read"));
            }
        }
        Fact::Consent(c) => {
            out.consent_changes += 1;
            if row.member_id.is_none() {
                return;
            }
            if row.ref_id != Some(c.record) || row.consent_purpose.is_none() {
                return out.problem(format!("{at}: the consent record {} it records is gone", c.record));
            }
            let same = row.consent_member == row.member_id
                && row.consent_purpose.as_deref() == Some(c.purpose.as_str())
                && row.consent_granted == Some(c.granted)
                && row.consent_source.as_deref() == Some(c.source.as_str())
                && row.consent_basis.as_deref() == Some(c.lawful_basis.as_str())
                && row.consent_text_version.as_deref() == Some(c.text_version.as_str())
                && row.consent_recorded_by.as_deref() == Some(c.recorded_by.as_str())
                && row.consent_at.map(Timestamp::from_millis) == Some(c.at);
            if !same {
                out.problem(differs(&format!("consent record {}", c.record)));
            }
        }
        // Held to the message by `check_release`.
        Fact::Released(_) => out.releases += 1,
        // Held to the kept version by `check_text`.
        Fact::Corrected(_) => {}
        // Held to the key history by `check_key_chain`.
        Fact::KeyRotated(_) => {}
        Fact::Delivered(_) => {
            out.deliveries += 1;
            if row.member_id.is_some() && row.copies.unwrap_or(0) == 0 {
                out.problem(format!("{at}: the member's copy of the message it was delivered from is gone"));
            }
        }
        Fact::ObligationMet(o) => {
            out.obligations_met += 1;
            // A material correction since asked everyone again: this one is history.
            let current = row.message_version.is_none_or(|v| v == i64::from(o.version));
            if row.ref_id != Some(o.partner.as_uuid()) {
                out.problem(format!("{at}: its partner is not the one its leaf states"));
            } else if current && row.unmet_quotas.unwrap_or(1) > 0 {
                out.problem(format!("{at}: partner {} has quotas unmet that the log says were met", o.partner));
            }
        }
    }
}

fn compare(out: &mut Audited, differs: &dyn Fn(&str) -> String, row: &AuditRow, content_hash: &str, a: &Acknowledged) {
    if content_hash != a.content_hash {
        out.problem(differs("text (content hash)"));
    }
    if row.ack_statement.as_deref() != Some(a.statement.as_str()) {
        out.problem(differs("statement"));
    }
    if row.ack_locale.as_deref() != Some(a.locale.as_str()) {
        out.problem(differs("language"));
    }
    if row.ack_roles.map(Roles::from_bits) != Some(a.roles) {
        out.problem(differs("roles"));
    }
    if row.ack_at.map(Timestamp::from_millis) != Some(a.at) {
        out.problem(differs("time"));
    }
    let answered = row.ack_attestation.as_deref().map(|json| {
        serde_json::from_str::<tidings_core::attestation::Answers>(json).map(|a| a.hash()).unwrap_or_default()
    });
    if answered != a.attestation {
        out.problem(differs("answers to the attestation"));
    }
}
