//! Why a run did not succeed, as the run engine decides it. Each failure keeps its cause (the
//! client's error, the store's, the export's) as its source; what becomes of the run — its status,
//! or a wait for the quota's reset — and the reason the run shows are derived from it here, and
//! nowhere else.

use chrono::{DateTime, Utc};
use segsync_domain::segment::SegmentError;
use segsync_domain::{GuardStop, MappingError};
use segsync_export::{ExportError, ExportFailure};
use segsync_store::{RunStatus, StoreError};

use crate::RunsError;
use crate::resume::ResumeError;
use segsync_connections::ConnectionUnusable;

#[derive(Debug, thiserror::Error)]
pub enum RunFailure {
    #[error("the export has no connection: it was detached")]
    Detached,
    #[error("the segment {name:?} is inactive; activate it to export it")]
    SegmentInactive { name: String },
    #[error("the segment {name:?} is not valid: {}", join(problems))]
    SegmentInvalid {
        name: String,
        problems: Vec<SegmentError>,
    },
    /// The user the run acts as was disabled or is no longer an admin since the run was queued.
    #[error(
        "the export user {username:?} may no longer run exports ({why}); an admin must add themselves as the connection's export user"
    )]
    ExportUserMayNotRun { username: String, why: &'static str },
    #[error("the export's data matching")]
    MappingInvalid(#[source] MappingError),
    #[error(transparent)]
    ConnectionUnusable(#[from] ConnectionUnusable),
    /// Constant Contact refused the connection's refresh token before the run sent anything.
    #[error(
        "the connection {connection:?}: Constant Contact refused the refresh token: {description}"
    )]
    NeedsReauthentication {
        connection: String,
        description: String,
    },
    /// The profiles or the refresh schedule could not be read.
    #[error(transparent)]
    Setup(#[from] RunsError),
    #[error("the store")]
    StoreUnavailable(#[source] StoreError),
    #[error("resuming the run")]
    Resuming(#[source] ResumeError),
    /// Another run found the API key's quota spent: every run of the key waits for its reset.
    #[error(
        "waiting for Constant Contact's daily quota of this API key to reset at {until}; it answered quota_exceeded"
    )]
    QuotaPaused { until: DateTime<Utc> },
    /// The quota ran out while the run was sending.
    #[error(
        "the daily request quota ran out after sending {sent} contacts; the run resumes when it resets at {resets_at}"
    )]
    QuotaExceeded {
        resets_at: DateTime<Utc>,
        sent: u64,
        #[source]
        source: ExportFailure,
    },
    /// Not enough of today's quota is left to start; tomorrow's is enough.
    #[error("deferred until the reset at {until}")]
    OverQuotaToday {
        until: DateTime<Utc>,
        #[source]
        source: ExportError,
    },
    /// The run needs more requests than a whole day allows.
    #[error("the run needs more than a whole day's {requests_per_day} requests")]
    OverQuotaAnyDay {
        requests_per_day: u64,
        #[source]
        source: ExportError,
    },
    /// The export could not start (its list is gone, too many members, a segment the profiles
    /// do not fit, …).
    #[error(transparent)]
    NotStarted(ExportError),
    /// The export failed while sending; the report says what it sent.
    #[error(transparent)]
    Export(ExportFailure),
    /// A mirror run's guard stopped it before it sent anything: it waits for a person.
    #[error(
        "a guard stopped the run before it sent anything: {0}; an admin or the export's manager must confirm the removals or discard the run"
    )]
    NeedsConfirmation(Box<GuardStop>),
    /// The exclusions could not be read: nothing is sent without them.
    #[error("the exclusions could not be read: {0}; nothing was sent")]
    Exclusions(String),
    /// A source's files or rows changed between the start of the run and its end: what it
    /// sent may mix two loads.
    #[error(
        "the {table} changed while the run read them (at the start: {before}; at the end: {now}); run it again to send one load"
    )]
    SourceChanged {
        table: String,
        before: String,
        now: String,
    },
    /// A run that only reads the list back could not read it.
    #[error("reading the list back")]
    ReadBack(#[source] crate::execute::ReadBackError),
    #[error("cancelled on request after sending {sent} contacts")]
    Cancelled { sent: u64 },
    #[error(
        "the run reached its maximum duration of {seconds} s and stopped after sending {sent} contacts; the next run sends the rest"
    )]
    TimedOut { seconds: u64, sent: u64 },
    /// The run did not stop within the grace after its time budget — a call to the engine or to
    /// Constant Contact that never answered — and was abandoned, freeing its export.
    #[error(
        "the run did not stop within {seconds} s (its time budget and the grace for its batch in flight): a call to the engine or to Constant Contact never answered, and the run was abandoned after sending {sent} contacts; the next run sends the rest"
    )]
    Hung { seconds: u64, sent: u64 },
}

