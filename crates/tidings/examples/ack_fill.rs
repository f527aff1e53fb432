//! Sets up the evidence pack benchmark (`bench/evidence_pack.sh`): every member with a
//! copy of a released must-know message acknowledges it, through the same path as the
//! inbox API (`tidings_app::inbox::acknowledge` and its group-committing writer), many at
//! a time, without HTTP in between. Prints how many and how long.
//!
//!   ack_fill DATABASE_URL MESSAGE_ID

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use tidings_app::evidence::record::AckContext;
use tidings_app::inbox::Origin;
use tidings_app::{App, AppError};
use tidings_core::{Catalog, MessageId};
use tidings_store::members::MemberFilter;
use tokio::sync::Semaphore;

/// Acknowledgments in flight at once: enough to fill the writer's commits.
const IN_FLIGHT: usize = 512;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, message] = args.as_slice() else { bail!("usage: ack_fill DATABASE_URL MESSAGE_ID") };
    let id: MessageId = message.parse().context("MESSAGE_ID")?;
    let app = App::new(tidings_store::Db::connect(url).await?, Catalog::default());
    let start = Instant::now();
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut running = tokio::task::JoinSet::new();
    let (mut after, mut hash, mut sent, mut created) = (None::<String>, None::<String>, 0u64, 0u64);
    loop {
        let page = {
            let mut tx = app.db.read().await?;
            tidings_store::members::list(&mut tx, &MemberFilter::default(), after.as_deref(), Some(1000)).await?
        };
        for member in page.items {
            let seen = match &hash {
                Some(h) => h.clone(),
                None => {
                    let shown = tidings_app::inbox::view(&app, &member, id, &Origin::default()).await?;
                    hash.insert(shown.rendered.content_hash).clone()
                }
            };
            let permit = permits.clone().acquire_owned().await?;
            let app = app.clone();
            running.spawn(async move {
                let (given, origin) = (Default::default(), Origin::default());
                let done = tidings_app::inbox::acknowledge(&app, &member, id, &seen, &given, &origin, AckContext::API);
                let outcome = done.await;
                drop(permit);
                match outcome {
                    Ok(o) => Ok(u64::from(o.created)),
                    // No copy (a disabled member): nothing to acknowledge.
                    Err(AppError::NotFound(_)) => Ok(0),
                    Err(e) => Err(e),
                }
            });
            sent += 1;
            while let Some(done) = running.try_join_next() {
                created += done??;
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    for done in running.join_all().await {
        created += done?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{created} of {sent} members acknowledged in {secs:.1} s ({:.0} a second)", created as f64 / secs);
    Ok(())
}
