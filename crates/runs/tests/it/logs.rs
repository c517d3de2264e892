//! Logs never carry an address: a run and an erasure, logged as JSON at debug level for
//! segsync's crates (info for the rest), and the log searched for every member's email.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use segsync_domain::Email;
use segsync_runs::{Carried, Workers};
use segsync_store::RunStatus;

use crate::helpers::spawn_engine;

/// Where the log goes: a buffer the test reads.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_and_an_erasure_log_no_member_address() {
    let captured = Captured::default();
    let writer = captured.clone();
    // The whole process logs here, so every test of this binary running beside this one is
    // held to the same rule.
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,segsync_runs=debug,segsync_export=debug,segsync_store=debug,constant_contact=debug",
            ))
            .with_writer(move || writer.clone())
            .finish(),
    )
    .expect("no other test of this binary sets the process's subscriber");

    let app = spawn_engine(40, |_, _| {}).await;
    let workers = Workers::start(&app.engine);
    let run = app.queue_run().await;
    let ended = app.run_once(run.id, |run| run.finished_at.is_some()).await;
    workers.stop(Duration::from_secs(5)).await;
    assert_eq!(ended.status, RunStatus::Succeeded, "{:?}", ended.reason);

    let erased = Email::parse("person-7@example.com").unwrap();
    let id = app.engine.request_erasure(None, &[erased]).await.unwrap();
    assert_eq!(
        app.engine.carry_out_erasure(id).await.unwrap(),
        Carried::Done
    );
    assert!(
        !app.list_members()
            .contains(&"person-7@example.com".to_owned())
    );

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("A run ended."), "the log was captured: {log}");
    assert!(log.contains("An erasure is done."), "{log}");
    for member in 0..40 {
        let email = format!("person-{member}@example.com");
        assert!(!log.contains(&email), "the log carries {email}");
    }
}
