//! `tidings evidence`: the evidence log's public key, checkpoints, packs for auditors, and
//! the checks of both (docs/evidence.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use tidings_app::evidence::{self, audit, pack};
use tidings_app::{App, Caller};
use tidings_core::MessageId;

use super::channels::partner;
use super::fail;

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Print the public key that checks this instance's checkpoints: give it to auditors,
    /// who check packs against their own copy. With --all, every key the log has had,
    /// oldest first.
    Key {
        #[arg(long)]
        all: bool,
    },
    /// Replace the signing key: the rotation is a leaf of the log, and the checkpoint that
    /// first holds it is signed by both keys, so auditors holding the old key are led to
    /// the new one. Prints the new public key.
    RotateKey,
    /// Place every waiting entry in the log and sign a checkpoint now (the worker does it
    /// every few seconds).
    Checkpoint,
    /// Write the evidence pack of a message (or of one partner's part of it) into a new
    /// directory: its leaves with proofs to a signed checkpoint, the texts acknowledged,
    /// who each leaf names (unless erased), and a readable report.
    Export {
        message: MessageId,
        /// Only this partner's members (id or external id).
        #[arg(long)]
        partner: Option<String>,
        /// The directory to write (new, or empty).
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Check an evidence pack: every proof, signature and text hash. Needs no database.
    Verify {
        /// The pack's directory.
        pack: PathBuf,
        /// The public key to check the checkpoint with (`tidings evidence key`); without
        /// it, the pack's own key.txt is used, which proves less.
        #[arg(long)]
        key: Option<String>,
    },
    /// Check the whole log against its signed checkpoints and the database's rows.
    Audit,
}

/// `verify` alone: it must run where no database is.
pub fn verify(pack_dir: &Path, key: Option<&str>) -> anyhow::Result<ExitCode> {
    let found = pack::verify(pack_dir, key).map_err(fail)?;
    println!(
        "checkpoint of {} leaves, signature good ({})",
        found.checkpoint_size,
        if found.own_key { "checked with the key given" } else { "checked with the pack's own key.txt: pass --key" }
    );
    if found.keys_followed > 0 {
        println!("{} key rotations followed from the key given to the one that signed", found.keys_followed);
    }
    println!(
        "{} leaves ({} acknowledgments), {} texts, {} people named, {} erased",
        found.leaves, found.acknowledgments, found.texts, found.people, found.erased
    );
    if found.problems.is_empty() {
        println!("every proof holds");
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &found.problems {
        eprintln!("{problem}");
    }
    eprintln!("{} problems: this pack does not prove what it says", found.problems.len());
    Ok(ExitCode::FAILURE)
}

pub async fn run(app: &App, command: EvidenceCommand) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    match command {
        EvidenceCommand::Key { all: false } => println!("{}", evidence::public_key(app).await.map_err(fail)?.encode()),
        EvidenceCommand::Key { all: true } => {
            for key in evidence::keys::history(app).await.map_err(fail)? {
                println!("{}", key.encode());
            }
        }
        EvidenceCommand::RotateKey => {
            let done = evidence::keys::rotate(app, &caller).await.map_err(fail)?;
            println!("{}", done.next);
            eprintln!(
                "rotated: the checkpoint of {} leaves is signed by the retired key {} and by the new one above; \
                 packs lead auditors holding the retired key to the new one",
                done.checkpoint_size, done.previous
            );
        }
        EvidenceCommand::Checkpoint => match evidence::seal(app).await.map_err(fail)? {
            Some(c) => print!("{}", c.note),
            None => println!("the log is empty: nothing to sign yet"),
        },
        EvidenceCommand::Export { message, partner: name, out } => {
            let partner = match name {
                Some(name) => Some(partner(app, &caller, &name).await?),
                None => None,
            };
            let done = pack::export(app, &caller, message, partner, &out).await.map_err(fail)?;
            println!(
                "{}: {} leaves, {} texts, proven to the checkpoint of {} leaves",
                done.dir.display(),
                done.manifest.leaves,
                done.manifest.texts,
                done.manifest.checkpoint_size
            );
        }
        EvidenceCommand::Verify { pack: dir, key } => return verify(&dir, key.as_deref()),
        EvidenceCommand::Audit => {
            let found = audit::audit(app, &caller).await.map_err(fail)?;
            println!(
                "{} leaves ({} acknowledgments), {} checkpoints, {} texts; {} waiting to be placed; \
                 {} acknowledgments from before the log began",
                found.leaves, found.acknowledgments, found.checkpoints, found.texts, found.waiting, found.before_log
            );
            if found.problems.is_empty() {
                println!("the log, its checkpoints and the database agree");
                return Ok(ExitCode::SUCCESS);
            }
            for problem in &found.problems {
                eprintln!("{problem}");
            }
            eprintln!("{} problems", found.problem_count);
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}
