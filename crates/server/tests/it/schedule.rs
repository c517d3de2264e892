//! The refresh schedule through the API.

use reqwest::{Method, StatusCode};
use segsync_store::{Role, RunStatus, Trigger};
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};
use crate::runs::an_export;

#[tokio::test]
async fn the_schedule_is_off_until_an_admin_sets_it() {
    let app = spawn_app().await;
    let off: Value = app
        .request(Some(Role::Viewer), Method::GET, "/api/v1/schedule")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(off["schedule"]["frequency"], "off");
    assert_eq!(off["next_run"], Value::Null);

    let too_many = json!({ "frequency": "daily", "times": ["01:00:00", "02:00:00", "03:00:00", "04:00:00", "05:00:00"], "time_zone": "UTC" });
    let refused = app
        .request(Some(Role::Admin), Method::PUT, "/api/v1/schedule")
        .json(&too_many)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("at most 4"),
        "{body}"
    );

    let weekly = json!({ "frequency": "weekly", "days": ["Mon", "Thu"], "times": ["06:30:00"], "time_zone": "America/New_York" });
    let set: Value = app
        .request(Some(Role::Admin), Method::PUT, "/api/v1/schedule")
        .json(&weekly)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(set["schedule"], weekly);
    let next = chrono::DateTime::parse_from_rfc3339(set["next_run"].as_str().unwrap()).unwrap();
    let local = next.with_timezone(&chrono_tz::America::New_York);
    assert_eq!(local.format("%H:%M").to_string(), "06:30");
    assert!(matches!(
        chrono::Datelike::weekday(&local),
        chrono::Weekday::Mon | chrono::Weekday::Thu
    ));
    let read: Value = app
        .request(Some(Role::Viewer), Method::GET, "/api/v1/schedule")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["schedule"], weekly, "kept in the store");
}

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// A second export like `export` whose own schedule is off.
async fn an_unscheduled_copy(app: &crate::helpers::TestApp, export: &str) -> String {
    a_copy_with_its_own_schedule(
        app,
        export,
        "never on schedule",
        json!({ "frequency": "off", "times": [], "time_zone": "UTC" }),
    )
    .await
}

