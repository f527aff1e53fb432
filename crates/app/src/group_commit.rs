//! A writer that group-commits: one task takes everything that arrived while it was
//! committing the last group, writes it in one transaction with a few statements for the
//! whole group, and answers each request only after that commit. One durable commit costs
//! about a millisecond however much it holds (../shared/PERFORMANCE.md), so under load a
//! commit carries many requests' rows, and alone a request waits for nobody.
//!
//! A group that fails is written again one request at a time, so that one bad request
//! cannot refuse the others.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use crate::AppError;

/// Requests waiting for the writer at most; more wait to be queued.
const QUEUE: usize = 8192;

/// What a writer writes and how.
pub trait Committer: Clone + Send + Sync + 'static {
    /// One request's rows, checked and ready.
    type Work: Send + Sync + 'static;
    /// What one request is answered.
    type Outcome: Send + 'static;
    /// The most rows one commit carries (a request alone may carry more).
    const MOST: usize;
    /// What the writer writes, for errors: "acknowledgment".
    const WHAT: &'static str;

    /// How many rows a request holds.
    fn size(_work: &Self::Work) -> usize {
        1
    }

    /// Writes the group in one transaction: one outcome per request, in order.
    fn commit(&self, group: &[Self::Work]) -> impl Future<Output = Result<Vec<Self::Outcome>, AppError>> + Send;
}

struct Pending<C: Committer> {
    work: C::Work,
    answer: oneshot::Sender<Result<C::Outcome, AppError>>,
}

/// The handle to a writer, started on first use (in whatever runtime uses it, and again if
/// that runtime has gone). It stops once every handle is dropped.
pub struct GroupWriter<C: Committer>(Arc<Mutex<Option<mpsc::Sender<Pending<C>>>>>);

impl<C: Committer> Default for GroupWriter<C> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<C: Committer> Clone for GroupWriter<C> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<C: Committer> std::fmt::Debug for GroupWriter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GroupWriter({})", C::WHAT)
    }
}

impl<C: Committer> GroupWriter<C> {
    /// Writes the request's rows (with `committer`, when the writer has to start) and
    /// answers after the commit that holds them.
    pub(crate) async fn write(&self, committer: &C, work: C::Work) -> Result<C::Outcome, AppError> {
        let (answer, answered) = oneshot::channel();
        let mut pending = Pending { work, answer };
        for _ in 0..2 {
            let queue = self.queue(committer, false);
            match queue.send(pending).await {
                Ok(()) => {
                    return answered.await.map_err(|_| stopped(format!("the {} writer stopped", C::WHAT)))?;
                }
                // The runtime that ran the writer has ended: start another here.
                Err(mpsc::error::SendError(back)) => {
                    pending = back;
                    self.queue(committer, true);
                }
            }
        }
        Err(stopped(format!("the {} writer does not start", C::WHAT)))
    }

    fn queue(&self, committer: &C, restart: bool) -> mpsc::Sender<Pending<C>> {
        let mut slot = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match slot.as_ref() {
            Some(queue) if !restart && !queue.is_closed() => queue.clone(),
            _ => {
                let (queue, arrivals) = mpsc::channel(QUEUE);
                tokio::spawn(run(committer.clone(), arrivals));
                *slot = Some(queue.clone());
                queue
            }
        }
    }
}

fn stopped(why: String) -> AppError {
    AppError::Unexpected(anyhow::anyhow!(why))
}

async fn run<C: Committer>(committer: C, mut arrivals: mpsc::Receiver<Pending<C>>) {
    while let Some(first) = arrivals.recv().await {
        let mut rows = C::size(&first.work);
        let mut group = vec![first];
        while rows < C::MOST {
            match arrivals.try_recv() {
                Ok(next) => {
                    rows += C::size(&next.work);
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        let (work, answers): (Vec<C::Work>, Vec<_>) = group.into_iter().map(|p| (p.work, p.answer)).unzip();
        match committer.commit(&work).await {
            Ok(outcomes) => {
                for (answer, outcome) in answers.into_iter().zip(outcomes) {
                    let _ = answer.send(Ok(outcome));
                }
            }
            Err(e) if work.len() == 1 => {
                if let Some(answer) = answers.into_iter().next() {
                    let _ = answer.send(Err(e));
                }
            }
            Err(_) => {
                for (one, answer) in work.iter().zip(answers) {
                    let outcome = committer.commit(std::slice::from_ref(one)).await.and_then(|mut o| {
                        o.pop().ok_or_else(|| stopped(format!("the {} writer wrote nothing", C::WHAT)))
                    });
                    let _ = answer.send(outcome);
                }
            }
        }
    }
}
