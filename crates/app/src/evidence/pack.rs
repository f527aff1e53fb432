//! Evidence packs: what an auditor is handed for one message (or one partner's part of
//! it), and the check they run on it without Tidings' database.
//!
//! A pack is a directory:
//! - `checkpoint.txt`: a signed checkpoint of the log (c2sp.org/tlog-checkpoint);
//! - `key.txt`: the public key that signed it (the auditor should hold their own copy);
//! - `keys.jsonl`: the log's key rotations, so an auditor's earlier key leads to it;
//! - `leaves.jsonl`: each of the message's leaves, with its position, its inclusion
//!   proof to the checkpoint, and, unless the member was erased, who the leaf's
//!   commitments stand for (name, email, partner and the salt that opens them);
//! - `texts.jsonl`: every text acknowledged, by content hash;
//! - `manifest.json`: what the pack holds;
//! - `report.html` and `report.pdf`: the same for people, to read, print and file.
//!
//! Files are written and read a line at a time, so memory stays flat however many
//! leaves a message has.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use tidings_core::attestation::Answers;
use tidings_core::evidence::facts::{Fact, Leaf, ShownText};
use tidings_core::evidence::note::{Checkpoint, VerifierKey};
use tidings_core::evidence::tlog;
use tidings_core::{Action, MessageId, PartnerId, Timestamp};
use tidings_store::evidence as store;
use uuid::Uuid;

use crate::html::escape;
use crate::{App, AppError, Caller};

pub const FORMAT: &str = "tidings-evidence-pack/1";
/// Leaves read, proven and written per round trip.
const PAGE: i64 = 2_000;
/// Lines of `leaves.jsonl` read, then checked on two threads, at a time.
const LINES_AT_ONCE: usize = 8_192;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub message_id: MessageId,
    pub title: String,
    pub partner_id: Option<PartnerId>,
    pub exported_at: Timestamp,
    pub checkpoint_size: u64,
    pub leaves: u64,
    pub texts: u64,
}

/// Who a leaf's commitments stand for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revealed {
    pub member_id: Uuid,
    pub name: String,
    pub email: String,
    pub partner_id: Uuid,
    pub partner_name: String,
    /// Hex; opens the leaf's member, partner and origin commitments.
    pub salt: String,
    /// Where an acknowledgment came from, which its leaf holds as a commitment.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackedLeaf {
    pub position: u64,
    /// The leaf's data exactly as hashed.
    pub leaf: String,
    /// Base64 hashes, from the leaf's sibling up (RFC 9162 2.1.3).
    pub proof: Vec<String>,
    /// `None` for an erased member, or a leaf about no one.
    pub person: Option<Revealed>,
    /// The answers to the attestation form, whose hash an acknowledgment leaf holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<Answers>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PackedText {
    content_hash: String,
    text: ShownText,
}

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

fn io(e: impl Into<anyhow::Error>) -> AppError {
    AppError::Unexpected(e.into())
}

