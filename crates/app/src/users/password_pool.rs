//! Password hashing off the request threads, a bounded number at a time behind a bounded
//! queue. An argon2id hash takes tens of milliseconds of a core by design; run on the async
//! workers, a burst of sign-ins would stall every other request, and with an unbounded queue a
//! flood of them would make every real sign-in wait behind it. A full queue refuses at once:
//! the caller answers 429 `busy` and the client tries again.

use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit, TryAcquireError};

use super::password::{PasswordError, hash_password, verify_password};
use crate::error::{AppError, Code};

/// Hashes that may wait for a free core, per core.
const WAITING_PER_CORE: usize = 8;

pub struct PasswordPool {
    /// One permit per hash that may run at once.
    running: Semaphore,
    /// One permit per hash running or waiting: past them, the pool is full.
    admitted: Semaphore,
}

/// The pool's queue was full: nothing was hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server is busy checking passwords; try again in a second")]
pub struct PoolBusy;

impl From<PoolBusy> for AppError {
    fn from(busy: PoolBusy) -> Self {
        AppError::new(Code::Busy, busy.to_string()).with_retry_after(Duration::from_secs(1))
    }
}

/// A place in the pool's queue: what holds one may hash once.
pub struct PasswordTicket<'a> {
    pool: &'a PasswordPool,
    _admitted: SemaphorePermit<'a>,
}

impl PasswordPool {
    /// A pool running at most `at_once` hashes together, with at most `waiting` more queued.
    pub fn new(at_once: usize, waiting: usize) -> Self {
        let at_once = at_once.max(1);
        Self {
            running: Semaphore::new(at_once),
            admitted: Semaphore::new(at_once + waiting),
        }
    }

    /// As many hashes at once as the machine has cores, and a few waiting per core.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self::new(cores, cores * WAITING_PER_CORE)
    }

    /// A place in the queue, or [`PoolBusy`] at once when it is full.
    pub fn enter(&self) -> Result<PasswordTicket<'_>, PoolBusy> {
        match self.admitted.try_acquire() {
            Ok(admitted) => Ok(PasswordTicket {
                pool: self,
                _admitted: admitted,
            }),
            Err(TryAcquireError::NoPermits) => Err(PoolBusy),
            Err(TryAcquireError::Closed) => unreachable!("the pool's semaphores are never closed"),
        }
    }

    /// Whether `password` matches `hash`; [`PoolBusy`] when the queue is full.
    pub async fn verify(&self, hash: String, password: String) -> Result<bool, PoolBusy> {
        Ok(self.enter()?.verify(hash, password).await)
    }

    /// A new hash of `password`.
    pub async fn hash(&self, password: String) -> Result<String, HashFailure> {
        Ok(self.enter()?.hash(password).await?)
    }
}

/// Why a new hash was not made.
#[derive(Debug, thiserror::Error)]
pub enum HashFailure {
    #[error(transparent)]
    Busy(#[from] PoolBusy),
    #[error(transparent)]
    Password(#[from] PasswordError),
}

impl HashFailure {
    /// The answer for a new password given as `field`: 429 when busy, else what is wrong with it.
    pub fn answer_for(self, field: &str) -> AppError {
        match self {
            Self::Busy(busy) => busy.into(),
            Self::Password(problem) => AppError::invalid(field, problem),
        }
    }
}

impl PasswordTicket<'_> {
    /// Whether `password` matches `hash`, computed on a blocking thread once a core is free.
    pub async fn verify(self, hash: String, password: String) -> bool {
        let _running = self.running().await;
        tokio::task::spawn_blocking(move || verify_password(&hash, &password))
            .await
            .unwrap_or(false)
    }

    /// A new hash of `password`, computed on a blocking thread once a core is free.
    pub async fn hash(self, password: String) -> Result<String, PasswordError> {
        let _running = self.running().await;
        tokio::task::spawn_blocking(move || hash_password(&password)).await?
    }

    async fn running(&self) -> SemaphorePermit<'_> {
        self.pool
            .running
            .acquire()
            .await
            .expect("the pool's semaphores are never closed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_run_off_the_request_threads_a_few_at_a_time_and_verify() {
        let pool = std::sync::Arc::new(PasswordPool::new(1, 3));
        let hash = pool.hash("correct horse battery".to_owned()).await.unwrap();
        assert!(pool.hash("short".to_owned()).await.is_err());
        let checks: Vec<_> = [
            "correct horse battery",
            "wrong horse battery",
            "correct horse battery",
        ]
        .into_iter()
        .map(|password| {
            let (pool, hash) = (std::sync::Arc::clone(&pool), hash.clone());
            tokio::spawn(async move { pool.verify(hash, password.to_owned()).await.unwrap() })
        })
        .collect();
        let mut verdicts = Vec::new();
        for check in checks {
            verdicts.push(check.await.unwrap());
        }
        assert_eq!(verdicts, [true, false, true]);
        assert_eq!(
            (
                pool.running.available_permits(),
                pool.admitted.available_permits()
            ),
            (1, 4),
            "every permit came back"
        );
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_takes_hashes_again_once_it_drains() {
        let pool = PasswordPool::new(1, 1);
        let first = pool.enter().unwrap();
        let second = pool.enter().unwrap();
        assert!(
            matches!(pool.enter(), Err(PoolBusy)),
            "one running, one waiting"
        );
        let busy = AppError::from(PoolBusy);
        assert_eq!(
            (busy.code, busy.retry_after),
            (Code::Busy, Some(Duration::from_secs(1)))
        );
        drop(first);
        let third = pool.enter().expect("a place came free");
        drop((second, third));
        let hash = pool.hash("correct horse battery".to_owned()).await.unwrap();
        assert!(
            pool.verify(hash, "correct horse battery".to_owned())
                .await
                .unwrap()
        );
    }
}