/// Another export like `export`, named `name`, with a schedule of its own.
async fn a_copy_with_its_own_schedule(
    app: &crate::helpers::TestApp,
    export: &str,
    name: &str,
    schedule: Value,
) -> String {
    let (_, original) = app
        .call(
            Some(Role::Contributor),
            Method::GET,
            &format!("/api/v1/exports/{export}"),
            None,
        )
        .await;
    let (status, copy) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/exports",
            Some(json!({
                "name": name,
                "connection_id": original["connection_id"],
                "list_id": original["list_id"],
                "mapping": original["mapping"],
                "segment_ids": original["segment_ids"],
                "schedule_override": schedule,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{copy}");
    copy["id"].as_str().unwrap().to_owned()
}

async fn set_daily_nine_in_new_york(app: &crate::helpers::TestApp) {
    let (status, body) = app
        .call(
            Some(Role::Admin),
            Method::PUT,
            "/api/v1/schedule",
            Some(json!({ "frequency": "daily", "times": ["09:00:00"], "time_zone": "America/New_York" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn each_moment_of_the_schedule_starts_runs_once_and_skips_exports_still_running() {
    let app = spawn_app_with(|config| config.runs.scheduler = false).await;
    let (export, _) = an_export(&app).await;
    let unscheduled = an_unscheduled_copy(&app, &export).await;
    set_daily_nine_in_new_york(&app).await;
    let tick = |now: &str| segsync_runs::schedule::tick(&app.state.runs, at(now));

    assert!(
        tick("2031-03-08T12:00:00Z").await.unwrap().is_empty(),
        "a schedule seen for the first time starts from now"
    );
    // 09:00 in New York is 14:00 UTC before daylight saving time starts on 9 March 2031.
    assert!(tick("2031-03-08T13:59:00Z").await.unwrap().is_empty());
    app.sandbox
        .state()
        .add_fault(cc_sandbox::Fault::delay("get_contact_list", 1, 3_000));
    let started = tick("2031-03-08T14:00:20Z").await.unwrap();
    assert_eq!(started.len(), 1, "{started:?}");
    let first = match &started[0] {
        segsync_runs::Started::Queued(run) => run.clone(),
        skipped => panic!("{skipped:?}"),
    };
    assert_eq!(first.export_id.to_string(), export);
    assert_eq!(first.trigger, Trigger::Schedule);
    assert_eq!(first.requested_by, None);
    assert!(first.acting_user.is_some(), "acts as the export user");
    assert!(
        tick("2031-03-08T14:00:40Z").await.unwrap().is_empty(),
        "a moment is taken once, however many processes tick"
    );

    // The next day 09:00 is 13:00 UTC; the first run is still busy, so this one is skipped.
    let next_day = tick("2031-03-09T13:00:10Z").await.unwrap();
    let skipped = match &next_day[..] {
        [segsync_runs::Started::Skipped(run)] => run.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(skipped.status, RunStatus::Skipped);
    assert_eq!(
        skipped.reason,
        Some(format!(
            "run {} of this export was still queued or running",
            first.id
        ))
    );
    let (_, history) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/exports/{unscheduled}/runs"),
            None,
        )
        .await;
    assert_eq!(
        history,
        json!([]),
        "an export whose schedule is off never runs on schedule"
    );
}

#[tokio::test]
async fn run_all_runs_every_export_with_an_active_schedule() {
    let app = spawn_app_with(|config| config.runs.scheduler = false).await;
    let (export, _) = an_export(&app).await;
    an_unscheduled_copy(&app, &export).await;
    let (_, nothing) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/exports/run-all",
            None,
        )
        .await;
    assert_eq!(
        nothing,
        json!({ "queued": [], "skipped": [] }),
        "the system schedule is off"
    );

    set_daily_nine_in_new_york(&app).await;
    app.sandbox
        .state()
        .add_fault(cc_sandbox::Fault::delay("get_contact_list", 1, 2_000));
    let (status, all) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/exports/run-all",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(all["queued"].as_array().unwrap().len(), 1, "{all}");
    assert_eq!(all["queued"][0]["export_id"], export.as_str());
    assert_eq!(all["queued"][0]["trigger"], "run_all");
    let (_, again) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            "/api/v1/exports/run-all",
            None,
        )
        .await;
    assert_eq!(again["queued"], json!([]));
    assert_eq!(again["skipped"][0]["status"], "skipped", "{again}");
    let (status, _) = app
        .call(
            Some(Role::Viewer),
            Method::POST,
            "/api/v1/exports/run-all",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_export_that_cannot_start_is_skipped_and_the_others_keep_their_moment() {
    let app = spawn_app_with(|config| config.runs.scheduler = false).await;
    let (export, _) = an_export(&app).await;
    // Listed first (by name), with a schedule of its own whose cursor in the store is damaged.
    let broken = a_copy_with_its_own_schedule(
        &app,
        &export,
        "A damaged schedule",
        json!({ "frequency": "daily", "times": ["09:00:00"], "time_zone": "America/New_York" }),
    )
    .await;
    set_daily_nine_in_new_york(&app).await;
    let tick = |now: &str| segsync_runs::schedule::tick(&app.state.runs, at(now));
    assert!(tick("2031-03-08T12:00:00Z").await.unwrap().is_empty());
    assert!(
        app.state
            .store
            .replace_setting(
                &format!("schedule_cursor:export:{broken}"),
                Some(&json!("2031-03-08T12:00:00Z")),
                &json!("not a time"),
            )
            .await
            .unwrap(),
        "the cursor was damaged"
    );

    let started = tick("2031-03-08T14:00:20Z").await.unwrap();
    assert_eq!(started.len(), 2, "{started:?}");
    match &started[0] {
        segsync_runs::Started::Skipped(run) => {
            assert_eq!(run.export_id.to_string(), broken);
            assert_eq!(run.status, RunStatus::Skipped);
            let reason = run.reason.as_deref().unwrap();
            assert!(
                reason.contains(&format!("schedule_cursor:export:{broken}")),
                "the reason names what is wrong: {reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    match &started[1] {
        segsync_runs::Started::Queued(run) => assert_eq!(run.export_id.to_string(), export),
        other => panic!("the export after the broken one kept its moment: {other:?}"),
    }
}
