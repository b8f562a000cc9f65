//! The queue in front of a backend's appending task (group commit): sends
//! wait in one queue; the task takes everything waiting, up to a batch,
//! appends it in one transaction and answers each send with its own
//! outcome. The same for every backend; what a batch's transaction does is
//! the backend's.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

use super::{AppendRefusal, Appended, NewMessage, StoreError};

/// What one append comes to.
pub type Outcome = Result<Result<Appended, AppendRefusal>, StoreError>;

/// One waiting send and where its answer goes.
pub struct Job {
    pub message: NewMessage,
    answer: oneshot::Sender<Outcome>,
}

/// The sending side; the appending task ends when this is dropped.
pub struct Appender {
    queue: mpsc::UnboundedSender<Job>,
}

/// The appending task's side.
pub struct Jobs(mpsc::UnboundedReceiver<Job>);

impl Appender {
    /// A queue, with `task` started on the current runtime to append its
    /// jobs.
    pub fn start<F>(task: impl FnOnce(Jobs) -> F) -> Appender
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (queue, jobs) = mpsc::unbounded_channel();
        tokio::spawn(task(Jobs(jobs)));
        Appender { queue }
    }

    /// Appends `message`; answers once its transaction has committed (or
    /// failed).
    pub async fn append(&self, message: NewMessage) -> Outcome {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Job { message, answer })
            .map_err(|_| StoreError::Unavailable(sqlx::Error::PoolClosed))?;
        answered
            .await
            .map_err(|_| StoreError::Unavailable(sqlx::Error::PoolClosed))?
    }
}

impl Jobs {
    /// The next job; `None` once the queue is dropped and empty.
    pub async fn recv(&mut self) -> Option<Job> {
        self.0.recv().await
    }

    /// `first` and whatever else waits, up to `max` jobs in all.
    pub fn batch(&mut self, first: Job, max: usize) -> Vec<Job> {
        let mut batch = vec![first];
        while batch.len() < max {
            match self.0.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        batch
    }
}

/// Answers each job of a batch: with its own outcome, or with the batch's
/// failure (none of it was stored).
pub fn answer(batch: Vec<Job>, outcomes: Result<Vec<Result<Appended, AppendRefusal>>, StoreError>) {
    match outcomes {
        Ok(outcomes) => {
            for (job, outcome) in batch.into_iter().zip(outcomes) {
                let _ = job.answer.send(Ok(outcome));
            }
        }
        Err(error) => {
            for job in batch {
                let _ = job.answer.send(Err(copy(&error)));
            }
        }
    }
}

/// The same kind of failure, for each message of a failed batch.
fn copy(error: &StoreError) -> StoreError {
    let text = || sqlx::Error::Protocol(error.to_string());
    match error {
        StoreError::Conflict => StoreError::Conflict,
        StoreError::Unavailable(_) => StoreError::Unavailable(text()),
        StoreError::Other(_) => StoreError::Other(text()),
    }
}
