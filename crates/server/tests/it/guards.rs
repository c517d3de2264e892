//! Guards on destructive runs: a mirror run over empty or cut profiles removes nothing and waits
//! for a person, who sees the numbers and confirms it (it goes on) or discards it — through the
//! API, the console and a webhook, against the sandbox.

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use segsync_server::config::{AlertEvent, WebhookConfig};
use segsync_store::Role;
use serde_json::Value;

use crate::alerts::Receiver;
use crate::helpers::{PROFILES_CSV, TestApp, spawn_app_with};
use crate::in_step::{export_in_mode, removal_requests, run_to_end, write_profiles};
use crate::runs::ended;

/// The test profiles and `extra` more gold members, `member0@example.com` on.
fn profiles_with(extra: usize) -> String {
    let many: String = (0..extra)
        .map(|n| format!("{},member{n}@example.com,M,Ember,US,gold,1\n", 100 + n))
        .collect();
    format!("{PROFILES_CSV}{many}")
}

/// The run's console page as `username` sees it.
async fn run_page(app: &TestApp, username: &str, run: &str) -> String {
    let (cookie, _) = app.browser_session(username).await;
    app.http
        .get(app.url(&format!("/runs/{run}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn tripped(run: &Value) -> Vec<&str> {
    run["guard"]["tripped"]
        .as_array()
        .unwrap_or_else(|| panic!("no guard: {run}"))
        .iter()
        .map(|guard| guard.as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn mirror_runs_over_empty_or_cut_profiles_remove_nothing_until_a_person_confirms() {
    let (hook, hook_url) = Receiver::start(&[]).await;
    let app = spawn_app_with(|config| {
        config.alerts.check_seconds = 1;
        config.alerts.webhooks = vec![WebhookConfig {
            url: hook_url,
            secret: Some(SecretString::from("whsec-guards")),
            events: vec![AlertEvent::RunNeedsConfirmation],
        }];
    })
    .await;
    write_profiles(&app, &profiles_with(20));
    let (export, list) = export_in_mode(&app, "mirror", |_, _| {}).await;
    let first = run_to_end(&app, &export, false).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    assert_eq!(app.list_members(&list).len(), 22);

    // A failed upstream load: the profiles arrive empty.
    write_profiles(&app, PROFILES_CSV.lines().next().unwrap());
    let removals_before = removal_requests(&app);
    let (status, dry_run) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/exports/{export}/dry-run"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{dry_run}");
    assert_eq!(
        tripped(&dry_run),
        ["empty_source", "removal_share", "member_drop"],
        "the dry run says which guards would stop the run: {dry_run}"
    );
    let empty = run_to_end(&app, &export, false).await;
    assert_eq!(empty["status"], "awaiting_confirmation", "{empty}");
    assert_eq!(
        tripped(&empty),
        ["empty_source", "removal_share", "member_drop"]
    );
    let guard = &empty["guard"];
    assert_eq!(guard["profiles_read"], 0);
    assert_eq!(guard["members_before"], 23, "with the invalid email");
    assert_eq!(guard["members_now"], 0);
    assert_eq!(guard["removals_planned"], 22);
    assert_eq!(guard["guards"]["max_removal_share"], 0.2);
    let samples = guard["removal_samples"].as_array().unwrap();
    assert!(!samples.is_empty(), "{guard}");
    let on_list = app.list_members(&list);
    assert!(
        samples
            .iter()
            .all(|email| on_list.contains(&email.as_str().unwrap().to_owned())),
        "samples are members of the list: {guard}"
    );
    assert!(
        empty["reason"]
            .as_str()
            .unwrap()
            .contains("the profile source has no rows"),
        "{empty}"
    );
    assert_eq!(app.list_members(&list).len(), 22, "nobody was removed");
    assert_eq!(removal_requests(&app), removals_before);

    // The run holds its export: nothing else runs until a person decides.
    let (status, refused) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/exports/{export}/run"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["details"]["run_id"], empty["id"]);

    let alert = hook.until_received(1).await;
    assert_eq!(alert[0].event, "run.needs_confirmation");
    let body: Value = serde_json::from_str(&alert[0].body).unwrap();
    assert_eq!(body["run"]["id"], empty["id"]);
    assert_eq!(body["run"]["guard"]["removals_planned"], 22, "{body}");

    let empty_id = empty["id"].as_str().unwrap();
    let (status, discarded) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/runs/{empty_id}/discard"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{discarded}");
    assert_eq!(discarded["status"], "cancelled");
    let (status, again) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/runs/{empty_id}/confirm"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["code"], "not_awaiting_confirmation");
    assert_eq!(app.list_members(&list).len(), 22);

    // A load cut in half: ten of the twenty-two leave, which is more than 20 % of the list but
    // less than half of the members.
    write_profiles(&app, &profiles_with(10));
    let cut = run_to_end(&app, &export, false).await;
    assert_eq!(cut["status"], "awaiting_confirmation", "{cut}");
    assert_eq!(tripped(&cut), ["removal_share"]);
    assert_eq!(cut["guard"]["removals_planned"], 10);
    assert_eq!(app.list_members(&list).len(), 22);
    let cut_id = cut["id"].as_str().unwrap();

    // The console shows the numbers and the buttons to whoever may decide.
    let page = run_page(&app, "contributor", cut_id).await;
    assert!(page.contains("id=\"awaiting-confirmation\""), "{page}");
    assert!(page.contains("id=\"confirm-removals\""), "{page}");
    assert!(
        page.contains("data-figure=\"Removals planned\">10<"),
        "{page}"
    );
    let page = run_page(&app, "viewer", cut_id).await;
    assert!(page.contains("id=\"awaiting-confirmation\""), "{page}");
    assert!(!page.contains("id=\"confirm-removals\""), "{page}");

    let (status, _) = app
        .call(
            Some(Role::Viewer),
            Method::POST,
            &format!("/api/v1/runs/{cut_id}/confirm"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, confirmed) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/runs/{cut_id}/confirm"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_eq!(confirmed["confirmed_removals"], 10);
    let done = ended(&app, cut_id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["report"]["removed"], 10, "{done}");
    assert_eq!(app.list_members(&list).len(), 12);
}

#[tokio::test]
async fn a_confirmation_covers_the_removals_it_was_given_for_and_no_more() {
    let app = spawn_app_with(|_| {}).await;
    write_profiles(&app, &profiles_with(20));
    let (export, list) = export_in_mode(&app, "mirror", |_, _| {}).await;
    assert_eq!(
        run_to_end(&app, &export, false).await["status"],
        "succeeded"
    );

    write_profiles(&app, &profiles_with(10));
    let cut = run_to_end(&app, &export, false).await;
    assert_eq!(cut["guard"]["removals_planned"], 10, "{cut}");
    // Before the confirmed run starts again, the load gets worse still.
    write_profiles(&app, &profiles_with(2));
    let cut_id = cut["id"].as_str().unwrap();
    let (status, _) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/runs/{cut_id}/confirm"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let worse = ended(&app, cut_id).await;
    assert_eq!(worse["status"], "awaiting_confirmation", "{worse}");
    assert_eq!(worse["guard"]["removals_planned"], 18, "{worse}");
    assert_eq!(app.list_members(&list).len(), 22, "nothing removed");
}
