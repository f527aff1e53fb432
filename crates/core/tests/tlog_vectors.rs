//! The evidence log's Merkle proofs against an independent implementation's test vectors
//! (transparency-dev/merkle, see vectors/tlog/README.md): every good proof verifies, every
//! broken one is refused, and the proofs this log makes for the same trees are the same.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use sha2::Digest;
use tidings_core::evidence::tlog::{self, Frontier, Hash, Node, Span};

const REFERENCE_LEAVES: [&str; 8] =
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Inclusion {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    want_err: bool,
    file: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Consistency {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    want_err: bool,
    file: String,
}

/// A hash as the vectors write it; `None` when it is not 32 bytes, which a typed hash
/// cannot be (such a leaf or proof is refused, as the vectors expect).
fn hash(b64: &str) -> Option<Hash> {
    STANDARD.decode(b64).ok()?.try_into().ok()
}

/// A root in a consistency vector. Some broken ones hold values that are not 32 bytes
/// ("don't care"), and one expects two equal such roots of equal-sized trees to be
/// consistent; those become a hash of their bytes, so equal values stay equal and none can
/// pass for a real tree's root.
fn any_root(b64: &str) -> Option<Hash> {
    let bytes = STANDARD.decode(b64).ok()?;
    let stand_in = || sha2::Sha256::new().chain_update(b"not a hash").chain_update(&bytes).finalize().into();
    Some(bytes.as_slice().try_into().unwrap_or_else(|_| stand_in()))
}

fn proof(items: &Option<Vec<String>>) -> Option<Vec<Hash>> {
    items.iter().flatten().map(|h| hash(h)).collect()
}

fn reference_leaves() -> Vec<Hash> {
    REFERENCE_LEAVES.iter().map(|h| tlog::leaf_hash(&hex::decode(h).unwrap_or_default())).collect()
}

/// Our proof for the reference tree, from its complete subtrees as the store keeps them.
fn our_proof(spans: &[Span]) -> Vec<Hash> {
    let leaves = reference_leaves();
    let mut nodes = std::collections::HashMap::new();
    let mut frontier = Frontier::default();
    for (i, leaf) in leaves.iter().enumerate() {
        nodes.insert(Node { level: 0, index: i as u64 }, *leaf);
        frontier.append(*leaf, |node, hash| {
            nodes.insert(node, hash);
        });
    }
    spans.iter().map(|s| tlog::fold(&s.nodes().iter().map(|n| nodes[n]).collect::<Vec<_>>())).collect()
}

#[test]
fn inclusion_vectors() -> Result<(), Box<dyn std::error::Error>> {
    let vectors: Vec<Inclusion> = serde_json::from_str(include_str!("vectors/tlog/inclusion.json"))?;
    assert_eq!(vectors.len(), 98);
    for v in &vectors {
        let verdict = match (hash(&v.leaf_hash), hash(&v.root), proof(&v.proof)) {
            (Some(leaf), Some(root), Some(proof)) => {
                tlog::verify_inclusion(v.leaf_idx, v.tree_size, &leaf, &proof, &root)
            }
            _ => Err(tlog::ProofError::Mismatch),
        };
        assert_eq!(verdict.is_err(), v.want_err, "{}: {verdict:?}", v.file);
        if !v.want_err && !v.file.starts_with("single-entry") {
            let spans = tlog::inclusion_spans(v.leaf_idx, v.tree_size).unwrap_or_default();
            assert_eq!(Some(our_proof(&spans)), proof(&v.proof), "{}", v.file);
        }
    }
    Ok(())
}

#[test]
fn consistency_vectors() -> Result<(), Box<dyn std::error::Error>> {
    let vectors: Vec<Consistency> = serde_json::from_str(include_str!("vectors/tlog/consistency.json"))?;
    assert_eq!(vectors.len(), 98);
    for v in &vectors {
        let verdict = match (any_root(&v.root1), any_root(&v.root2), proof(&v.proof)) {
            (Some(old), Some(new), Some(proof)) => tlog::verify_consistency(v.size1, v.size2, &proof, &old, &new),
            _ => Err(tlog::ProofError::Mismatch),
        };
        assert_eq!(verdict.is_err(), v.want_err, "{}: {verdict:?}", v.file);
        if !v.want_err {
            let spans = tlog::consistency_spans(v.size1, v.size2).unwrap_or_default();
            assert_eq!(Some(our_proof(&spans)), proof(&v.proof), "{}", v.file);
        }
    }
    Ok(())
}

#[test]
fn roots_of_the_reference_tree() {
    let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    let mut frontier = Frontier::default();
    assert_eq!(hex::encode(frontier.root()), roots[0]);
    for (leaf, root) in reference_leaves().into_iter().zip(&roots[1..]) {
        frontier.append(leaf, |_, _| {});
        assert_eq!(hex::encode(frontier.root()), *root);
    }
}
