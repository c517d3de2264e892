//! One request budget per API key for every process on the store: a run that does not fit in
//! what is left today waits for the reset, and Constant Contact's `quota_exceeded` pauses the
//! key's runs until then.

use chrono::Utc;
use reqwest::{Method, StatusCode};
use segsync_store::Role;

use crate::helpers::{CLIENT_ID, CLIENT_SECRET, spawn_app, spawn_app_configured};
use crate::runs::an_export;

/// Queues a run and waits until a worker has put it back in the queue with a reason.
async fn deferred(app: &crate::helpers::TestApp, export: &str) -> segsync_store::Run {
    let (status, queued) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/exports/{export}/run"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let id = queued["id"].as_str().unwrap().parse().unwrap();
    for _ in 0..200 {
        let run = app.state.store.run(id).await.unwrap();
        if run.not_before.is_some() {
            return run;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "the run was not deferred: {:?}",
        app.state.store.run(id).await.unwrap()
    );
}

fn next_midnight() -> chrono::DateTime<Utc> {
    constant_contact::budget::next_utc_midnight(Utc::now())
}

#[tokio::test]
async fn a_run_that_does_not_fit_in_what_other_processes_left_today_waits_for_the_reset() {
    let app = spawn_app().await;
    let (export, list) = an_export(&app).await;
    // Other processes on the store used all but two requests of the key's day (setting the
    // export up counted its own look-ups already); the run's poll of the opt-outs takes one.
    let day = Utc::now().date_naive();
    let per_day = u64::from(app.config().constant_contact.requests_per_day);
    let used_here = app
        .state
        .store
        .quota_day(CLIENT_ID, day)
        .await
        .unwrap()
        .used;
    app.state
        .store
        .settle_requests(CLIENT_ID, day, 0, per_day - 2 - used_here)
        .await
        .unwrap();

    let run = deferred(&app, &export).await;
    assert_eq!(run.status, segsync_store::RunStatus::Queued);
    assert_eq!(run.not_before, Some(next_midnight()));
    let reason = run.reason.unwrap();
    assert!(
        reason.contains("needs at least 2 requests and only 1 are left today")
            && reason.contains("deferred until the reset"),
        "{reason}"
    );
    assert!(app.list_members(&list).is_empty(), "nothing was sent");
    let today = app.state.store.quota_day(CLIENT_ID, day).await.unwrap();
    assert_eq!(today.reserved, 0, "a deferred run holds no reservation");
    assert!(
        today.used >= per_day,
        "its list check is counted: {today:?}"
    );
}

#[tokio::test]
async fn quota_exceeded_pauses_the_key_and_the_run_resumes_after_the_reset() {
    // An API key of its own: a process keeps one budget per key, and this test uses it up.
    const KEY: &str = "quota-tests";
    // The sandbox's day: the lists, the export's list check, the run's poll of the opt-outs and
    // its list check; its import is the request too many.
    let app = spawn_app_configured(
        |sandbox| {
            *sandbox = sandbox.clone().with_client(KEY, Some(CLIENT_SECRET), &[]);
            sandbox.daily_quota = 4;
        },
        |config| config.constant_contact.client_id = KEY.to_owned(),
    )
    .await;
    let (export, list) = an_export(&app).await;

    let run = deferred(&app, &export).await;
    let reason = run.reason.unwrap();
    assert!(reason.contains("quota ran out"), "{reason}");
    assert_eq!(run.not_before, Some(next_midnight()));
    assert!(app.list_members(&list).is_empty());
    let today = app
        .state
        .store
        .quota_day(KEY, Utc::now().date_naive())
        .await
        .unwrap();
    assert_eq!(
        today.paused_until,
        Some(next_midnight()),
        "every process learns the key is paused"
    );
}

#[tokio::test]
async fn quota_exceeded_on_the_opt_out_poll_defers_the_run_before_it_sends() {
    const KEY: &str = "quota-opt-outs";
    // The sandbox's day: the lists and the export's list check; the run's poll of the opt-outs
    // is the request too many.
    let app = spawn_app_configured(
        |sandbox| {
            *sandbox = sandbox.clone().with_client(KEY, Some(CLIENT_SECRET), &[]);
            sandbox.daily_quota = 2;
        },
        |config| config.constant_contact.client_id = KEY.to_owned(),
    )
    .await;
    let (export, list) = an_export(&app).await;

    let run = deferred(&app, &export).await;
    let reason = run.reason.unwrap();
    assert!(reason.contains("quota ran out"), "{reason}");
    assert_eq!(run.not_before, Some(next_midnight()));
    let endpoints: Vec<String> = app
        .sandbox
        .state()
        .requests()
        .iter()
        .map(|request| request.endpoint.clone())
        .collect();
    assert_eq!(
        endpoints.last().map(String::as_str),
        Some("get_contacts"),
        "the opt-outs' poll met the quota: {endpoints:?}"
    );
    assert!(
        !endpoints
            .iter()
            .any(|endpoint| endpoint == "contacts_json_import")
    );
    assert!(app.list_members(&list).is_empty());
    let today = app
        .state
        .store
        .quota_day(KEY, Utc::now().date_naive())
        .await
        .unwrap();
    assert_eq!(today.paused_until, Some(next_midnight()));
}

/// The requests Constant Contact's API received from this installation (not its OAuth server).
fn api_requests_received(app: &crate::helpers::TestApp) -> u64 {
    app.sandbox
        .state()
        .requests()
        .iter()
        .filter(|request| request.path.starts_with("/v3/"))
        .count() as u64
}

#[tokio::test]
async fn every_request_outside_runs_spends_the_days_budget_and_look_ups_are_kept() {
    let app = spawn_app().await;
    // Saving the export checks its list and custom fields; setting it up looks up the lists.
    let (export, _) = an_export(&app).await;
    let (_, view) = app
        .call(
            Some(Role::Contributor),
            Method::GET,
            &format!("/api/v1/exports/{export}"),
            None,
        )
        .await;
    let connection = view["connection_id"].as_str().unwrap().to_owned();
    let lists_asked = || {
        app.sandbox
            .state()
            .requests()
            .iter()
            .filter(|request| request.endpoint == "get_contact_lists")
            .count()
    };
    let before = lists_asked();
    for path in ["lists", "custom-fields"] {
        for _ in 0..10 {
            let (status, body) = app
                .call(
                    Some(Role::Contributor),
                    Method::GET,
                    &format!("/api/v1/connections/{connection}/{path}"),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    assert!(
        lists_asked() - before <= 1,
        "ten look-ups in a minute ask Constant Contact at most once"
    );
    let (status, report) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/exports/{export}/dry-run"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let (_, queued) = crate::runs::run(&app, Role::Contributor, &export).await;
    let ended = crate::runs::ended(&app, queued["id"].as_str().unwrap()).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");

    let today = app
        .state
        .store
        .quota_day(CLIENT_ID, Utc::now().date_naive())
        .await
        .unwrap();
    assert_eq!(today.reserved, 0, "every reservation was settled");
    assert_eq!(
        today.used,
        api_requests_received(&app),
        "the budget counts what Constant Contact received"
    );

    // A spent day refuses look-ups before they ask anything.
    let per_day = u64::from(app.config().constant_contact.requests_per_day);
    app.state
        .store
        .settle_requests(CLIENT_ID, Utc::now().date_naive(), 0, per_day)
        .await
        .unwrap();
    let received = api_requests_received(&app);
    let refused = app
        .request(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/exports/{export}/dry-run"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key(reqwest::header::RETRY_AFTER));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "quota_spent", "{body}");
    assert_eq!(api_requests_received(&app), received, "nothing was asked");
}