/// What becomes of a run that did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition<'a> {
    /// It ends with this status.
    End(RunStatus),
    /// It goes back to the queue until the quota resets.
    WaitUntil(DateTime<Utc>),
    /// It waits, holding its export, with the guard's numbers, until a person confirms or
    /// discards it.
    AwaitConfirmation(&'a GuardStop),
}

impl RunFailure {
    /// Masks the addresses a guard's stop samples.
    pub fn mask_samples(&mut self) {
        if let Self::NeedsConfirmation(stop) = self {
            stop.mask_samples();
        }
    }
    pub fn disposition(&self) -> Disposition<'_> {
        match self {
            Self::Detached | Self::SegmentInactive { .. } | Self::OverQuotaAnyDay { .. } => {
                Disposition::End(RunStatus::Skipped)
            }
            Self::QuotaPaused { until } | Self::OverQuotaToday { until, .. } => {
                Disposition::WaitUntil(*until)
            }
            Self::QuotaExceeded { resets_at, .. } => Disposition::WaitUntil(*resets_at),
            Self::NeedsConfirmation(stop) => Disposition::AwaitConfirmation(stop),
            Self::Cancelled { .. } => Disposition::End(RunStatus::Cancelled),
            Self::TimedOut { .. } => Disposition::End(RunStatus::TimedOut),
            Self::SegmentInvalid { .. }
            | Self::ExportUserMayNotRun { .. }
            | Self::MappingInvalid(_)
            | Self::ConnectionUnusable(_)
            | Self::NeedsReauthentication { .. }
            | Self::Setup(_)
            | Self::StoreUnavailable(_)
            | Self::Resuming(_)
            | Self::NotStarted(_)
            | Self::ReadBack(_)
            | Self::Exclusions(_)
            | Self::SourceChanged { .. }
            | Self::Export(_)
            | Self::Hung { .. } => Disposition::End(RunStatus::Failed),
        }
    }
}

impl From<StoreError> for RunFailure {
    fn from(error: StoreError) -> Self {
        Self::StoreUnavailable(error)
    }
}

fn join(problems: &[SegmentError]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_quota_that_ran_out_waits_for_its_reset_and_keeps_the_clients_error() {
        let resets_at: DateTime<Utc> = "2031-03-09T00:00:00Z".parse().unwrap();
        let export = ExportFailure::ConstantContact {
            step: segsync_export::Step::SendingImport { contacts: 500 },
            source: std::sync::Arc::new(constant_contact::Error::QuotaExceeded { resets_at }),
        };
        assert_eq!(export.quota_resets_at(), Some(resets_at));
        let failure = RunFailure::QuotaExceeded {
            resets_at,
            sent: 1_000,
            source: export,
        };
        assert_eq!(failure.disposition(), Disposition::WaitUntil(resets_at));
        assert_eq!(
            failure.to_string(),
            "the daily request quota ran out after sending 1000 contacts; the run resumes when it resets at 2031-03-09 00:00:00 UTC"
        );
        // The chain of sources reaches Constant Contact's error (shared: reports are cloned).
        let export = failure.source().unwrap();
        assert!(
            export
                .to_string()
                .starts_with("sending an import of 500 contacts")
        );
        let client = export.source().unwrap();
        let client = client
            .downcast_ref::<std::sync::Arc<constant_contact::Error>>()
            .expect("Constant Contact's error");
        assert!(matches!(
            **client,
            constant_contact::Error::QuotaExceeded { .. }
        ));
    }

    #[test]
    fn each_failure_ends_the_run_with_its_own_status() {
        let status = |failure: RunFailure| match failure.disposition() {
            Disposition::End(status) => Some(status),
            Disposition::AwaitConfirmation(_) => Some(RunStatus::AwaitingConfirmation),
            Disposition::WaitUntil(_) => None,
        };
        assert_eq!(status(RunFailure::Detached), Some(RunStatus::Skipped));
        assert_eq!(
            status(RunFailure::Cancelled { sent: 3 }),
            Some(RunStatus::Cancelled)
        );
        assert_eq!(
            status(RunFailure::TimedOut {
                seconds: 60,
                sent: 3
            }),
            Some(RunStatus::TimedOut)
        );
        assert_eq!(
            status(RunFailure::NeedsReauthentication {
                connection: "CC".into(),
                description: "revoked".into()
            }),
            Some(RunStatus::Failed)
        );
        let stop = segsync_domain::RemovalGuards::default()
            .judge(
                &segsync_domain::RunFacts {
                    profiles_read: 0,
                    members_now: 0,
                    members_before: Some(10),
                    list_members: 10,
                    removals_planned: 10,
                },
                None,
            )
            .unwrap();
        assert_eq!(
            status(RunFailure::NeedsConfirmation(Box::new(stop))),
            Some(RunStatus::AwaitingConfirmation)
        );
    }
}
