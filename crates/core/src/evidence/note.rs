//! Signed notes (c2sp.org/signed-note) with Ed25519 keys, and the log checkpoints they
//! carry (c2sp.org/tlog-checkpoint). Keys are written the way the Go reference
//! (golang.org/x/mod/sumdb/note) writes them, so any checkpoint tool reads them:
//! `name+keyid+base64(0x01 || public key)` for a verifier, and the same behind
//! `PRIVATE+KEY+` with the seed for a signer.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::tlog::Hash;

/// The algorithm byte of an Ed25519 key in a note key.
const ED25519: u8 = 1;
const DASH: &str = "\u{2014} ";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("a key name must be non-empty, without spaces or '+'")]
    BadName,
    #[error("not a key of the form name+keyid+key")]
    BadKey,
    #[error("a note's text must be UTF-8 lines, each ending in a newline, without control characters")]
    BadText,
    #[error("not a signed note: no signature block")]
    Malformed,
    #[error("the note carries no signature by {0}")]
    Unsigned(String),
    #[error("the signature by {0} does not match the note's text")]
    BadSignature(String),
    #[error("not a checkpoint: {0}")]
    BadCheckpoint(&'static str),
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+' || c.is_control()) {
        return Err(NoteError::BadName);
    }
    Ok(())
}

fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n")
        .chain_update([ED25519])
        .chain_update(public)
        .finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// Splits `name+keyid+base64(0x01 || key)` into the name, the key id and the key.
fn parse_key(text: &str) -> Result<(&str, &str, [u8; 32]), NoteError> {
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::BadKey);
    };
    check_name(name)?;
    let bytes = STANDARD.decode(key).map_err(|_| NoteError::BadKey)?;
    let [alg, rest @ ..] = bytes.as_slice() else { return Err(NoteError::BadKey) };
    let key: [u8; 32] = rest.try_into().map_err(|_| NoteError::BadKey)?;
    if *alg != ED25519 {
        return Err(NoteError::BadKey);
    }
    Ok((name, id, key))
}

/// Who signs checkpoints: a name and an Ed25519 key.
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerKey").field("name", &self.name).finish_non_exhaustive()
    }
}

impl SignerKey {
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        Ok(Self { name: name.to_owned(), key: SigningKey::from_bytes(&seed) })
    }

    /// Reads `PRIVATE+KEY+name+keyid+base64(0x01 || seed)`.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let rest = text.trim().strip_prefix("PRIVATE+KEY+").ok_or(NoteError::BadKey)?;
        let (name, id, seed) = parse_key(rest)?;
        let signer = Self::from_seed(name, seed)?;
        if hex::encode(key_id(name, &signer.key.verifying_key().to_bytes())) != id {
            return Err(NoteError::BadKey);
        }
        Ok(signer)
    }

    /// The secret form, for the key file.
    pub fn encode(&self) -> String {
        let seed = self.key.to_bytes();
        let public = self.key.verifying_key().to_bytes();
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(&seed);
        format!("PRIVATE+KEY+{}+{}+{}", self.name, hex::encode(key_id(&self.name, &public)), STANDARD.encode(bytes))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn verifier(&self) -> VerifierKey {
        VerifierKey { name: self.name.clone(), key: self.key.verifying_key() }
    }

    /// The signed note of `text`, which must be lines each ending in a newline.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        check_text(text)?;
        let signature = self.key.sign(text.as_bytes());
        let mut blob = key_id(&self.name, &self.key.verifying_key().to_bytes()).to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        Ok(format!("{text}\n{DASH}{} {}\n", self.name, STANDARD.encode(blob)))
    }

    /// `note` with this key's signature added beside those it has: a checkpoint signed by
    /// the key being retired and by its successor.
    pub fn cosign(&self, note: &str) -> Result<String, NoteError> {
        let split = note.rfind("\n\n").ok_or(NoteError::Malformed)?;
        let signed = self.sign(&note[..split + 1])?;
        let own = &signed[split + 2..];
        Ok(format!("{note}{own}"))
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::BadText);
    }
    Ok(())
}

/// Who can check a checkpoint: the signer's name and public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key: VerifyingKey,
}

impl VerifierKey {
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let text = text.trim();
        let (name, id, public) = parse_key(text)?;
        if hex::encode(key_id(name, &public)) != id {
            return Err(NoteError::BadKey);
        }
        let key = VerifyingKey::from_bytes(&public).map_err(|_| NoteError::BadKey)?;
        Ok(Self { name: name.to_owned(), key })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `name+keyid+base64(0x01 || public key)`.
    pub fn encode(&self) -> String {
        let public = self.key.to_bytes();
        let mut bytes = vec![ED25519];
        bytes.extend_from_slice(&public);
        format!("{}+{}+{}", self.name, hex::encode(key_id(&self.name, &public)), STANDARD.encode(bytes))
    }

    /// The text of `note` if one of its signatures is this key's and holds; signatures by
    /// other keys are passed over, as the spec asks.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        let split = note.rfind("\n\n").ok_or(NoteError::Malformed)?;
        let (text, signatures) = (&note[..split + 1], &note[split + 2..]);
        check_text(text)?;
        if signatures.is_empty() || !signatures.ends_with('\n') {
            return Err(NoteError::Malformed);
        }
        let id = key_id(&self.name, &self.key.to_bytes());
        let mut found = false;
        for line in signatures.lines() {
            let line = line.strip_prefix(DASH).ok_or(NoteError::Malformed)?;
            let (name, blob) = line.split_once(' ').ok_or(NoteError::Malformed)?;
            let blob = STANDARD.decode(blob).map_err(|_| NoteError::Malformed)?;
            if name != self.name || blob.len() < 4 || blob[..4] != id {
                continue;
            }
            let signature =
                Signature::from_slice(&blob[4..]).map_err(|_| NoteError::BadSignature(self.name.clone()))?;
            self.key.verify(text.as_bytes(), &signature).map_err(|_| NoteError::BadSignature(self.name.clone()))?;
            found = true;
        }
        if found { Ok(text) } else { Err(NoteError::Unsigned(self.name.clone())) }
    }
}

