//! Runs through the API, end to end against the sandbox: on demand, one at a time, cancelled,
//! failing fast on a connection that needs re-authentication, and never left Running by a
//! restart or a shutdown.

use std::time::Duration;

use cc_sandbox::Fault;
use reqwest::{Method, StatusCode};
use segsync_store::{Role, Trigger};
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

/// Everything an export needs: a shared, authenticated connection with the admin as its export
/// user, and an export of the "gold" segment saved by the contributor. Returns (export, list).
/// An add-only export of the `gold` segment by a contributor; returns it and its list.
pub(crate) async fn an_export(app: &TestApp) -> (String, String) {
    crate::in_step::export_in_mode(app, "add_only", |_, _| {}).await
}

pub(crate) async fn run(app: &TestApp, role: Role, export: &str) -> (StatusCode, Value) {
    app.call(
        Some(role),
        Method::POST,
        &format!("/api/v1/exports/{export}/run"),
        None,
    )
    .await
}

/// Reads the run until it has ended, for up to 30 s.
pub(crate) async fn ended(app: &TestApp, run: &str) -> Value {
    ended_within(app, run, Duration::from_secs(30)).await
}

/// Reads the run until it has ended, for up to `limit`.
pub(crate) async fn ended_within(app: &TestApp, run: &str, limit: Duration) -> Value {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        let (status, body) = app
            .call(
                Some(Role::Viewer),
                Method::GET,
                &format!("/api/v1/runs/{run}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if !matches!(body["status"].as_str(), Some("queued" | "running")) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("run {run} did not end within {} s", limit.as_secs());
}

/// Reads the run until its worker has it in `phase`.
pub(crate) async fn in_phase(app: &TestApp, run: &str, phase: &str) {
    for _ in 0..300 {
        let (_, body) = app
            .call(
                Some(Role::Viewer),
                Method::GET,
                &format!("/api/v1/runs/{run}"),
                None,
            )
            .await;
        if body["progress"]["phase"] == phase {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {run} never reached {phase}");
}

async fn user_id(app: &TestApp, role: Role) -> String {
    let (_, me) = app.call(Some(role), Method::GET, "/api/v1/me", None).await;
    me["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_contributor_runs_an_export_and_the_list_holds_its_members() {
    let app = spawn_app().await;
    let (export, list) = an_export(&app).await;

    let (status, queued) = run(&app, Role::Contributor, &export).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["trigger"], "manual");
    assert_eq!(
        queued["requested_by"],
        user_id(&app, Role::Contributor).await
    );
    assert_eq!(
        queued["acting_user"],
        user_id(&app, Role::Admin).await,
        "runs act as the connection's export user"
    );
    let done = ended(&app, queued["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    let report = &done["report"];
    assert_eq!(report["profiles_read"], 5);
    assert_eq!(report["profiles_in_segments"], 3);
    assert_eq!(report["sent"], 2, "ada and zoe; not-an-email is invalid");
    assert_eq!(done["progress"]["contacts_sent"], 2);
    let members = app.list_members(&list);
    assert_eq!(members, ["ada@example.com", "zoe@example.com"]);
    // The skipped members are for those who manage the export, not for every reader.
    let (refused, _) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/runs/{}/skipped.csv", done["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(refused, StatusCode::FORBIDDEN);
    let csv = app
        .request(
            Some(Role::Contributor),
            Method::GET,
            &format!("/api/v1/runs/{}/skipped.csv", done["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert_eq!(lines[0], "email,reason");
    assert!(lines[1].starts_with("not-an-email,"), "{csv}");

    let (status, history) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/exports/{export}/runs"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history[0]["id"], done["id"]);
    let (_, audit) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/audit", None)
        .await;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|entry| entry["action"] == "ran" && entry["object_id"] == export.as_str()),
        "{audit}"
    );
    let (status, _) = run(&app, Role::Viewer, &export).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "viewers do not run exports");
}

#[tokio::test]
async fn one_run_at_a_time_and_a_cancelled_run_stops_before_sending() {
    let app = spawn_app().await;
    let (export, list) = an_export(&app).await;
    // Planning waits on Constant Contact long enough for the requests below.
    app.sandbox
        .state()
        .add_fault(Fault::delay("get_contact_list", 1, 2_500));

    let (_, first) = run(&app, Role::Contributor, &export).await;
    let first = first["id"].as_str().unwrap().to_owned();
    let (status, second) = run(&app, Role::Admin, &export).await;
    assert_eq!(status, StatusCode::CONFLICT, "{second}");
    assert_eq!(second["code"], "run_in_progress");
    assert_eq!(second["details"]["run_id"], first.as_str());

    in_phase(&app, &first, "planning").await;
    let (status, cancelling) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/runs/{first}/cancel"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{cancelling}");
    assert_eq!(cancelling["cancel_requested"], true);
    let done = ended(&app, &first).await;
    assert_eq!(done["status"], "cancelled", "{done}");
    assert_eq!(done["report"]["sent"], 0);
    assert!(app.list_members(&list).is_empty());
    let (status, again) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/runs/{first}/cancel"),
            None,
        )
        .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (StatusCode::CONFLICT, Some("run_ended"))
    );

    let (status, next) = run(&app, Role::Contributor, &export).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "the export is free again: {next}"
    );
    assert_eq!(
        ended(&app, next["id"].as_str().unwrap()).await["status"],
        "succeeded"
    );
}

#[tokio::test]
async fn runs_on_a_connection_whose_refresh_token_is_refused_fail_fast_with_the_reason() {
    let app = spawn_app().await;
    let (export, _) = an_export(&app).await;
    app.sandbox.state().revoke_tokens();
    app.sandbox.state().expire_access_tokens();

    let (_, first) = run(&app, Role::Contributor, &export).await;
    let first = ended(&app, first["id"].as_str().unwrap()).await;
    assert_eq!(first["status"], "failed");
    assert!(
        first["reason"]
            .as_str()
            .unwrap()
            .contains("refused the refresh token"),
        "{first}"
    );
    let (_, connections) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/connections", None)
        .await;
    assert_eq!(connections[0]["health"], "needs_reauthentication");

    let (_, second) = run(&app, Role::Contributor, &export).await;
    let second = ended(&app, second["id"].as_str().unwrap()).await;
    assert_eq!(second["status"], "failed");
    assert!(
        second["reason"]
            .as_str()
            .unwrap()
            .contains("needs an admin to authenticate it with Constant Contact again"),
        "{second}"
    );
}

#[tokio::test]
async fn a_restart_loses_nothing() {
    let mut app = spawn_app().await;
    let (export, _) = an_export(&app).await;
    let (_, done) = run(&app, Role::Contributor, &export).await;
    let done = ended(&app, done["id"].as_str().unwrap()).await;
    app.restart().await;

    let (status, kept) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/runs/{}", done["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kept["report"], done["report"], "the report survives");
    let (_, exports) = app
        .call(Some(Role::Viewer), Method::GET, "/api/v1/exports", None)
        .await;
    assert_eq!(exports[0]["id"], export.as_str());
    let (status, again) = run(&app, Role::Contributor, &export).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_eq!(
        ended(&app, again["id"].as_str().unwrap()).await["status"],
        "succeeded",
        "the connection's sealed tokens still open after the restart"
    );
}

#[tokio::test]
async fn a_run_left_running_in_the_store_is_resumed_when_the_server_starts() {
    let mut app = spawn_app().await;
    let (export, list) = an_export(&app).await;
    app.stop().await;
    // While no server runs, write what a killed process leaves behind.
    let store = segsync_store::Store::open(&app.state.config.database_url)
        .await
        .unwrap();
    let left = store
        .queue_run(export.parse().unwrap(), Trigger::Manual, None, None)
        .await
        .unwrap();
    store.claim_next_run("killed").await.unwrap().unwrap();
    store.close().await;

    app.start_again().await;
    let resumed = ended(&app, &left.id.to_string()).await;
    assert_eq!(resumed["status"], "succeeded", "{resumed}");
    assert_eq!(resumed["resumed"], 1);
    assert_eq!(app.list_members(&list).len(), 2);
}

#[tokio::test]
async fn a_run_the_server_stops_resumes_when_it_starts_again() {
    let mut app = spawn_app().await;
    let (export, list) = an_export(&app).await;
    app.sandbox
        .state()
        .add_fault(Fault::delay("get_contact_list", 1, 1_500));
    let (_, started) = run(&app, Role::Contributor, &export).await;
    let id = started["id"].as_str().unwrap().to_owned();
    in_phase(&app, &id, "planning").await;

    app.restart().await;

    let resumed = ended(&app, &id).await;
    assert_eq!(resumed["status"], "succeeded", "{resumed}");
    assert_eq!(resumed["resumed"], 1, "the same run went on");
    assert_eq!(app.list_members(&list).len(), 2);
}

/// Constant Contact keeps an activity ten days. A run stopped while its import was processing
/// (no grace: the stop leaves it to the next start), and resumed after that, finds the activity
/// gone: it sends the members again rather than failing or taking them as sent.
#[tokio::test]
async fn a_run_resumed_after_its_import_expired_sends_the_members_again() {
    let mut app = crate::helpers::spawn_app_configured(
        |sandbox| sandbox.activity_processing_time = Duration::from_secs(2),
        |config| config.runs.shutdown_grace_seconds = 0,
    )
    .await;
    let (export, list) = an_export(&app).await;
    let (_, started) = run(&app, Role::Contributor, &export).await;
    let id: uuid::Uuid = started["id"].as_str().unwrap().parse().unwrap();
    for _ in 0..300 {
        let batches = app.state.store.run_batches(id).await.unwrap();
        if batches
            .iter()
            .any(|batch| batch.state == segsync_store::BatchState::Sent)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.stop().await;
    app.sandbox
        .state()
        .advance_clock(Duration::from_secs(11 * 86_400));

    app.start_again().await;
    let resumed = ended(&app, &id.to_string()).await;
    assert_eq!(resumed["status"], "succeeded", "{resumed}");
    assert_eq!(resumed["resumed"], 1);
    assert_eq!(resumed["report"]["sent"], 2, "{resumed}");
    let batches = app.state.store.run_batches(id).await.unwrap();
    let states: Vec<_> = batches.iter().map(|batch| batch.state).collect();
    assert_eq!(
        states,
        [
            segsync_store::BatchState::Failed,
            segsync_store::BatchState::Completed
        ]
    );
    assert_eq!(app.sandbox.state().imports_accepted(), 2);
    assert_eq!(app.list_members(&list).len(), 2);
}

#[tokio::test]
async fn metrics_count_runs_members_and_constant_contact_requests() {
    let app = spawn_app().await;
    let (export, _) = an_export(&app).await;
    let (_, queued) = run(&app, Role::Contributor, &export).await;
    ended(&app, queued["id"].as_str().unwrap()).await;

    let refused = app
        .request(None, Method::GET, "/metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let response = app
        .request(Some(Role::Viewer), Method::GET, "/metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    for expected in [
        "segsync_runs{status=\"succeeded\"} 1",
        "segsync_members_sent_total",
        "segsync_runs_finished_total{status=\"succeeded\"}",
        "segsync_constant_contact_requests_total{endpoint=\"POST activities/contacts_json_import\",status=\"201\"}",
        "segsync_constant_contact_limiter_wait_seconds_bucket",
    ] {
        assert!(
            text.contains(expected),
            "{expected} is missing from:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_run_that_reaches_its_time_budget_stops_and_says_so() {
    let app = crate::helpers::spawn_app_with(|config| config.runs.max_run_seconds = 1).await;
    let (export, list) = an_export(&app).await;
    app.sandbox
        .state()
        .add_fault(Fault::delay("get_contact_list", 1, 2_000));
    let (_, started) = run(&app, Role::Contributor, &export).await;
    let done = ended(&app, started["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "timed_out", "{done}");
    assert_eq!(
        done["reason"],
        "the run reached its maximum duration of 1 s and stopped after sending 0 contacts; the next run sends the rest"
    );
    assert_eq!(done["report"]["sent"], 0, "the report says what it sent");
    assert!(app.list_members(&list).is_empty());
}

#[tokio::test]
async fn a_dry_run_says_what_a_run_would_do_and_sends_nothing() {
    let app = spawn_app().await;
    let (export, list) = an_export(&app).await;
    let (status, plan) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/exports/{export}/dry-run"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    assert_eq!(plan["profiles_read"], 5);
    assert_eq!(plan["profiles_in_segments"], 3);
    assert_eq!(plan["would_send"], 2);
    let skipped = plan["skipped"].as_object().unwrap();
    assert_eq!(
        skipped.values().map(|n| n.as_u64().unwrap()).sum::<u64>(),
        1
    );
    let samples = plan["skipped_samples"].to_string();
    assert!(samples.contains("not-an-email"), "{samples}");
    assert_eq!(plan["imports"], 1);
    assert_eq!(plan["requests_needed"], 3);
    assert_eq!(plan["fits_today"], true);
    assert_eq!(plan["over_member_limit"], false);
    assert!(
        app.sandbox
            .state()
            .requests()
            .iter()
            .all(|request| request.endpoint != "contacts_json_import"),
        "nothing was sent"
    );
    assert!(app.list_members(&list).is_empty());
    let (status, _) = app
        .call(
            Some(Role::Viewer),
            Method::POST,
            &format!("/api/v1/exports/{export}/dry-run"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
