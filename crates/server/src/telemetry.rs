//! Prometheus metrics: what segsync and its Constant Contact client record through the
//! `metrics` facade, rendered in Prometheus's text format at `/metrics`, plus the runs in each
//! status, counted in the store when scraped (so every node reports the same totals).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Seconds callers wait for the rate limiter: a request each quarter second at most.
const LIMITER_WAIT_BUCKETS: [f64; 10] = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The process's recorder, installed on first use. None when the embedding program installed
/// a recorder of its own first; `/metrics` then shows only the store's counts.
pub(crate) fn recorder() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("segsync_constant_contact_limiter_wait_seconds".to_owned()),
                    &LIMITER_WAIT_BUCKETS,
                )
                .expect("the buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| {
                describe();
                handle
            })
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(
        "segsync_constant_contact_requests_total",
        "Requests sent to Constant Contact, by endpoint and HTTP status (transport_error when none came back)."
    );
    metrics::describe_histogram!(
        "segsync_constant_contact_limiter_wait_seconds",
        metrics::Unit::Seconds,
        "Time a request waited for the rate limiter of its API key."
    );
    metrics::describe_counter!(
        "segsync_members_sent_total",
        "Contacts sent to Constant Contact by runs of this process."
    );
    metrics::describe_counter!(
        "segsync_runs_finished_total",
        "Runs this process ended, by status."
    );
}
