//! How a pack carries the log's key rotations (`keys.jsonl`), so an auditor who holds an
//! earlier key checks a checkpoint signed by a later one: each line is a rotation leaf
//! (retiring key, successor), its inclusion proof, and the first checkpoint that includes
//! it, which the retiring key signed. A trusted key that signed that checkpoint, over a
//! tree holding a leaf naming its successor, hands trust on to the successor.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use tidings_core::evidence::facts::{Fact, Leaf};
use tidings_core::evidence::note::{Checkpoint, VerifierKey};
use tidings_core::evidence::tlog::{self, Hash};
use tidings_store::Tx;
use tidings_store::evidence as store;

use crate::AppError;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Handover {
    pub position: u64,
    /// The `key_rotated` leaf's data, exactly as hashed.
    pub leaf: String,
    /// Base64 hashes proving the leaf in `transition`'s tree.
    pub proof: Vec<String>,
    /// The first checkpoint including the leaf: the signed note, by both keys.
    pub transition: String,
}

/// The rotations of the log up to a checkpoint of `size` leaves, with their proofs.
pub(super) async fn of_log(tx: &mut Tx, size: u64) -> Result<Vec<Handover>, AppError> {
    let checkpoints = store::checkpoints(tx).await?;
    let mut out = Vec::new();
    for (position, leaf) in store::rotations(tx).await? {
        let position = position as u64;
        let Some(transition) = checkpoints.iter().find(|c| c.size > position && c.size <= size) else { continue };
        let spans = tlog::inclusion_spans(position, transition.size).unwrap_or_default();
        let proof = store::span_hashes(tx, &spans).await?.iter().map(|h| STANDARD.encode(h)).collect();
        out.push(Handover { position, leaf, proof, transition: transition.note.clone() });
    }
    Ok(out)
}

/// Follows the pack's rotations from `trusted`: each one that retires the key trusted so
/// far, proven in a checkpoint that key signed, makes its successor the key trusted.
/// Returns the key trusted at the end and how many rotations were followed; a rotation
/// that does not hold is a problem named by line.
pub(super) fn follow(dir: &Path, mut trusted: VerifierKey, problems: &mut Vec<String>) -> (VerifierKey, u64) {
    let Ok(text) = std::fs::read_to_string(dir.join("keys.jsonl")) else { return (trusted, 0) };
    let mut followed = 0;
    for (n, line) in text.lines().enumerate() {
        let at = format!("keys.jsonl line {}", n + 1);
        match step(line, &trusted) {
            Ok(Some(next)) => {
                trusted = next;
                followed += 1;
            }
            Ok(None) => {}
            Err(e) => problems.push(format!("{at}: {e}")),
        }
    }
    (trusted, followed)
}

/// The successor a rotation hands trust to, `None` when it retires another key.
fn step(line: &str, trusted: &VerifierKey) -> Result<Option<VerifierKey>, String> {
    let h: Handover = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let Ok(Leaf { fact: Fact::KeyRotated(r), .. }) = Leaf::parse(&h.leaf) else {
        return Err("not a key rotation leaf".into());
    };
    if r.previous != trusted.encode() {
        return Ok(None);
    }
    let checkpoint = Checkpoint::open(&h.transition, trusted).map_err(|e| format!("the transition checkpoint: {e}"))?;
    let proof: Option<Vec<Hash>> =
        h.proof.iter().map(|p| STANDARD.decode(p).ok().and_then(|b| b.try_into().ok())).collect();
    let proof = proof.ok_or("the proof holds a value that is not a hash")?;
    tlog::verify_inclusion(h.position, checkpoint.size, &tlog::leaf_hash(h.leaf.as_bytes()), &proof, &checkpoint.root)
        .map_err(|e| format!("the rotation is not in the checkpoint its old key signed: {e}"))?;
    let next = VerifierKey::parse(&r.next).map_err(|e| format!("the successor key: {e}"))?;
    Checkpoint::open(&h.transition, &next).map_err(|e| format!("the successor did not sign the transition: {e}"))?;
    Ok(Some(next))
}
