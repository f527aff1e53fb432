//! The evidence log's Merkle tree, hashed as RFC 9162 section 2.1 (RFC 6962) says, so that
//! any transparency-log tool can check its proofs: a leaf is `SHA-256(0x00 || data)`, an
//! inner node `SHA-256(0x01 || left || right)`, and a tree of `n` leaves splits at the
//! largest power of two below `n`.
//!
//! Proofs are described as spans of leaves whose hashes they carry, so that the store can
//! look those hashes up in its table of complete subtrees and the code here stays pure.

use sha2::{Digest, Sha256};
use thiserror::Error;

pub type Hash = [u8; 32];

pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new().chain_update([0u8]).chain_update(data).finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new().chain_update([1u8]).chain_update(left).chain_update(right).finalize().into()
}

/// The root of the tree with no leaves: the hash of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// A complete subtree: the `2^level` leaves from `index << level` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    pub level: u8,
    pub index: u64,
}

impl Node {
    pub fn first_leaf(self) -> u64 {
        self.index << self.level
    }

    pub fn leaves(self) -> u64 {
        1 << self.level
    }
}

/// The leaves `start..end` of a tree, where `start` is a multiple of the largest power of
/// two not above `end - start`: every span a proof carries is one, and its hash is the
/// RFC's `MTH` of those leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

impl Span {
    /// The complete subtrees the span is made of, left to right (largest first).
    pub fn nodes(self) -> Vec<Node> {
        let mut out = Vec::new();
        let mut at = self.start;
        while at < self.end {
            let room = self.end - at;
            let mut level = 63 - room.leading_zeros() as u8;
            if at != 0 {
                level = level.min(at.trailing_zeros() as u8);
            }
            out.push(Node { level, index: at >> level });
            at += 1 << level;
        }
        out
    }
}

/// Every complete subtree made only of the given leaves (position and leaf hash, in
/// increasing position), with its hash: what a run of neighbouring leaves proves about
/// itself, so that only the subtrees beside the run need looking up.
pub fn subtrees_of(leaves: &[(u64, Hash)]) -> std::collections::HashMap<Node, Hash> {
    let mut known: std::collections::HashMap<Node, Hash> =
        leaves.iter().map(|(index, hash)| (Node { level: 0, index: *index }, *hash)).collect();
    let mut level: Vec<(u64, Hash)> = leaves.to_vec();
    for height in 0u8..63 {
        let mut up = Vec::with_capacity(level.len() / 2);
        for pair in level.windows(2) {
            let ((left, l), (right, r)) = (pair[0], pair[1]);
            if left % 2 == 0 && right == left + 1 {
                up.push((left / 2, node_hash(&l, &r)));
            }
        }
        if up.is_empty() {
            break;
        }
        for (index, hash) in &up {
            known.insert(Node { level: height + 1, index: *index }, *hash);
        }
        level = up;
    }
    known
}

/// The hash of a span from the hashes of its `nodes()`, in their order.
pub fn fold(nodes: &[Hash]) -> Hash {
    let mut iter = nodes.iter().rev();
    let Some(last) = iter.next() else {
        return empty_root();
    };
    iter.fold(*last, |right, left| node_hash(left, &right))
}