/// Writes the pack of `message` (of one partner's members when `partner` is given) into
/// `dir`, which must not exist or be empty. The log is sealed first, so the pack proves
/// everything recorded until now.
pub async fn export(
    app: &App,
    caller: &Caller,
    message: MessageId,
    partner: Option<PartnerId>,
    dir: &Path,
) -> Result<Exported, AppError> {
    caller.require(Action::ReadDirectory, "export evidence")?;
    let (msg, versions) = {
        let mut tx = app.db.read().await?;
        let msg = tidings_store::messages::get(&mut tx, message).await.map_err(crate::error::not_found("message"))?;
        (msg, tidings_store::versions::list(&mut tx, message).await?)
    };
    if dir.exists() && std::fs::read_dir(dir).map_err(io)?.next().is_some() {
        return Err(AppError::invalid(
            "pack",
            format!("{} is not empty: give a new directory for the pack", dir.display()),
        ));
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    let checkpoint = super::seal(app).await?.ok_or(AppError::NotFound("evidence (the log is empty)"))?;
    let key = super::public_key(app).await?;
    std::fs::write(dir.join("checkpoint.txt"), &checkpoint.note).map_err(io)?;
    std::fs::write(dir.join("key.txt"), format!("{}\n", key.encode())).map_err(io)?;
    let handovers = super::handover::of_log(&mut app.db.read().await?, checkpoint.size).await?;
    let keys: String = handovers.iter().filter_map(|h| serde_json::to_string(h).ok()).map(|l| l + "\n").collect();
    std::fs::write(dir.join("keys.jsonl"), keys).map_err(io)?;

    let mut leaves_out = BufWriter::new(File::create(dir.join("leaves.jsonl")).map_err(io)?);
    let mut texts_out = BufWriter::new(File::create(dir.join("texts.jsonl")).map_err(io)?);
    let mut report = Report::start(dir, &msg, &versions, partner, &checkpoint)?;
    let mut texts_seen: HashSet<String> = HashSet::new();
    let size = checkpoint.size;
    let mut leaves = 0u64;
    // The next page is read while this one is written: the database's work and the
    // hashing and writing each have a core.
    let mut next = tokio::spawn(fetch(app.clone(), message, partner, -1, size));
    loop {
        let fetched = next.await.map_err(|e| AppError::Unexpected(e.into()))??;
        let Some(Fetched { page, spans, hashes, people, details }) = fetched else { break };
        let after = page.last().and_then(|e| e.position).unwrap_or_default();
        next = tokio::spawn(fetch(app.clone(), message, partner, after, size));
        let mut hashes = hashes.into_iter();
        for (entry, spans) in page.iter().zip(&spans) {
            let proof: Vec<String> = hashes.by_ref().take(spans.len()).map(|h| STANDARD.encode(h)).collect();
            let parsed = Leaf::parse(&entry.body).map_err(io)?;
            let acknowledged = match &parsed.fact {
                Fact::Acknowledged(a) => Some(a.version),
                _ => None,
            };
            let detail = match (acknowledged, entry.member_id) {
                (Some(version), Some(member)) => details.get(&(member, version)).cloned().unwrap_or_default(),
                _ => store::AckDetails::default(),
            };
            let answers = detail.attestation.as_deref().and_then(|a| serde_json::from_str::<Answers>(a).ok());
            let person = entry.member_id.and_then(|id| people.get(&id)).map(|p| {
                let (ip, user_agent) = (detail.ip.clone(), detail.user_agent.clone());
                Revealed {
                    member_id: p.member_id,
                    name: p.name.clone(),
                    email: p.email.clone(),
                    partner_id: p.partner_id,
                    partner_name: p.partner_name.clone(),
                    salt: hex::encode(&p.salt),
                    ip,
                    user_agent,
                }
            });
            if let Fact::Acknowledged(a) = &parsed.fact
                && texts_seen.insert(a.content_hash.clone())
                && let Some(body) = store::text(&mut app.db.read().await?, &a.content_hash).await?
            {
                let text: ShownText = serde_json::from_str(&body).map_err(io)?;
                let line = PackedText { content_hash: a.content_hash.clone(), text };
                writeln!(texts_out, "{}", serde_json::to_string(&line).map_err(io)?).map_err(io)?;
            }
            report.row(&parsed, person.as_ref(), answers.as_ref())?;
            let line = PackedLeaf {
                position: entry.position.unwrap_or_default() as u64,
                leaf: entry.body.clone(),
                proof,
                person,
                answers,
            };
            writeln!(leaves_out, "{}", serde_json::to_string(&line).map_err(io)?).map_err(io)?;
            leaves += 1;
        }
    }
    leaves_out.flush().map_err(io)?;
    texts_out.flush().map_err(io)?;
    report.finish(leaves)?;
    let manifest = Manifest {
        format: FORMAT.into(),
        message_id: message,
        title: msg.title().to_owned(),
        partner_id: partner,
        exported_at: app.clock.now(),
        checkpoint_size: size,
        leaves,
        texts: texts_seen.len() as u64,
    };
    std::fs::write(dir.join("manifest.json"), serde_json::to_string_pretty(&manifest).map_err(io)?).map_err(io)?;
    Ok(Exported { dir: dir.to_owned(), manifest })
}

/// A page of a pack: the message's next leaves, their proofs' spans and the spans'
/// hashes, and the people and acknowledgments they name.
struct Fetched {
    page: Vec<store::StoredEntry>,
    spans: Vec<Vec<tlog::Span>>,
    hashes: Vec<tlog::Hash>,
    people: std::collections::HashMap<Uuid, store::Person>,
    details: std::collections::HashMap<(Uuid, u32), store::AckDetails>,
}

/// The page after position `after` of the tree of `size` leaves; `None` past the last.
async fn fetch(
    app: App,
    message: MessageId,
    partner: Option<PartnerId>,
    after: i64,
    size: u64,
) -> Result<Option<Fetched>, AppError> {
    let mut tx = app.db.read().await?;
    let page = store::entries(&mut tx, Some(message), partner, after, size as i64, PAGE).await?;
    if page.is_empty() {
        return Ok(None);
    }
    let spans: Vec<Vec<tlog::Span>> = page
        .iter()
        .filter_map(|e| e.position)
        .map(|p| tlog::inclusion_spans(p as u64, size).unwrap_or_default())
        .collect();
    let hashes = span_hashes(&mut tx, &page, &spans).await?;
    let mut ids: Vec<Uuid> = page.iter().filter_map(|e| e.member_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let people = store::people(&mut tx, &ids).await?;
    let details = store::acknowledgment_details(&mut tx, message, &ids).await?;
    tx.rollback().await?;
    Ok(Some(Fetched { page, spans, hashes, people, details }))
}

/// The hashes of the spans of a page's proofs, in order. A message's leaves mostly sit
/// side by side in the log, so the page's own leaves make most of the subtrees its proofs
/// carry; only those beside the page are looked up.
async fn span_hashes(
    tx: &mut tidings_store::Tx,
    page: &[store::StoredEntry],
    spans: &[Vec<tlog::Span>],
) -> Result<Vec<tlog::Hash>, AppError> {
    let leaves: Vec<(u64, tlog::Hash)> = page
        .iter()
        .filter_map(|e| Some((u64::try_from(e.position?).ok()?, tlog::leaf_hash(e.body.as_bytes()))))
        .collect();
    let mut known = tlog::subtrees_of(&leaves);
    let mut missing: Vec<tlog::Node> =
        spans.iter().flatten().flat_map(|s| s.nodes()).filter(|n| !known.contains_key(n)).collect();
    missing.sort_unstable();
    missing.dedup();
    known.extend(store::nodes(tx, &missing).await?);
    // Neighbours' proofs share their upper spans: each is folded once.
    let mut folded: std::collections::HashMap<(u64, u64), tlog::Hash> = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(spans.iter().map(Vec::len).sum());
    for s in spans.iter().flatten() {
        if let Some(hash) = folded.get(&(s.start, s.end)) {
            out.push(*hash);
            continue;
        }
        let parts: Option<Vec<tlog::Hash>> = s.nodes().iter().map(|n| known.get(n).copied()).collect();
        let hash = parts.map(|p| tlog::fold(&p)).ok_or_else(|| {
            AppError::Unexpected(anyhow::anyhow!("the evidence log is missing node hashes its proofs need"))
        })?;
        folded.insert((s.start, s.end), hash);
        out.push(hash);
    }
    Ok(out)
}

/// The readable report, written as the leaves go by.
struct Report {
    out: BufWriter<File>,
    /// The same, as a PDF (written at the end).
    pdf: super::pdf::PdfReport,
    dir: PathBuf,
}

impl Report {
    fn start(
        dir: &Path,
        msg: &tidings_core::messages::Message,
        versions: &[tidings_store::versions::Version],
        partner: Option<PartnerId>,
        checkpoint: &store::StoredCheckpoint,
    ) -> Result<Self, AppError> {
        let mut out = BufWriter::new(File::create(dir.join("report.html")).map_err(io)?);
        let scope = partner.map(|p| format!(" (partner {p})")).unwrap_or_default();
        let statement = msg.acknowledgment.as_ref().map(|a| a.statement.as_str()).unwrap_or("(none)");
        write!(
            out,
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Evidence: {title}</title>\
             <style>body{{font:14px system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse}}\
             td,th{{border:1px solid #999;padding:.2rem .4rem;text-align:left}}code{{font-size:12px}}</style>\
             <h1>Evidence: {title}{scope}</h1>\
             <p>Message <code>{id}</code>. Statement to confirm: \u{201c}{statement}\u{201d}.</p>\
             <p>Every row below is a leaf of the instance's evidence log, proven to be in the log's checkpoint of \
             {size} leaves (signed {signed}). Run <code>tidings evidence verify</code> on this directory to check \
             every proof, signature and text hash; it needs no database.</p>{corrections}\
             <table><thead><tr><th>What</th><th>Who</th><th>Partner</th><th>Roles</th>\
             <th>When</th><th>Details</th><th>Text</th></tr></thead><tbody>",
            title = escape(msg.title()),
            id = msg.id,
            statement = escape(statement),
            size = checkpoint.size,
            signed = checkpoint.signed_at,
            corrections = corrections(versions),
        )
        .map_err(io)?;
        let mut pdf = super::pdf::PdfReport::default();
        pdf.heading(&format!("Evidence: {}{scope}", msg.title()));
        pdf.line(&format!("Message {}. Statement to confirm: \u{201c}{statement}\u{201d}.", msg.id));
        pdf.line(&format!(
            "Every row is a leaf of the instance's evidence log, proven to be in its checkpoint of {} leaves \
             (signed {}). Run `tidings evidence verify` on the pack's directory to check every proof, signature \
             and text hash; it needs no database.",
            checkpoint.size, checkpoint.signed_at
        ));
        if versions.len() > 1 {
            pdf.heading("Versions");
            for v in versions {
                let kind = v.correction.map_or("as released", |k| k.as_str());
                pdf.line(&format!("{}  {kind}  {}  by {}  {}", v.version, v.created_at, v.created_by, v.note));
            }
        }
        pdf.heading("Leaves: when, what, who, partner, roles, details, text");
        Ok(Self { out, pdf, dir: dir.to_owned() })
    }

    fn row(&mut self, leaf: &Leaf, person: Option<&Revealed>, answers: Option<&Answers>) -> Result<(), AppError> {
        let (who, partner) = match person {
            Some(p) => (format!("{} <{}>", p.name, p.email), p.partner_name.clone()),
            None => ("erased member".to_owned(), "(erased)".to_owned()),
        };
        let (what, roles, detail, text) = match &leaf.fact {
            Fact::Acknowledged(a) => (
                "acknowledged",
                a.roles.to_string(),
                format!(
                    "version {}; {}, {}{}",
                    a.version,
                    named(&a.surface),
                    named(&a.authentication),
                    answers
                        .map(|list| {
                            let said: Vec<String> =
                                list.0.iter().map(|(k, v)| format!("{k}: {}", v.display())).collect();
                            format!("; stated: {}", said.join(", "))
                        })
                        .unwrap_or_default()
                ),
                a.content_hash[..a.content_hash.len().min(16)].to_owned(),
            ),
            Fact::Read(_) => ("read", String::new(), String::new(), String::new()),
            Fact::Released(r) => (
                "released",
                String::new(),
                format!(
                    "{}; languages: {}",
                    r.importance.as_str(),
                    r.variants.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                String::new(),
            ),
            Fact::ObligationMet(o) => {
                ("obligation met", String::new(), format!("partner {}", o.partner), String::new())
            }
            Fact::Consent(c) => ("consent", String::new(), c.purpose.clone(), String::new()),
            Fact::Delivered(d) => (
                "delivered",
                String::new(),
                format!("{} ({}): {}", d.channel, d.purpose, named(&d.outcome)),
                String::new(),
            ),
            Fact::KeyRotated(k) => ("signing key rotated", String::new(), format!("to {}", k.next), String::new()),
            Fact::Corrected(c) => (
                "corrected",
                String::new(),
                format!("version {} ({}) by {}: {}", c.version, c.correction, c.by, c.note),
                String::new(),
            ),
        };
        let (who, partner) = match (leaf.fact.member(), person) {
            (None, _) => (String::new(), String::new()),
            (Some(_), None) => ("erased member".to_owned(), "(erased)".to_owned()),
            (Some(_), Some(_)) => (who, partner),
        };
        let at = leaf.fact.at();
        self.pdf.row(&format!("{at}  {what}  {who}  {partner}  {roles}  {detail}  {text}"));
        write!(
            self.out,
            "<tr><td>{what}</td><td>{who}</td><td>{partner}</td><td>{roles}</td><td>{at}</td><td>{detail}</td>\
             <td><code>{text}</code></td></tr>",
            who = escape(&who),
            partner = escape(&partner),
            roles = escape(&roles),
            detail = escape(&detail),
        )
        .map_err(io)
    }

    fn finish(mut self, leaves: u64) -> Result<(), AppError> {
        writeln!(self.out, "</tbody></table><p>{leaves} leaves.</p></html>").map_err(io)?;
        self.out.flush().map_err(io)?;
        self.pdf.line("");
        self.pdf.line(&format!("{leaves} leaves."));
        self.pdf.finish(&self.dir.join("report.pdf")).map_err(io)
    }
}

/// A value's name as the leaves spell it (`portal_session`, `in_inbox`).
fn named(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The message's versions, when it was corrected: each acknowledgment below names the
/// version it confirmed.
fn corrections(versions: &[tidings_store::versions::Version]) -> String {
    if versions.len() < 2 {
        return String::new();
    }
    let rows: String = versions
        .iter()
        .map(|v| {
            let kind = v.correction.map_or("as released", |k| k.as_str());
            format!(
                "<tr><td>{}</td><td>{kind}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                v.version,
                v.created_at,
                escape(&v.created_by),
                escape(&v.note)
            )
        })
        .collect();
    format!(
        "<h2>Versions</h2><p>The text was corrected after it went out. A material correction asked everyone to \
         acknowledge again; earlier acknowledgments stay bound to the text they confirmed.</p>\
         <table><thead><tr><th>Version</th><th>Kind</th><th>When</th><th>By</th><th>Why</th></tr></thead>\
         <tbody>{rows}</tbody></table><h2>Leaves</h2>"
    )
}

/// What `verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verified {
    pub checkpoint_size: u64,
    /// Whether the checkpoint was checked against a key the auditor gave, rather than the
    /// pack's own `key.txt`.
    pub own_key: bool,
    /// Key rotations followed from the key given to the one that signed the checkpoint.
    pub keys_followed: u64,
    pub leaves: u64,
    pub acknowledgments: u64,
    /// Acknowledgments whose attestation answers the pack carries and their hash matches.
    pub attestations: u64,
    pub texts: u64,
    /// Leaves whose person the pack names, and whose commitments it opened.
    pub people: u64,
    pub erased: u64,
    /// Each problem, naming the file and line; empty when every proof holds.
    pub problems: Vec<String>,
}

/// Checks a pack with no database: the checkpoint's signature (by `key`, or the pack's own
/// key when none is given), every leaf's inclusion proof, every text's hash, every
/// revealed person's commitments, and that acknowledgments bind texts the pack carries.
pub fn verify(dir: &Path, key: Option<&str>) -> Result<Verified, AppError> {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).map_err(|e| AppError::invalid("pack", format!("{name}: {e}")))
    };
    let own_key = key.is_some();
    let key_text = match key {
        Some(k) => k.to_owned(),
        None => read("key.txt")?,
    };
    let key = VerifierKey::parse(&key_text).map_err(|e| AppError::invalid("pack", format!("the public key: {e}")))?;
    // An earlier key is followed through the log's rotations to the one that signed.
    let mut rotation_problems = Vec::new();
    let (key, keys_followed) = super::handover::follow(dir, key, &mut rotation_problems);
    let note = read("checkpoint.txt")?;
    let checkpoint = Checkpoint::open(&note, &key).map_err(|e| {
        // Say why trust did not reach the signing key, when a rotation broke the chain.
        let why: String = rotation_problems.iter().map(|p| format!("; {p}")).collect();
        AppError::invalid("pack", format!("checkpoint.txt: {e}{why}"))
    })?;
    let manifest: Manifest = serde_json::from_str(&read("manifest.json")?)
        .map_err(|e| AppError::invalid("pack", format!("manifest.json: {e}")))?;
    let mut out = Verified { checkpoint_size: checkpoint.size, own_key, keys_followed, ..Verified::default() };
    out.problems.extend(rotation_problems);
    if manifest.checkpoint_size != checkpoint.size {
        out.problems.push(format!(
            "manifest.json: says the checkpoint has {} leaves, checkpoint.txt says {}",
            manifest.checkpoint_size, checkpoint.size
        ));
    }

    let mut texts: HashSet<String> = HashSet::new();
    for (n, line) in lines(dir, "texts.jsonl")?.enumerate() {
        let at = format!("texts.jsonl line {}", n + 1);
        match serde_json::from_str::<PackedText>(&line.map_err(io)?) {
            Ok(t) if t.text.content_hash() == t.content_hash => {
                texts.insert(t.content_hash);
            }
            Ok(t) => out.problems.push(format!("{at}: the text does not hash to {}", t.content_hash)),
            Err(e) => out.problems.push(format!("{at}: {e}")),
        }
    }
    out.texts = texts.len() as u64;

    let context = super::leaf_check::Context {
        size: checkpoint.size,
        root: checkpoint.root,
        message: manifest.message_id,
        texts: &texts,
    };
    let mut last: Option<u64> = None;
    let mut leaves = lines(dir, "leaves.jsonl")?.enumerate();
    loop {
        let chunk: Vec<(usize, String)> = leaves
            .by_ref()
            .take(LINES_AT_ONCE)
            .map(|(n, l)| l.map(|l| (n, l)))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        if chunk.is_empty() {
            break;
        }
        for checked in super::leaf_check::check_all(&chunk, &context) {
            if let Some(position) = checked.position {
                out.leaves += 1;
                if last.is_some_and(|l| position <= l) {
                    out.problems.push(format!("{}: out of order or repeated", checked.at));
                }
                last = Some(position);
            }
            out.problems.extend(checked.problems);
            out.acknowledgments += u64::from(checked.acknowledgment);
            out.attestations += u64::from(checked.attestation);
            match checked.person {
                Some(true) => out.people += 1,
                Some(false) => out.erased += 1,
                None => {}
            }
        }
    }
    if out.leaves != manifest.leaves {
        out.problems.push(format!("leaves.jsonl: {} leaves, the manifest says {}", out.leaves, manifest.leaves));
    }
    Ok(out)
}

fn lines(dir: &Path, name: &str) -> Result<std::io::Lines<BufReader<File>>, AppError> {
    let file = File::open(dir.join(name)).map_err(|e| AppError::invalid("pack", format!("{name}: {e}")))?;
    Ok(BufReader::new(file).lines())
}
