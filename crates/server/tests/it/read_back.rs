//! The list read back: members removed, unsubscribed or deleted in Constant Contact are found
//! missing by cause, a member added there by someone else is found extra and left alone, the
//! ledger learns from it, and the next run adds back what was removed — never who unsubscribed.
//! Through the API, the console and /metrics, against the sandbox's contact exports.

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::exports::{form, set_up};
use crate::helpers::{PROFILES_CSV, TestApp, spawn_app};
use crate::in_step::{guards_off, run_to_end, write_profiles};
use crate::runs::ended;

/// The test profiles with three more gold members, `member0@example.com` to `member2@…`.
fn profiles() -> String {
    let more: String = (0..3)
        .map(|n| format!("{},member{n}@example.com,M,Ember,US,gold,1\n", 100 + n))
        .collect();
    format!("{PROFILES_CSV}{more}")
}

/// An export of the gold segment in `mode` that reads its list back when `verify` says.
async fn export(app: &TestApp, mode: &str, verify: &str) -> (String, Uuid) {
    let (connection, list, segment) = set_up(app).await;
    let (status, _) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/connections/{connection}/export-user"),
            None,
        )
        .await;
    assert!(status.is_success());
    let mut body = form(&connection, &list, &segment);
    body["sync_mode"] = json!(mode);
    body["guards"] = guards_off();
    body["verify"] = json!(verify);
    let (status, export) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/exports",
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{export}");
    assert_eq!(export["verify"], verify);
    (
        export["id"].as_str().unwrap().to_owned(),
        list.parse().unwrap(),
    )
}

