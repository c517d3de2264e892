//! Password hashing off the request threads, a bounded number at a time. An argon2id hash
//! takes tens of milliseconds of a core by design; run on the async workers, a burst of
//! sign-ins would stall every other request, and without a bound it would queue unbounded
//! work on the blocking threads.

use tokio::sync::Semaphore;

use super::password::{PasswordError, hash_password, verify_password};

pub struct PasswordPool {
    /// One permit per hash that may run at once.
    permits: Semaphore,
}

impl PasswordPool {
    /// A pool running at most `at_once` hashes together.
    pub fn new(at_once: usize) -> Self {
        Self {
            permits: Semaphore::new(at_once.max(1)),
        }
    }

    /// As many hashes at once as the machine has cores.
    pub fn for_this_machine() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
    }

    /// Whether `password` matches `hash`, computed on a blocking thread.
    pub async fn verify(&self, hash: String, password: String) -> bool {
        let _permit = self.permit().await;
        tokio::task::spawn_blocking(move || verify_password(&hash, &password))
            .await
            .unwrap_or(false)
    }

    /// A new hash of `password`, computed on a blocking thread.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let _permit = self.permit().await;
        tokio::task::spawn_blocking(move || hash_password(&password)).await?
    }

    async fn permit(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.permits
            .acquire()
            .await
            .expect("the pool's semaphore is never closed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_run_off_the_request_threads_a_few_at_a_time_and_verify() {
        let pool = std::sync::Arc::new(PasswordPool::new(1));
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
            tokio::spawn(async move { pool.verify(hash, password.to_owned()).await })
        })
        .collect();
        let mut verdicts = Vec::new();
        for check in checks {
            verdicts.push(check.await.unwrap());
        }
        assert_eq!(verdicts, [true, false, true]);
        assert_eq!(
            pool.permits.available_permits(),
            1,
            "every permit came back"
        );
    }
}
