//! Evaluations of one process — counts, previews, dry runs — share one pool: a bounded number
//! run at once (`[engine] max_concurrent_evaluations`), all within one memory limit
//! (`[engine] memory_limit`), never as many limits as there are requests. Profiles opened for
//! an evaluation hold their place until they are dropped.

use std::sync::{Arc, OnceLock};

use datafusion::execution::runtime_env::RuntimeEnv;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::error::EngineError;
use crate::profiles::Profiles;
use crate::related::RelatedTable;
use crate::settings::EngineSettings;
use crate::source::ProfileSource;

/// The evaluation pool of a process.
pub struct Evaluations {
    settings: EngineSettings,
    places: Arc<Semaphore>,
    /// One runtime, so one memory pool, for every evaluation; made when first needed.
    runtime: OnceLock<Arc<RuntimeEnv>>,
}

/// A place among the evaluations running, held by the profiles opened with it.
#[derive(Debug)]
pub struct EvaluationPlace {
    _permit: OwnedSemaphorePermit,
}

/// Every place is taken: as many evaluations as the process runs at once are running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "{at_once} evaluations of segments are running, as many as this server runs at once (max_concurrent_evaluations in [engine]); try again in a moment"
)]
pub struct EvaluationsBusy {
    pub at_once: usize,
}

impl std::fmt::Debug for Evaluations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluations")
            .field("at_once", &self.at_once())
            .field("free", &self.places.available_permits())
            .finish_non_exhaustive()
    }
}

impl Evaluations {
    pub fn new(settings: &EngineSettings) -> Self {
        Self {
            settings: settings.clone(),
            places: Arc::new(Semaphore::new(settings.evaluations_at_once())),
            runtime: OnceLock::new(),
        }
    }

    /// How many evaluations run at once.
    pub fn at_once(&self) -> usize {
        self.settings.evaluations_at_once()
    }

    /// A place now, or [`EvaluationsBusy`] when every one is taken.
    pub fn try_place(&self) -> Result<EvaluationPlace, EvaluationsBusy> {
        match Arc::clone(&self.places).try_acquire_owned() {
            Ok(permit) => Ok(EvaluationPlace { _permit: permit }),
            Err(TryAcquireError::NoPermits) => Err(EvaluationsBusy {
                at_once: self.at_once(),
            }),
            Err(TryAcquireError::Closed) => unreachable!("the pool's places are never closed"),
        }
    }

    /// A place, once one is free: for work in the background, which may wait.
    pub async fn place(&self) -> EvaluationPlace {
        let permit = Arc::clone(&self.places)
            .acquire_owned()
            .await
            .expect("the pool's places are never closed");
        EvaluationPlace { _permit: permit }
    }

    /// The profiles and their related tables, opened in the pool's shared memory and holding
    /// `place` until they are dropped.
    pub async fn open(
        &self,
        source: ProfileSource,
        related: &[RelatedTable],
        place: EvaluationPlace,
    ) -> Result<Profiles, EngineError> {
        let runtime = match self.runtime.get() {
            Some(runtime) => Arc::clone(runtime),
            None => {
                let made = self.settings.runtime()?;
                Arc::clone(self.runtime.get_or_init(|| made))
            }
        };
        Profiles::open_in_runtime(source, &self.settings, runtime, Some(place))
            .await?
            .relate(related)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bounded_number_of_places_and_a_freed_one_is_taken_again() {
        let settings = EngineSettings {
            max_concurrent_evaluations: 2,
            ..EngineSettings::default()
        };
        let evaluations = Evaluations::new(&settings);
        let first = evaluations.try_place().unwrap();
        let _second = evaluations.try_place().unwrap();
        assert_eq!(
            evaluations.try_place().err(),
            Some(EvaluationsBusy { at_once: 2 })
        );
        drop(first);
        let _third = evaluations.try_place().expect("a place came free");
        let waiting =
            tokio::time::timeout(std::time::Duration::from_millis(50), evaluations.place()).await;
        assert!(waiting.is_err(), "the background waits for a place");
    }
}
