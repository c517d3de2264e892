//! A run whose process is killed (`kill -9`) between sending an import and writing down that
//! Constant Contact accepted it: the next start resumes the run, finds the import among
//! Constant Contact's activities, and sends nothing twice.

use std::time::Duration;

use cc_sandbox::Fault;
use segsync_store::{BatchState, Store, Trigger};

use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};
use crate::processes::serve;
use crate::runs::{an_export, ended};

/// Runs the export in a `segsync serve` process and kills it (SIGKILL) while its import is
/// in flight with `fault`, once `sent` says so; then starts the in-process server again.
/// Returns the app, the run and the list.
async fn kill_during_import(
    fault: Fault,
    in_flight: impl Fn(&TestApp, &str) -> bool,
) -> (TestApp, Uuid, String) {
    let mut app = spawn_app().await;
    let (export, list) = an_export(&app).await;
    app.stop().await;
    app.sandbox.state().add_fault(fault);
    let config = app.config().clone();
    let store = Store::open(&config.database_url).await.unwrap();
    let run = store
        .queue_run(export.parse().unwrap(), Trigger::Manual, None, None)
        .await
        .unwrap();

    let mut server = serve(&config, &[]);

    // Wait until the import is planned in the store and in flight.
    let mut planned = false;
    for _ in 0..600 {
        planned = store
            .run_batches(run.id)
            .await
            .unwrap()
            .iter()
            .any(|batch| batch.state == BatchState::Planned);
        if planned && in_flight(&app, &list) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(planned, "the child process planned its import");
    server.0.kill().unwrap(); // SIGKILL: no chance to write anything down.
    server.0.wait().unwrap();
    let batches = store.run_batches(run.id).await.unwrap();
    assert_eq!(batches.len(), 1);
    assert_eq!(
        batches[0].state,
        BatchState::Planned,
        "the process died before recording it"
    );
    store.close().await;
    app.start_again().await;
    (app, run.id, list)
}

#[tokio::test]
async fn a_run_killed_between_sending_an_import_and_recording_it_sends_it_again() {
    // The sandbox applies the import, then keeps its answer back: the process dies before it
    // learns the import was accepted. Without Constant Contact's word for that very import, the
    // resumed run sends its members again (imports are upserts) and records its own import.
    let (app, run, list) = kill_during_import(
        Fault::answer_late("contacts_json_import", 1, 3_000),
        |app, list| app.list_members(list).len() == 2,
    )
    .await;
    let resumed = ended(&app, &run.to_string()).await;
    assert_eq!(resumed["status"], "succeeded", "{resumed}");
    assert_eq!(resumed["resumed"], 1);
    let report = &resumed["report"];
    assert_eq!(report["sync"]["sent_earlier"], 0, "{report}");
    assert_eq!(report["sent"], 2, "sent again");
    assert_eq!(report["not_sent"], 0);
    let batches = app.state.store.run_batches(run).await.unwrap();
    assert_eq!(batches.len(), 1, "the unconfirmed import was dropped");
    assert_eq!(batches[0].state, BatchState::Completed);
    assert!(batches[0].activity_id.is_some());

    assert_eq!(
        app.sandbox.state().imports_accepted(),
        2,
        "the one the killed process sent, and its resend"
    );
    assert_eq!(app.list_members(&list).len(), 2);
}

#[tokio::test]
async fn a_run_killed_before_its_import_reached_constant_contact_sends_it_on_resuming() {
    // The sandbox holds the import back before handling it: the process dies first, and
    // Constant Contact never has it.
    let (app, run, list) =
        kill_during_import(Fault::delay("contacts_json_import", 1, 3_000), |app, _| {
            app.sandbox
                .state()
                .requests()
                .iter()
                .any(|request| request.endpoint == "get_contact_list")
        })
        .await;
    let resumed = ended(&app, &run.to_string()).await;
    assert_eq!(resumed["status"], "succeeded", "{resumed}");
    let report = &resumed["report"];
    assert_eq!(report["sync"]["sent_earlier"], 0, "{report}");
    assert_eq!(report["sent"], 2, "the import that never arrived is sent");
    let batches = app.state.store.run_batches(run).await.unwrap();
    assert_eq!(
        batches.len(),
        1,
        "the unsent import was dropped, the new one kept"
    );
    assert_eq!(batches[0].state, BatchState::Completed);
    assert_eq!(app.sandbox.state().imports_accepted(), 1);
    assert_eq!(app.list_members(&list).len(), 2);
}
