//! Fenced runs: only the worker holding a run's current claim writes to it. A worker that
//! stalls past the reaper loses the run to another node and, when it comes back, sends and
//! writes nothing more; and one SQLite file serves one server.

use std::fmt::Write;
use std::time::Duration;

use cc_sandbox::Fault;
use segsync_store::{RunStatus, Store, Trigger};

use crate::helpers::{spawn_app, spawn_app_on_postgres};
use crate::processes::serve;
use crate::runs::{an_export, ended};

/// Gold members in the profiles: three imports' worth (at most 40,000 contacts each).
const MEMBERS: usize = 90_000;

fn many_gold_profiles() -> String {
    let mut csv =
        String::from("profile_id,email,first_name,last_name,country,tier,lifetime_value\n");
    for n in 0..MEMBERS {
        writeln!(
            csv,
            "{n},member-{n}@example.com,Member,Number{n},US,gold,{n}"
        )
        .unwrap();
    }
    csv
}

#[tokio::test]
async fn a_worker_stalled_past_the_reaper_loses_its_run_and_sends_nothing_more() {
    let mut app = spawn_app_on_postgres(
        |_| {},
        |config| {
            // This node takes a run over after 5 s of silence; workers write every second.
            config.runs.silent_run_seconds = 5;
        },
    )
    .await;
    std::fs::write(
        app.config().profiles.as_ref().unwrap().location.as_str(),
        many_gold_profiles(),
    )
    .unwrap();
    let (export, list) = an_export(&app).await;
    app.stop().await;

    // The first import is applied but its answer held back, so the worker in the child process
    // is waiting for it when it is stopped in its tracks.
    app.sandbox
        .state()
        .add_fault(Fault::answer_late("contacts_json_import", 1, 5_000));
    let config = app.config().clone();
    let store = Store::open(&config.database_url).await.unwrap();
    let run = store
        .queue_run(export.parse().unwrap(), Trigger::Manual, None, None)
        .await
        .unwrap();
    // The process keeps the default minute, so that it never takes its own run back.
    let stalled = serve(&config, &[("SEGSYNC_RUNS__SILENT_RUN_SECONDS", "60")]);
    let mut first_import_in = false;
    for _ in 0..1_200 {
        first_import_in = app.sandbox.state().imports_accepted() == 1;
        if first_import_in {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(first_import_in, "the child process sent its first import");
    stalled.signal("STOP");
    let claimed = store.run(run.id).await.unwrap();
    assert_eq!((claimed.status, claimed.claim), (RunStatus::Running, 1));

    // Another node takes the run over once the stalled worker has been silent long enough. The
    // first import was never confirmed to the run, so the new node sends it again (imports are
    // upserts: when in doubt, send again), then the rest.
    app.start_again().await;
    let finished = ended(&app, &run.id.to_string()).await;
    assert_eq!(finished["status"], "succeeded", "{finished}");
    assert_eq!(finished["resumed"], 1);
    let taken_over = store.run(run.id).await.unwrap();
    assert_eq!(taken_over.claim, 2, "the run was claimed again");
    assert_eq!(app.sandbox.state().imports_accepted(), 1 + 3);
    let batches_when_ended = store.run_batches(run.id).await.unwrap();

    // The stalled worker comes back: its answer is waiting, its claim is gone.
    stalled.signal("CONT");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let imports: Vec<_> = app
        .sandbox
        .state()
        .requests()
        .into_iter()
        .filter(|request| request.endpoint == "contacts_json_import")
        .collect();
    assert_eq!(
        imports.len(),
        1 + 3,
        "the stalled worker sent nothing more: {imports:#?}"
    );
    assert_eq!(app.sandbox.state().imports_accepted(), 1 + 3);
    let after = store.run(run.id).await.unwrap();
    assert_eq!(
        (
            after.status,
            after.finished_at,
            &after.report,
            &after.progress
        ),
        (
            taken_over.status,
            taken_over.finished_at,
            &taken_over.report,
            &taken_over.progress
        ),
        "the run ended once, and the stalled worker wrote nothing more"
    );
    assert_eq!(
        store.run_batches(run.id).await.unwrap(),
        batches_when_ended,
        "the stalled worker recorded nothing about its imports"
    );
    assert_eq!(app.list_members(&list).len(), MEMBERS);
    store.close().await;
}

#[tokio::test]
async fn a_second_server_on_one_sqlite_file_is_refused() {
    let app = spawn_app().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = segsync_server::spawn(app.config().clone(), listener)
        .await
        .err()
        .expect("a second server on the same SQLite file is refused");
    let message = format!("{refused:#}");
    assert!(
        message.contains("another segsync serve is using the SQLite database")
            && message.contains("PostgreSQL"),
        "{message}"
    );
    // The first one's work goes on.
    let (status, _) = app
        .call(
            Some(segsync_store::Role::Viewer),
            reqwest::Method::GET,
            "/api/v1/runs",
            None,
        )
        .await;
    assert!(status.is_success());
}