/// The largest power of two strictly below `n` (for `n >= 2`): where RFC 9162 splits.
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The spans whose hashes prove leaf `index` is in the tree of `size` leaves (RFC 9162
/// 2.1.3.1), from the leaf's sibling up; `None` when the leaf is not in that tree.
pub fn inclusion_spans(index: u64, size: u64) -> Option<Vec<Span>> {
    if index >= size {
        return None;
    }
    let mut spans = Vec::new();
    let (mut m, mut start, mut n) = (index, 0, size);
    while n > 1 {
        let k = split(n);
        if m < k {
            spans.push(Span { start: start + k, end: start + n });
            n = k;
        } else {
            spans.push(Span { start, end: start + k });
            m -= k;
            start += k;
            n -= k;
        }
    }
    spans.reverse();
    Some(spans)
}

/// The spans whose hashes prove the tree of `old` leaves is a prefix of the tree of `new`
/// leaves (RFC 9162 2.1.4.1); empty when the sizes are equal, `None` when `old` is 0 or
/// larger than `new`.
pub fn consistency_spans(old: u64, new: u64) -> Option<Vec<Span>> {
    if old == 0 || old > new {
        return None;
    }
    let mut spans = Vec::new();
    let (mut m, mut start, mut n, mut whole) = (old, 0, new, true);
    while m != n {
        let k = split(n);
        if m <= k {
            spans.push(Span { start: start + k, end: start + n });
            n = k;
        } else {
            spans.push(Span { start, end: start + k });
            m -= k;
            start += k;
            n -= k;
            whole = false;
        }
    }
    if !whole {
        spans.push(Span { start, end: start + n });
    }
    spans.reverse();
    Some(spans)
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProofError {
    #[error("leaf {index} is not in a tree of {size}")]
    OutOfRange { index: u64, size: u64 },
    #[error("a tree of {old} cannot be proven a prefix of a tree of {new}")]
    BadSizes { old: u64, new: u64 },
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof does not lead to the expected root")]
    Mismatch,
}

/// Checks an inclusion proof (RFC 9162 2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::OutOfRange { index, size });
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

/// Checks a consistency proof (RFC 9162 2.1.4.2): the tree of `old` leaves with root
/// `old_root` is a prefix of the tree of `new` leaves with root `new_root`.
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), ProofError> {
    if old == 0 || old > new {
        return Err(ProofError::BadSizes { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root { Ok(()) } else { Err(ProofError::Mismatch) };
    }
    let mut path: Vec<&Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(old_root);
    }
    path.extend(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (**first, **first);
    for c in rest {
        if s == 0 {
            return Err(ProofError::WrongLength);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

/// The right edge of a growing tree: the hashes of its complete subtrees, largest first,
/// which is all that appending a leaf or computing the root needs. Appending reports each
/// inner node it completes, for the store to keep for proofs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    /// A frontier as kept: `nodes` must be one hash per bit set in `size`.
    pub fn from_parts(size: u64, nodes: Vec<Hash>) -> Option<Self> {
        (nodes.len() == size.count_ones() as usize).then_some(Self { size, nodes })
    }

    /// The complete subtrees the frontier holds, largest first.
    pub fn edge(size: u64) -> Vec<Node> {
        Span { start: 0, end: size }.nodes()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    pub fn append(&mut self, leaf: Hash, mut completed: impl FnMut(Node, Hash)) {
        let index = self.size;
        let mut hash = leaf;
        let mut level = 0u8;
        while (index >> level) & 1 == 1 {
            let Some(left) = self.nodes.pop() else { break };
            hash = node_hash(&left, &hash);
            level += 1;
            completed(Node { level, index: index >> level }, hash);
        }
        self.nodes.push(hash);
        self.size += 1;
    }

    pub fn root(&self) -> Hash {
        fold(&self.nodes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Every complete subtree's hash, as the store keeps them, from leaf hashes.
    fn all_nodes(leaves: &[Hash]) -> HashMap<Node, Hash> {
        let mut nodes = HashMap::new();
        let mut frontier = Frontier::default();
        for (i, leaf) in leaves.iter().enumerate() {
            nodes.insert(Node { level: 0, index: i as u64 }, *leaf);
            frontier.append(*leaf, |node, hash| {
                nodes.insert(node, hash);
            });
        }
        nodes
    }

    /// The RFC's `MTH` as written, recursively, to hold the rest to.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    proptest! {
        /// The subtrees a run of leaves makes are the stored ones, and all of them.
        #[test]
        fn subtrees_of_a_run_are_the_complete_subtrees_inside_it(size in 1u64..300, a in 0u64..300, b in 0u64..300) {
            let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            let all = all_nodes(&leaves);
            let (start, end) = (a.min(b) % size, (a.max(b) % size) + 1);
            let run: Vec<(u64, Hash)> = (start..end.max(start + 1)).map(|i| (i, leaves[i as usize])).collect();
            let made = subtrees_of(&run);
            let inside = |n: &Node| n.first_leaf() >= start && n.first_leaf() + n.leaves() <= end.max(start + 1);
            for (node, hash) in &made {
                prop_assert!(inside(node));
                prop_assert_eq!(all.get(node), Some(hash));
            }
            for node in all.keys().filter(|n| inside(n)) {
                prop_assert!(made.contains_key(node), "{:?} is missing", node);
            }
        }
    }

    fn hashes(nodes: &HashMap<Node, Hash>, spans: &[Span]) -> Vec<Hash> {
        spans.iter().map(|s| fold(&s.nodes().iter().map(|n| nodes[n]).collect::<Vec<_>>())).collect()
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&(i as u64).to_be_bytes())).collect()
    }

    #[test]
    fn spans_are_what_the_rfc_recursion_hashes() {
        let all = leaves(70);
        let nodes = all_nodes(&all);
        for size in 1..=70u64 {
            let tree = &all[..size as usize];
            for index in 0..size {
                for (span, hash) in inclusion_spans(index, size)
                    .into_iter()
                    .flatten()
                    .zip(hashes(&nodes, &inclusion_spans(index, size).unwrap_or_default()))
                {
                    assert_eq!(hash, mth(&tree[span.start as usize..span.end as usize]), "{span:?}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn every_proof_verifies_and_a_changed_one_does_not(size in 1u64..300, index in 0u64..300, old in 1u64..300, flip in 0usize..64) {
            let all = leaves(size as usize);
            let nodes = all_nodes(&all);
            let mut frontier = Frontier::default();
            for leaf in &all {
                frontier.append(*leaf, |_, _| {});
            }
            let root = frontier.root();
            prop_assert_eq!(root, mth(&all));
            let index = index % size;
            let proof = hashes(&nodes, &inclusion_spans(index, size).unwrap_or_default());
            prop_assert_eq!(verify_inclusion(index, size, &all[index as usize], &proof, &root), Ok(()));
            if !proof.is_empty() {
                let mut bad = proof.clone();
                let at = flip % bad.len();
                bad[at][0] ^= 1;
                prop_assert!(verify_inclusion(index, size, &all[index as usize], &bad, &root).is_err());
            }
            prop_assert!(verify_inclusion(index, size, &leaf_hash(b"other"), &proof, &root).is_err());

            let old = (old % size) + 1;
            let old_root = mth(&all[..old as usize]);
            let proof = hashes(&nodes, &consistency_spans(old, size).unwrap_or_default());
            prop_assert_eq!(verify_consistency(old, size, &proof, &old_root, &root), Ok(()));
            if !proof.is_empty() {
                let mut bad = proof.clone();
                let at = flip % bad.len();
                bad[at][31] ^= 0x80;
                prop_assert!(verify_consistency(old, size, &bad, &old_root, &root).is_err());
            }
        }
    }

    #[test]
    fn a_frontier_reports_each_completed_node_once() {
        let mut seen = Vec::new();
        let mut frontier = Frontier::default();
        for leaf in leaves(8) {
            frontier.append(leaf, |node, _| seen.push(node));
        }
        let want: Vec<Node> = [(1, 0), (1, 1), (2, 0), (1, 2), (1, 3), (2, 1), (3, 0)]
            .into_iter()
            .map(|(level, index)| Node { level, index })
            .collect();
        assert_eq!(seen.len(), 7);
        assert!(want.iter().all(|n| seen.contains(n)));
        assert_eq!(Frontier::edge(6), vec![Node { level: 2, index: 0 }, Node { level: 1, index: 2 }]);
    }
}
