//! One load per run: a run records the version of the profiles it read, and a run whose
//! profile file is replaced while it sends fails with "the profiles changed while the run read
//! them" instead of succeeding over two loads.

use segsync_store::Role;

use crate::helpers::{PROFILES_CSV, spawn_app};
use crate::in_step::{export_in_mode, run_to_end, write_profiles};

#[tokio::test]
async fn a_run_records_the_version_it_read_and_fails_when_the_profiles_change_under_it() {
    let app = spawn_app().await;
    let (export, _) = export_in_mode(&app, "add_only", |_, _| {}).await;
    let run = run_to_end(&app, &export, false).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let version = run["report"]["source"]["version"].as_str().unwrap();
    assert!(
        version.starts_with(&format!("1 file, {} bytes", PROFILES_CSV.len())),
        "{version}"
    );

    // The import waits while a new load replaces the file.
    app.sandbox
        .state()
        .add_fault(cc_sandbox::Fault::delay("contacts_json_import", 1, 3_000));
    let (_, queued) = app
        .call(
            Some(Role::Contributor),
            reqwest::Method::POST,
            &format!("/api/v1/exports/{export}/run?full_resync=true"),
            None,
        )
        .await;
    let id = queued["id"].as_str().unwrap().to_owned();
    crate::runs::in_phase(&app, &id, "sending").await;
    write_profiles(
        &app,
        &format!("{PROFILES_CSV}9,late@example.com,Late,Load,US,gold,1\n"),
    );
    let ended = crate::runs::ended(&app, &id).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    let reason = ended["reason"].as_str().unwrap();
    assert!(
        reason.contains("the profiles changed while the run read them"),
        "{reason}"
    );
    assert!(
        ended["report"]["sent"].is_u64(),
        "what it sent is reported: {ended}"
    );
}