async fn read_back(app: &TestApp, export: &str) -> Value {
    let (status, queued) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/exports/{export}/verify"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["purpose"], "verify");
    let run = ended(app, queued["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    run
}

fn members(app: &TestApp, list: Uuid) -> Vec<String> {
    let mut members = app.sandbox.state().list_members(list);
    members.sort();
    members
}

/// A cause's count and samples, as the report has them.
fn cause(verification: &Value, kind: &str, cause: &str) -> (u64, Vec<String>) {
    let drift = &verification[format!("{kind}_by_cause")][cause];
    (
        drift["count"].as_u64().unwrap_or(0),
        drift["samples"]
            .as_array()
            .map(|samples| {
                samples
                    .iter()
                    .map(|sample| sample.as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_list_read_back_finds_each_cause_and_the_next_run_adds_back_what_was_removed() {
    let app = spawn_app().await;
    write_profiles(&app, &profiles());
    let (export, list) = export(&app, "add_only", "off").await;
    let first = run_to_end(&app, &export, false).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    assert!(first["report"]["verification"].is_null(), "{first}");
    assert_eq!(members(&app, list).len(), 5);

    // Out of band: one member removed by hand, one unsubscribes, one deleted by the account's
    // owner, and someone adds an address of their own.
    let sandbox = app.sandbox.state();
    assert!(sandbox.remove_from_list(list, "member0@example.com"));
    sandbox.delete_contacts(&["member2@example.com".to_owned()]);
    assert!(sandbox.add_to_list(list, "outsider@example.com"));

    // Without reading the list back a delta run believes its ledger and sends nothing.
    let blind = run_to_end(&app, &export, false).await;
    assert_eq!(blind["report"]["sent"], 0, "{blind}");
    // One more opts out after that run: the reading, not a run's poll, finds it.
    sandbox.unsubscribe_because(&["member1@example.com".to_owned()], Some("too many emails"));

    let exports_before = app
        .sandbox
        .state()
        .requests()
        .iter()
        .filter(|request| request.endpoint == "contact_exports")
        .count();
    let run = read_back(&app, &export).await;
    let verification = &run["report"]["verification"];
    assert_eq!(verification["list_members"], 3, "{verification:#}");
    assert_eq!(verification["meant"], 5, "{verification:#}");
    assert_eq!(verification["matched"], 2, "{verification:#}");
    assert_eq!(verification["missing"], 3, "{verification:#}");
    assert_eq!(verification["extra"], 1, "{verification:#}");
    assert_eq!(
        cause(verification, "missing", "removed"),
        (1, vec!["member0@example.com".to_owned()])
    );
    assert_eq!(
        cause(verification, "missing", "unsubscribed"),
        (1, vec!["member1@example.com".to_owned()])
    );
    assert_eq!(
        cause(verification, "missing", "deleted"),
        (1, vec!["member2@example.com".to_owned()])
    );
    assert_eq!(
        cause(verification, "extra", "added_elsewhere"),
        (1, vec!["outsider@example.com".to_owned()])
    );
    assert_eq!(verification["ledger_forgotten"], 2);
    assert_eq!(verification["ledger_unsubscribed"], 1);
    // The list, then the unsubscribed and the deleted contacts: three exports whatever the
    // sizes, and nothing sent.
    let exports_after = app
        .sandbox
        .state()
        .requests()
        .iter()
        .filter(|request| request.endpoint == "contact_exports")
        .count();
    assert_eq!(exports_after - exports_before, 3);
    assert!(
        verification["requests"].as_u64().unwrap() <= segsync_export::READ_BACK_REQUESTS,
        "{verification}"
    );
    assert_eq!(run["report"]["sent"], 0);

    // The next run adds back the removed and the deleted member, never the one who
    // unsubscribed, and leaves the outsider alone.
    let next = run_to_end(&app, &export, false).await;
    assert_eq!(next["status"], "succeeded", "{next}");
    assert_eq!(next["report"]["sync"]["adds"], 2, "{next}");
    assert_eq!(
        members(&app, list),
        [
            "ada@example.com",
            "member0@example.com",
            "member2@example.com",
            "outsider@example.com",
            "zoe@example.com"
        ]
    );

    // The console shows the causes on the run's page and the drift beside the export's runs.
    let (cookie, _) = app.browser_session("viewer").await;
    let page = |path: String| {
        let request = app.http.get(app.url(&path)).header("cookie", &cookie);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let run_page = page(format!("/runs/{}", run["id"].as_str().unwrap())).await;
    assert!(run_page.contains("id=\"list-read-back\""), "{run_page}");
    assert!(
        run_page.contains("data-kind=\"missing\" data-cause=\"removed\""),
        "{run_page}"
    );
    assert!(run_page.contains("outsider@example.com"), "{run_page}");
    let export_page = page(format!("/exports/{export}")).await;
    assert!(
        export_page.contains("id=\"chart-drift-figure\""),
        "{export_page}"
    );

    let metrics = app
        .request(Some(Role::Viewer), Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(&format!(
            "segsync_list_drift{{export=\"{export}\",kind=\"missing\"}} 3"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "segsync_list_drift{{export=\"{export}\",kind=\"extra\"}} 1"
        )),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_mirror_run_reads_its_list_back_after_sending_and_leaves_what_others_added() {
    let app = spawn_app().await;
    write_profiles(&app, &profiles());
    let (export, list) = export(&app, "mirror", "after_run").await;
    let first = run_to_end(&app, &export, false).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let verification = &first["report"]["verification"];
    assert_eq!(verification["list_members"], 5, "{first}");
    assert_eq!(verification["missing"], 0, "{verification}");
    assert_eq!(verification["extra"], 0, "{verification}");

    let sandbox = app.sandbox.state();
    assert!(sandbox.remove_from_list(list, "member0@example.com"));
    assert!(sandbox.add_to_list(list, "outsider@example.com"));
    // zoe leaves the segment: the mirror run removes her.
    write_profiles(&app, &profiles().replace("FR,gold", "FR,silver"));

    let second = run_to_end(&app, &export, false).await;
    assert_eq!(second["status"], "succeeded", "{second}");
    assert_eq!(second["report"]["removed"], 1, "{second}");
    let verification = &second["report"]["verification"];
    assert_eq!(
        cause(verification, "missing", "removed"),
        (1, vec!["member0@example.com".to_owned()]),
        "{verification:#}"
    );
    assert_eq!(
        cause(verification, "extra", "added_elsewhere"),
        (1, vec!["outsider@example.com".to_owned()]),
        "{verification:#}"
    );
    assert_eq!(verification["missing"], 1);
    assert_eq!(verification["extra"], 1);

    // The run after adds member0 back; the outsider, never the export's, stays.
    let third = run_to_end(&app, &export, false).await;
    assert_eq!(third["report"]["sync"]["adds"], 1, "{third}");
    assert_eq!(third["report"]["removed"], 0, "{third}");
    let verification = &third["report"]["verification"];
    assert_eq!(verification["missing"], 0, "{verification:#}");
    assert_eq!(
        cause(verification, "extra", "added_elsewhere").0,
        1,
        "{verification:#}"
    );
    assert_eq!(
        members(&app, list),
        [
            "ada@example.com",
            "member0@example.com",
            "member1@example.com",
            "member2@example.com",
            "outsider@example.com"
        ]
    );
}
