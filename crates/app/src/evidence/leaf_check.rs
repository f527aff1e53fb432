//! Checking one line of a pack's `leaves.jsonl` with nothing but the line and the
//! checkpoint: its inclusion proof, what it says about the message, its text and answers,
//! and the person it names against the commitments. Pure, so that `verify` checks a
//! chunk of lines on two threads and merges what they found in order.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tidings_core::MessageId;
use tidings_core::evidence::facts::{self, Committed, Fact, Leaf};
use tidings_core::evidence::tlog::{self, Hash};

use super::pack::PackedLeaf;

/// What every line is checked against.
pub(super) struct Context<'a> {
    pub size: u64,
    pub root: Hash,
    pub message: MessageId,
    /// The content hashes of the texts the pack carries, each checked already.
    pub texts: &'a HashSet<String>,
}

/// What one line showed.
#[derive(Default)]
pub(super) struct Checked {
    /// Where it is, for naming it: the file's line, and the leaf's position once known.
    pub at: String,
    /// The leaf's position, when the line reads as a leaf at all.
    pub position: Option<u64>,
    pub problems: Vec<String>,
    pub acknowledgment: bool,
    /// Its answers are there and hash to what the leaf binds.
    pub attestation: bool,
    /// `Some(true)`: names a person whose commitments it opened; `Some(false)`: an erased one.
    pub person: Option<bool>,
}

/// Checks the lines (numbered from 0) in two halves on two threads; the answers are in
/// the lines' order.
pub(super) fn check_all(lines: &[(usize, String)], context: &Context<'_>) -> Vec<Checked> {
    let (first, second) = lines.split_at(lines.len() / 2);
    std::thread::scope(|s| {
        let other = s.spawn(|| first.iter().map(|(n, l)| check(*n, l, context)).collect::<Vec<_>>());
        let mine: Vec<Checked> = second.iter().map(|(n, l)| check(*n, l, context)).collect();
        let mut all = other.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        all.extend(mine);
        all
    })
}

/// Checks line `n` (from 0).
pub(super) fn check(n: usize, line: &str, context: &Context<'_>) -> Checked {
    let mut out = Checked { at: format!("leaves.jsonl line {}", n + 1), ..Checked::default() };
    let packed: PackedLeaf = match serde_json::from_str(line) {
        Ok(p) => p,
        Err(e) => {
            out.problems.push(format!("{}: {e}", out.at));
            return out;
        }
    };
    out.at = format!("{} (position {})", out.at, packed.position);
    out.position = Some(packed.position);
    let at = out.at.clone();
    let proof: Option<Vec<Hash>> =
        packed.proof.iter().map(|h| STANDARD.decode(h).ok().and_then(|b| b.try_into().ok())).collect();
    let leaf_hash = tlog::leaf_hash(packed.leaf.as_bytes());
    match proof.map(|p| tlog::verify_inclusion(packed.position, context.size, &leaf_hash, &p, &context.root)) {
        Some(Ok(())) => {}
        Some(Err(e)) => out.problems.push(format!("{at}: the leaf is not in the checkpoint's tree: {e}")),
        None => out.problems.push(format!("{at}: the proof holds a value that is not a hash")),
    }
    let leaf = match Leaf::parse(&packed.leaf) {
        Ok(l) => l,
        Err(e) => {
            out.problems.push(format!("{at}: the leaf does not read: {e}"));
            return out;
        }
    };
    if leaf.fact.message() != Some(context.message) {
        out.problems.push(format!("{at}: the leaf is about another message"));
    }
    if let Fact::Acknowledged(a) = &leaf.fact {
        out.acknowledgment = true;
        if !context.texts.contains(&a.content_hash) {
            out.problems.push(format!("{at}: the acknowledged text {} is not in texts.jsonl", a.content_hash));
        }
        // The answers stand beside the leaf, which holds their hash.
        match (&a.attestation, &packed.answers) {
            (Some(hash), Some(answers)) if answers.hash() == *hash => out.attestation = true,
            (Some(_), Some(_)) => out.problems.push(format!("{at}: the answers are not the ones the leaf binds")),
            (Some(_), None) => out.problems.push(format!("{at}: the leaf binds answers that the pack lacks")),
            (None, Some(_)) => out.problems.push(format!("{at}: answers beside a leaf that binds none")),
            (None, None) => {}
        }
    }
    let Some(committed) = leaf.fact.member() else { return out };
    let Some(p) = &packed.person else {
        out.person = Some(false);
        return out;
    };
    out.person = Some(true);
    let Some(salt) = hex::decode(&p.salt).ok().and_then(|s| <[u8; 32]>::try_from(s).ok()) else {
        out.problems.push(format!("{at}: the salt is not 32 bytes of hex"));
        return out;
    };
    if facts::commitment(&salt, Committed::Member, p.member_id) != committed {
        out.problems.push(format!("{at}: the member named is not the one committed to"));
    }
    if let Fact::Acknowledged(a) = &leaf.fact {
        if facts::commitment(&salt, Committed::Partner, p.partner_id) != a.partner {
            out.problems.push(format!("{at}: the partner named is not the one committed to"));
        }
        if facts::origin_commitment(&salt, p.ip.as_deref(), p.user_agent.as_deref()) != a.origin {
            out.problems.push(format!("{at}: the IP address or user agent is not the one committed to"));
        }
    }
    out
}
