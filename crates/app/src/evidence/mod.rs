//! Evidence that holds up without trusting Tidings or its database (docs/evidence.md):
//! facts are appended to a Merkle log in the transaction that records them, a sequencer
//! gives them their place in the tree, checkpoints of the tree are signed with the
//! instance's Ed25519 key, and an evidence pack carries a message's leaves with proofs to
//! a checkpoint, which `verify` checks with no database at all.

pub mod audit;
pub mod handover;
pub mod keys;
mod leaf_check;
pub mod pack;
mod pdf;
pub mod record;

use tidings_core::evidence::note::{Checkpoint, SignerKey, VerifierKey};
use tidings_store::evidence::{self as store, StoredCheckpoint};

use crate::{App, AppError};

const KEY: &str = "evidence_signing_key";
/// Entries a sequencer transaction places at most, so a burst never holds the writer long.
const BATCH: i64 = 5_000;

fn random32() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    let _ = getrandom::fill(&mut bytes);
    bytes
}

/// The log's name: the instance's host and a random tag made once, so two instances'
/// checkpoints can never be mistaken for each other.
fn origin_for(public_url: &str) -> String {
    let host = url::Url::parse(public_url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
        })
        .unwrap_or_else(|| "tidings".into());
    format!("{host}/tidings-evidence/{}", hex::encode(&random32()[..4]))
}

/// The key that signs checkpoints, made at first use and kept in the database; its name
/// is the log's origin.
pub async fn signer(app: &App) -> Result<SignerKey, AppError> {
    // Read first: a write transaction on every evidence page would queue for SQLite's writer.
    let mut tx = app.db.read().await?;
    let stored = tidings_store::settings::get(&mut tx, KEY).await?;
    tx.rollback().await?;
    let stored = match stored {
        Some(key) => key,
        None => {
            let mut tx = app.db.begin().await?;
            let stored = tidings_store::settings::get_or_insert(&mut tx, KEY, || {
                SignerKey::from_seed(&origin_for(&app.public_url), random32()).map(|k| k.encode()).unwrap_or_default()
            })
            .await?;
            tx.commit().await?;
            stored
        }
    };
    SignerKey::parse(&stored).map_err(|e| AppError::Unexpected(anyhow::anyhow!("the evidence signing key: {e}")))
}

/// The public key that checks this instance's checkpoints, to print and hand to auditors.
pub async fn public_key(app: &App) -> Result<VerifierKey, AppError> {
    Ok(signer(app).await?.verifier())
}

/// Places every waiting entry in the tree, a batch per transaction; returns how many.
pub async fn sequence(app: &App) -> Result<u64, AppError> {
    let mut total = 0;
    loop {
        let mut tx = app.db.begin().await?;
        let placed = store::integrate(&mut tx, BATCH).await?;
        tx.commit().await?;
        total += placed;
        if placed < BATCH as u64 {
            return Ok(total);
        }
    }
}

/// Places every waiting entry in the tree, then signs a checkpoint of the tree if it grew.
/// Returns the newest checkpoint (none while the log is empty).
pub async fn seal(app: &App) -> Result<Option<StoredCheckpoint>, AppError> {
    // A rotation left halfway is finished first: its checkpoint is the co-signed one.
    keys::finish(app).await?;
    sequence(app).await?;
    let mut tx = app.db.read().await?;
    let head = store::head(&mut tx, false).await?;
    let latest = store::latest_checkpoint(&mut tx).await?;
    tx.rollback().await?;
    if head.size() == 0 || latest.as_ref().is_some_and(|c| c.size >= head.size()) {
        return Ok(latest);
    }
    let key = signer(app).await?;
    let checkpoint = Checkpoint { origin: key.name().to_owned(), size: head.size(), root: head.root() };
    let note = checkpoint.sign(&key).map_err(|e| AppError::Unexpected(anyhow::anyhow!("signing a checkpoint: {e}")))?;
    let stored = StoredCheckpoint { size: checkpoint.size, root: checkpoint.root, note, signed_at: app.clock.now() };
    let mut tx = app.db.begin().await?;
    store::put_checkpoint(&mut tx, &stored).await?;
    tx.commit().await?;
    Ok(Some(stored))
}

/// Where the evidence log stands, for the console and the API.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogStatus {
    /// The public key that checks the checkpoints (`name+keyid+base64`), for auditors.
    pub public_key: String,
    /// Leaves placed in the tree.
    pub size: u64,
    /// Entries appended and waiting for the sequencer (placed within seconds).
    pub waiting: i64,
    /// The newest signed checkpoint, if any.
    pub checkpoint: Option<CheckpointView>,
}

#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckpointView {
    pub size: u64,
    /// Base64, as in the note.
    pub root: String,
    /// The signed note (c2sp.org/tlog-checkpoint), exactly as signed.
    pub note: String,
    pub signed_at: tidings_core::Timestamp,
}

pub async fn status(app: &App, caller: &crate::Caller) -> Result<LogStatus, AppError> {
    caller.require(tidings_core::Action::ReadDirectory, "read the evidence log")?;
    let public_key = public_key(app).await?.encode();
    let mut tx = app.db.read().await?;
    let head = store::head(&mut tx, false).await?;
    let waiting = store::waiting(&mut tx).await?;
    let latest = store::latest_checkpoint(&mut tx).await?;
    tx.rollback().await?;
    use base64::Engine;
    let checkpoint = latest.map(|c| CheckpointView {
        size: c.size,
        root: base64::engine::general_purpose::STANDARD.encode(c.root),
        note: c.note,
        signed_at: c.signed_at,
    });
    Ok(LogStatus { public_key, size: head.size(), waiting, checkpoint })
}