/// A log's signed statement of its size and root (c2sp.org/tlog-checkpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's unique name, such as `tidings.example.com/evidence/3f9c01aa`.
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, STANDARD.encode(self.root))
    }

    /// Reads a checkpoint's text (the note without its signatures); extension lines, which
    /// this log does not write, are ignored.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let mut lines = text.lines();
        let origin = lines.next().filter(|o| !o.is_empty()).ok_or(NoteError::BadCheckpoint("no origin"))?;
        let size = lines.next().ok_or(NoteError::BadCheckpoint("no size"))?;
        if size.is_empty() || (size.len() > 1 && size.starts_with('0')) || !size.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NoteError::BadCheckpoint("the size is not a decimal number"));
        }
        let size = size.parse().map_err(|_| NoteError::BadCheckpoint("the size is too large"))?;
        let root = lines.next().ok_or(NoteError::BadCheckpoint("no root hash"))?;
        let root = STANDARD.decode(root).map_err(|_| NoteError::BadCheckpoint("the root hash is not base64"))?;
        let root = root.try_into().map_err(|_| NoteError::BadCheckpoint("the root hash is not 32 bytes"))?;
        Ok(Self { origin: origin.to_owned(), size, root })
    }

    pub fn sign(&self, key: &SignerKey) -> Result<String, NoteError> {
        key.sign(&self.body())
    }

    /// Checks `note`'s signature by `key` and reads the checkpoint in it.
    pub fn open(note: &str, key: &VerifierKey) -> Result<Self, NoteError> {
        Self::parse(key.open(note)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cosigned_note_opens_with_either_key() -> Result<(), NoteError> {
        let old = SignerKey::from_seed("example.com/log", [1; 32])?;
        let new = SignerKey::from_seed("example.com/log", [2; 32])?;
        let checkpoint = Checkpoint { origin: "example.com/log".into(), size: 3, root: [7; 32] };
        let note = new.cosign(&checkpoint.sign(&old)?)?;
        assert_eq!(Checkpoint::open(&note, &old.verifier())?, checkpoint);
        assert_eq!(Checkpoint::open(&note, &new.verifier())?, checkpoint);
        assert_eq!(note.matches("\u{2014} example.com/log ").count(), 2);
        let other = SignerKey::from_seed("example.com/log", [3; 32])?;
        assert!(Checkpoint::open(&note, &other.verifier()).is_err());
        Ok(())
    }

    // The example of golang.org/x/mod/sumdb/note, the format's reference implementation.
    const GO_SIGNER: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const GO_VERIFIER: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const GO_TEXT: &str =
        "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const GO_NOTE: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    // The example of c2sp.org/signed-note.
    const SPEC_VERIFIER: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    #[test]
    fn signs_and_encodes_keys_byte_for_byte_as_the_reference() -> Result<(), NoteError> {
        let signer = SignerKey::parse(GO_SIGNER)?;
        assert_eq!(signer.encode(), GO_SIGNER);
        assert_eq!(signer.verifier().encode(), GO_VERIFIER);
        assert_eq!(signer.sign(GO_TEXT)?, GO_NOTE);
        assert_eq!(VerifierKey::parse(GO_VERIFIER)?.open(GO_NOTE)?, GO_TEXT);
        Ok(())
    }

    #[test]
    fn opens_the_specs_example_and_refuses_a_changed_one() -> Result<(), NoteError> {
        let key = VerifierKey::parse(SPEC_VERIFIER)?;
        assert_eq!(key.open(SPEC_NOTE)?, "This is an example message.\n");
        let changed = SPEC_NOTE.replace("example message", "exemplary message");
        assert_eq!(key.open(&changed), Err(NoteError::BadSignature("example.com/foo".into())));
        let other = VerifierKey::parse(GO_VERIFIER)?;
        assert_eq!(other.open(SPEC_NOTE), Err(NoteError::Unsigned("PeterNeumann".into())));
        Ok(())
    }

    #[test]
    fn a_key_whose_id_does_not_match_is_refused() {
        assert_eq!(VerifierKey::parse(&GO_VERIFIER.replace("c74f20a3", "c74f20a4")), Err(NoteError::BadKey));
        assert_eq!(SignerKey::parse(&GO_SIGNER.replace("c74f20a3", "00000000")).err(), Some(NoteError::BadKey));
    }

    #[test]
    fn checkpoints_round_trip_and_carry_their_signature() -> Result<(), NoteError> {
        let signer = SignerKey::from_seed("tidings.example/evidence/1", [7; 32])?;
        let checkpoint = Checkpoint { origin: "tidings.example/evidence/1".into(), size: 8, root: [9; 32] };
        let note = checkpoint.sign(&signer)?;
        assert!(note.starts_with("tidings.example/evidence/1\n8\nCQkJ"));
        assert_eq!(Checkpoint::open(&note, &signer.verifier())?, checkpoint);
        let forged = note.replacen("\n8\n", "\n9\n", 1);
        assert!(Checkpoint::open(&forged, &signer.verifier()).is_err());
        assert!(Checkpoint::parse("origin\n08\nCQ==\n").is_err());
        Ok(())
    }
}
