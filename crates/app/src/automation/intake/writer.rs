//! The event writer (a [`GroupWriter`]): each request's events, checked and resolved, are
//! stored with whatever other requests brought meanwhile, in one transaction with their
//! queued triggers.

use std::future::Future;
use std::sync::Arc;

use tidings_store::Db;
use tidings_store::partner_events::{self as store, NewPartnerEvent, Stored};

use crate::AppError;
use crate::group_commit::{Committer, GroupWriter};

/// Writes groups of requests' events.
#[derive(Clone)]
pub struct EventCommit {
    pub(crate) db: Db,
}

impl Committer for EventCommit {
    /// One request's events.
    type Work = Vec<Arc<NewPartnerEvent>>;
    /// What each of them came to.
    type Outcome = Vec<Stored>;
    const MOST: usize = super::MOST_PER_BATCH;
    const WHAT: &'static str = "event";

    fn size(work: &Vec<Arc<NewPartnerEvent>>) -> usize {
        work.len()
    }

    fn commit(
        &self,
        group: &[Vec<Arc<NewPartnerEvent>>],
    ) -> impl Future<Output = Result<Vec<Vec<Stored>>, AppError>> + Send {
        commit(&self.db, group)
    }
}

/// Group-commits events.
pub type EventWriter = GroupWriter<EventCommit>;

async fn commit(db: &Db, group: &[Vec<Arc<NewPartnerEvent>>]) -> Result<Vec<Vec<Stored>>, AppError> {
    let all: Vec<&NewPartnerEvent> = group.iter().flatten().map(|e| &**e).collect();
    let mut tx = db.begin().await?;
    let mut stored = store::insert_many(&mut tx, &all).await?.into_iter();
    tx.commit().await?;
    Ok(group.iter().map(|events| stored.by_ref().take(events.len()).collect()).collect())
}
