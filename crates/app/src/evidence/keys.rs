//! Rotating the key that signs the evidence log's checkpoints, recorded in the log itself
//! (docs/evidence.md, "Keys"). The new key's successor claim is a `key_rotated` leaf, and
//! the first checkpoint that includes it is signed by the old key and the new one: an
//! auditor who holds the old key checks that checkpoint, finds the leaf in it, and from
//! then on trusts the new key. The old key's private half is then forgotten.
//!
//! A rotation survives a crash halfway: the successor is stored, with its leaf, before
//! anything is signed, and sealing the log finishes a rotation left pending.

use serde::Serialize;
use tidings_core::Action;
use tidings_core::evidence::facts::{Fact, KeyRotated, Leaf};
use tidings_core::evidence::note::{Checkpoint, SignerKey, VerifierKey};
use tidings_store::evidence::{self as store, StoredCheckpoint};
use tidings_store::settings;

use super::{KEY, random32, sequence, signer};
use crate::{App, AppError, Caller};

/// The successor key while a rotation is under way.
const NEXT_KEY: &str = "evidence_next_signing_key";

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rotation {
    /// The retired public key.
    pub previous: String,
    /// The public key that signs from now on: hand it to auditors beside the old one.
    pub next: String,
    /// The checkpoint both keys signed.
    pub checkpoint_size: u64,
}

fn parse(text: &str) -> Result<SignerKey, AppError> {
    SignerKey::parse(text).map_err(|e| AppError::Unexpected(anyhow::anyhow!("a stored evidence key: {e}")))
}

/// Replaces the signing key (an admin's act, in the audit log).
pub async fn rotate(app: &App, caller: &Caller) -> Result<Rotation, AppError> {
    caller.require(Action::Configure, "rotate the evidence signing key")?;
    // Everything so far is signed by the old key alone.
    super::seal(app).await?;
    let old = signer(app).await?;
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    if settings::get(&mut tx, NEXT_KEY).await?.is_none() {
        let next = SignerKey::from_seed(old.name(), random32())
            .map_err(|e| AppError::Unexpected(anyhow::anyhow!("making a key: {e}")))?;
        settings::put(&mut tx, NEXT_KEY, &next.encode()).await?;
        let fact =
            Fact::KeyRotated(KeyRotated { previous: old.verifier().encode(), next: next.verifier().encode(), at: now });
        store::append_fact(&mut tx, &fact, None, None).await?;
        let what = serde_json::json!({"previous": old.verifier().encode(), "next": next.verifier().encode()});
        crate::audit::entry(caller, "evidence.rotate_key", None).after(&what).write(app, &mut tx).await?;
    }
    tx.commit().await?;
    let checkpoint = finish(app).await?.ok_or(AppError::Conflict("no rotation was under way".into()))?;
    let next = signer(app).await?;
    Ok(Rotation { previous: old.verifier().encode(), next: next.verifier().encode(), checkpoint_size: checkpoint.size })
}

/// Finishes a rotation under way: signs the tree, rotation leaf included, with both keys,
/// then makes the successor the signing key. `None` when no rotation is under way.
pub(super) async fn finish(app: &App) -> Result<Option<StoredCheckpoint>, AppError> {
    let mut tx = app.db.read().await?;
    let pending = settings::get(&mut tx, NEXT_KEY).await?;
    tx.rollback().await?;
    let Some(next) = pending else { return Ok(None) };
    let next = parse(&next)?;
    let old = signer(app).await?;
    sequence(app).await?;
    let mut tx = app.db.begin().await?;
    let head = store::head(&mut tx, true).await?;
    let checkpoint = Checkpoint { origin: old.name().to_owned(), size: head.size(), root: head.root() };
    let signed = checkpoint.sign(&old).and_then(|note| next.cosign(&note));
    let note = signed.map_err(|e| AppError::Unexpected(anyhow::anyhow!("signing a checkpoint: {e}")))?;
    let now = app.clock.now();
    let stored = StoredCheckpoint { size: checkpoint.size, root: checkpoint.root, note, signed_at: now };
    store::replace_checkpoint(&mut tx, &stored).await?;
    cosign_since_rotation(&mut tx, &next).await?;
    settings::put(&mut tx, KEY, &next.encode()).await?;
    settings::delete(&mut tx, NEXT_KEY).await?;
    store::retire_key(&mut tx, &old.verifier().encode(), now).await?;
    tx.commit().await?;
    tracing::info!(size = stored.size, "the evidence signing key was rotated");
    Ok(Some(stored))
}

/// A checkpoint the old key alone signed past the rotation's leaf (sealing ran while the
/// rotation was under way) gets the successor's signature too, so the first checkpoint
/// past a rotation is always signed by both.
async fn cosign_since_rotation(tx: &mut tidings_store::Tx, next: &SignerKey) -> Result<(), AppError> {
    let named = next.verifier().encode();
    let rotations = store::rotations(tx).await?;
    let Some((position, _)) = rotations.iter().rev().find(|(_, body)| body.contains(&named)) else { return Ok(()) };
    for c in store::checkpoints(tx).await? {
        if c.size as i64 > *position && Checkpoint::open(&c.note, &next.verifier()).is_err() {
            let note = next.cosign(&c.note).map_err(|e| AppError::Unexpected(anyhow::anyhow!("co-signing: {e}")))?;
            store::replace_checkpoint(tx, &StoredCheckpoint { note, ..c }).await?;
        }
    }
    Ok(())
}

/// Every key that has signed this log's checkpoints, in order: as its rotation leaves
/// chain them, the current one last.
pub async fn history(app: &App) -> Result<Vec<VerifierKey>, AppError> {
    let mut tx = app.db.read().await?;
    let rotations = store::rotations(&mut tx).await?;
    tx.rollback().await?;
    let parse = |text: &str| {
        VerifierKey::parse(text).map_err(|e| AppError::Unexpected(anyhow::anyhow!("a key in the log: {e}")))
    };
    let mut keys = Vec::with_capacity(rotations.len() + 1);
    for (i, (_, body)) in rotations.iter().enumerate() {
        let Ok(Leaf { fact: Fact::KeyRotated(r), .. }) = Leaf::parse(body) else { continue };
        if i == 0 {
            keys.push(parse(&r.previous)?);
        }
        keys.push(parse(&r.next)?);
    }
    let current = signer(app).await?.verifier();
    if keys.last() != Some(&current) {
        keys.push(current);
    }
    Ok(keys)
}
