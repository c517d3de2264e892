//! Personal data: an address three exports sent to two lists is erased — it leaves both lists
//! in the sandbox, nothing in the store holds it afterwards (every text column of every table
//! scanned, on SQLite and PostgreSQL), later runs never send it while the profiles still hold it,
//! and the receipt says what happened; a failed removal leaves the erasure failed and retriable
//! with the tombstone in force; retention purges on a moved clock; samples are masked.

use std::time::Duration;

use chrono::Utc;
use reqwest::{Method, StatusCode};
use segsync_store::{Role, Store};
use serde_json::{Value, json};
use sqlx::Row;

use crate::exports::{form, set_up};
use crate::helpers::{PROFILES_CSV, TestApp, fresh_postgres_database, spawn_app_configured};
use crate::in_step::{run_to_end, write_profiles};

const ERASED: &str = "ada@example.com";

/// The test profiles with Ada twice (so reports sample her as a duplicate).
fn profiles() -> String {
    format!("{PROFILES_CSV}6,Ada@Example.com,Ada,Lovelace,US,gold,99\n")
}

async fn spawn(database_url: Option<String>, full_samples: bool) -> TestApp {
    spawn_app_configured(
        |sandbox| sandbox.seed_lists = vec!["Newsletter".to_owned(), "Members".to_owned()],
        move |config| {
            if let Some(url) = database_url {
                config.database_url = url;
            }
            config.privacy.full_samples = full_samples;
        },
    )
    .await
}

/// Three exports: gold to Newsletter, gold to Members, the US to Newsletter; all run once.
/// Returns the exports and the two lists.
async fn three_exports_on_two_lists(app: &TestApp) -> (Vec<String>, [String; 2]) {
    write_profiles(app, &profiles());
    let (connection, newsletter, gold) = set_up(app).await;
    let (_, lists) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/connections/{connection}/lists"),
            None,
        )
        .await;
    let members = lists
        .as_array()
        .unwrap()
        .iter()
        .find(|list| list["name"] == "Members")
        .unwrap()["list_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let newsletter = if newsletter == members {
        lists
            .as_array()
            .unwrap()
            .iter()
            .find(|list| list["name"] == "Newsletter")
            .unwrap()["list_id"]
            .as_str()
            .unwrap()
            .to_owned()
    } else {
        newsletter
    };
    let (_, us) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            "/api/v1/segments",
            Some(json!({ "name": "US", "rule": { "attribute": "country", "op": "equals", "value": "US" } })),
        )
        .await;
    let us = us["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/connections/{connection}/export-user"),
            None,
        )
        .await;
    assert!(status.is_success());
    let mut exports = Vec::new();
    for (name, list, segment) in [
        ("gold to newsletter", &newsletter, &gold),
        ("gold to members", &members, &gold),
        ("US to newsletter", &newsletter, &us),
    ] {
        let mut body = form(&connection, list, segment);
        body["name"] = json!(name);
        let (status, export) = app
            .call(
                Some(Role::Admin),
                Method::POST,
                "/api/v1/exports",
                Some(body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{export}");
        let export = export["id"].as_str().unwrap().to_owned();
        let run = run_to_end(app, &export, false).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        exports.push(export);
    }
    (exports, [newsletter, members])
}

/// Polls the erasure until it has ended.
async fn erasure_ended(app: &TestApp, id: &str) -> Value {
    for _ in 0..300 {
        let (status, erasure) = app
            .call(
                Some(Role::Admin),
                Method::GET,
                &format!("/api/v1/privacy/erasures/{id}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{erasure}");
        if matches!(erasure["state"].as_str(), Some("done" | "failed")) {
            return erasure;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("erasure {id} did not end");
}

async fn erase(app: &TestApp, emails: Value) -> String {
    let (status, requested) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            "/api/v1/privacy/erasures",
            Some(json!({ "emails": emails })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{requested}");
    requested["erasure"]["id"].as_str().unwrap().to_owned()
}

/// Every table and text-bearing column of the store, and the rows of each that hold `needle`
/// (in any case), as `table.column: rows`.
async fn columns_holding(store: &Store, needle: &str) -> Vec<String> {
    let pool = store.pool();
    let columns: Vec<(String, String)> = match store.backend() {
        segsync_store::Backend::Sqlite => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            let mut columns = Vec::new();
            for table in tables {
                let rows = sqlx::query(&format!("SELECT name FROM pragma_table_info('{table}')"))
                    .fetch_all(pool)
                    .await
                    .unwrap();
                for row in rows {
                    columns.push((table.clone(), row.try_get::<String, _>("name").unwrap()));
                }
            }
            columns
        }
        segsync_store::Backend::Postgres => {
            let rows = sqlx::query(
                "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
                 WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'json', 'jsonb')",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            rows.iter()
                .map(|row| (row.try_get("t").unwrap(), row.try_get("c").unwrap()))
                .collect()
        }
    };
    assert!(
        columns.len() > 40,
        "the store's columns were not all found: {columns:?}"
    );
    let mut holding = Vec::new();
    for (table, column) in columns {
        let count: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {table} WHERE lower(CAST({column} AS TEXT)) LIKE $1"
        ))
        .bind(format!("%{}%", needle.to_lowercase()))
        .fetch_one(pool)
        .await
        .unwrap();
        if count > 0 {
            holding.push(format!("{table}.{column}: {count}"));
        }
    }
    holding
}

async fn an_address_is_erased_everywhere(app: &TestApp) {
    let (exports, lists) = three_exports_on_two_lists(app).await;
    for list in &lists {
        assert!(app.list_members(list).contains(&ERASED.to_owned()));
    }
    // What other paths leave in the store: a run's skipped entry, an opt-out learned, an audit
    // entry and a failure reason naming the address.
    let store = &app.state.store;
    let (_, runs) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/exports/{}/runs", exports[0]),
            None,
        )
        .await;
    let run = runs[0]["id"].as_str().unwrap().to_owned();
    sqlx::query("INSERT INTO run_skips (run_id, email, reason) VALUES ($1, $2, 'excluded')")
        .bind(&run)
        .bind(" ADA@example.com")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE runs SET reason = $1 WHERE id = $2")
        .bind("Constant Contact refused Ada@Example.com once")
        .bind(&run)
        .execute(store.pool())
        .await
        .unwrap();
    store
        .audit(segsync_store::NewAuditEntry {
            actor_id: None,
            action: "noted",
            object_kind: "test",
            object_id: "1",
            object_name: "a note",
            detail: Some(json!({ "about": "ADA@EXAMPLE.COM" })),
        })
        .await
        .unwrap();
    let connection_id = app.state.store.connections().await.unwrap()[0].id;
    store
        .record_opt_outs(
            connection_id,
            &[segsync_store::OptOut {
                connection_id,
                email: "Ada@example.com".to_owned(),
                email_key: segsync_export::email_key(ERASED),
                contact_id: None,
                opted_out_at: None,
                opt_out_source: Some("Contact".to_owned()),
                reason: None,
                learned_at: Utc::now(),
            }],
            None,
        )
        .await
        .unwrap();
    assert!(
        !columns_holding(store, ERASED).await.is_empty(),
        "the address was in the store before the erasure"
    );

    let (status, access) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            "/api/v1/privacy/lookup?email=ada@example.com",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{access}");
    assert_eq!(access["sent_by"].as_array().unwrap().len(), 3, "{access}");
    let sent_lists: std::collections::BTreeSet<&str> = access["sent_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sent| sent["list_id"].as_str().unwrap())
        .collect();
    assert_eq!(sent_lists.len(), 2, "{access}");
    assert!(access["sent_by"][0]["last_sent_at"].is_string(), "{access}");
    assert!(
        access["sent_by"][0]["fields"]
            .as_array()
            .unwrap()
            .contains(&json!("first_name")),
        "{access}"
    );
    assert_eq!(access["skipped"].as_array().unwrap().len(), 1, "{access}");
    assert_eq!(access["opt_outs"].as_array().unwrap().len(), 1, "{access}");
    assert!(access["erased_at"].is_null());

    let id = erase(app, json!(["Ada@Example.com", "not an address"])).await;
    let erasure = erasure_ended(app, &id).await;
    assert_eq!(erasure["state"], "done", "{erasure}");
    assert_eq!(erasure["people"], 1);
    let person = &erasure["receipt"]["people"][0];
    assert_eq!(person["hash"].as_str().unwrap().len(), 32, "{erasure}");
    assert_eq!(
        person["store"]["ledgers"].as_array().unwrap().len(),
        3,
        "{erasure}"
    );
    assert_eq!(person["store"]["skipped_entries"], 1, "{erasure}");
    assert_eq!(person["store"]["opt_outs"], 1, "{erasure}");
    assert!(
        person["store"]["runs_rewritten"].as_u64().unwrap() >= 1,
        "{erasure}"
    );
    assert_eq!(person["store"]["audit_entries_rewritten"], 1, "{erasure}");
    let account = &person["constant_contact"][0];
    assert_eq!(account["contact_found"], true, "{erasure}");
    assert_eq!(account["contact_deleted"], false, "{erasure}");
    let mut removed_from: Vec<&str> = account["removed_from_lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|list| list.as_str().unwrap())
        .collect();
    removed_from.sort_unstable();
    let mut expected = vec![lists[0].as_str(), lists[1].as_str()];
    expected.sort_unstable();
    assert_eq!(removed_from, expected, "{erasure}");
    assert!(erasure["receipt"]["finished_at"].is_string());

    for list in &lists {
        let members = app.list_members(list);
        assert!(!members.contains(&ERASED.to_owned()), "{members:?}");
        assert!(
            members.contains(&"zoe@example.com".to_owned()),
            "{members:?}"
        );
    }
    assert_eq!(
        columns_holding(store, ERASED).await,
        Vec::<String>::new(),
        "the store still holds the erased address"
    );

    // The profiles still hold Ada: no export sends her again, each run counts her as erased.
    app.sandbox
        .state()
        .add_fault(cc_sandbox::Fault::reject_bodies_containing(
            "contacts_json_import",
            100,
            ERASED,
            "an erased address was sent",
        ));
    for export in &exports {
        let run = run_to_end(app, export, true).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        // Both of Ada's profiles, neither sampled as a duplicate.
        assert_eq!(run["report"]["erased"], 2, "{run}");
        assert_eq!(run["report"]["duplicates_collapsed"], 0, "{run}");
        assert_eq!(run["report"]["rejected"], 0, "{run}");
    }
    for list in &lists {
        assert!(!app.list_members(list).contains(&ERASED.to_owned()));
    }
    let (_, access) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            "/api/v1/privacy/lookup?email=ada@example.com",
            None,
        )
        .await;
    assert_eq!(access["sent_by"], json!([]), "{access}");
    assert!(access["erased_at"].is_string(), "{access}");
    // The audit log says an erasure happened, by how many people only.
    let (_, audit) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            "/api/v1/audit?action=erasure_requested",
            None,
        )
        .await;
    assert_eq!(audit[0]["detail"], json!({ "people": 1 }), "{audit}");
    // Lookups after the erasure put nothing back.
    assert_eq!(columns_holding(store, ERASED).await, Vec::<String>::new());
}

#[tokio::test]
async fn an_erased_address_leaves_every_list_and_the_store_and_is_never_sent_again() {
    let app = spawn(None, true).await;
    an_address_is_erased_everywhere(&app).await;
}

#[tokio::test]
async fn an_erased_address_leaves_every_list_and_the_store_on_postgres() {
    let app = spawn(Some(fresh_postgres_database().await), true).await;
    an_address_is_erased_everywhere(&app).await;
}

#[tokio::test]
async fn a_failed_removal_leaves_the_erasure_failed_and_retriable_with_the_tombstone_in_force() {
    let app = spawn(None, false).await;
    let (exports, lists) = three_exports_on_two_lists(&app).await;
    app.sandbox.state().add_fault(cc_sandbox::Fault::respond(
        "remove_list_memberships",
        1,
        400,
        json!([{ "error_key": "json.field.invalid", "error_message": "refused for the test" }]),
    ));
    // Erased in the console, from an uploaded CSV file.
    let (cookie, csrf) = app.browser_session("admin").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("emails", "")
        .part(
            "file",
            reqwest::multipart::Part::text(format!("id,email\n1,{ERASED}\n"))
                .file_name("erase.csv")
                .mime_str("text/csv")
                .unwrap(),
        );
    let page = app
        .http
        .post(app.url("/privacy/erasures"))
        .header("cookie", &cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("id=\"erasure-requested\""), "{page}");
    assert!(!page.contains(ERASED), "the page names no address: {page}");
    let (_, erasures) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            "/api/v1/privacy/erasures",
            None,
        )
        .await;
    let id = erasures[0]["id"].as_str().unwrap().to_owned();
    let erasure = erasure_ended(&app, &id).await;
    assert_eq!(erasure["state"], "failed", "{erasure}");
    assert!(
        erasure["failure"]
            .as_str()
            .unwrap()
            .contains("removing list memberships"),
        "{erasure}"
    );
    assert!(app.list_members(&lists[0]).contains(&ERASED.to_owned()));
    // The tombstone holds while the removal waits for its retry.
    let run = run_to_end(&app, &exports[0], true).await;
    assert_eq!(run["report"]["erased"], 2, "{run}");

    // Retried from the console's button.
    let page = app
        .http
        .get(app.url("/privacy"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("/privacy/erasures/{id}/retry")),
        "{page}"
    );
    let retried = app
        .http
        .post(app.url(&format!("/privacy/erasures/{id}/retry")))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), StatusCode::SEE_OTHER);
    let erasure = erasure_ended(&app, &id).await;
    assert_eq!(erasure["state"], "done", "{erasure}");
    assert_eq!(erasure["attempts"], 2, "{erasure}");
    for list in &lists {
        assert!(!app.list_members(list).contains(&ERASED.to_owned()));
    }
    let (status, again) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/privacy/erasures/{id}/retry"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["code"], "erasure_not_failed");
}

#[tokio::test]
async fn a_connection_that_says_so_deletes_the_erased_contact() {
    let app = spawn(None, false).await;
    let (_, lists) = three_exports_on_two_lists(&app).await;
    let connection = app.state.store.connections().await.unwrap()[0].id;
    let (status, changed) = app
        .call(
            Some(Role::Admin),
            Method::PATCH,
            &format!("/api/v1/connections/{connection}"),
            Some(json!({ "contact_delete": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["contact_delete"], true);
    let id = erase(&app, json!(["zoe@example.com"])).await;
    let erasure = erasure_ended(&app, &id).await;
    assert_eq!(erasure["state"], "done", "{erasure}");
    assert_eq!(
        erasure["receipt"]["people"][0]["constant_contact"][0]["contact_deleted"],
        true
    );
    let contact = app.sandbox.state().contact("zoe@example.com").unwrap();
    assert_eq!(contact.permission_to_send, "deleted", "{contact:?}");
    for list in &lists {
        assert!(
            !app.list_members(list)
                .contains(&"zoe@example.com".to_owned())
        );
    }
}

#[tokio::test]
async fn samples_are_masked_unless_full_samples_are_turned_on() {
    let app = spawn(None, false).await;
    let (exports, _) = three_exports_on_two_lists(&app).await;
    let run = run_to_end(&app, &exports[0], true).await;
    let samples = &run["report"]["duplicate_samples"];
    assert_eq!(samples[0][0], "a••@example.com", "{run}");
    assert!(!run.to_string().to_lowercase().contains(ERASED), "{run}");
}

#[tokio::test]
async fn retention_purges_details_then_runs_and_audit_on_a_moved_clock() {
    let app = spawn(None, true).await;
    let (exports, _) = three_exports_on_two_lists(&app).await;
    let store = &app.state.store;
    let (_, runs) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/exports/{}/runs", exports[0]),
            None,
        )
        .await;
    let run = runs[0]["id"].as_str().unwrap().to_owned();
    sqlx::query(
        "INSERT INTO run_skips (run_id, email, reason) VALUES ($1, 'x@example.com', 'excluded')",
    )
    .bind(&run)
    .execute(store.pool())
    .await
    .unwrap();
    let retention = app.state.app.retention().clone();
    let now = Utc::now();
    let (_, held) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/privacy/held", None)
        .await;
    assert_eq!(held["runs"], 3, "{held}");
    assert!(held["next_details_purge"].is_string(), "{held}");
    let metrics = app
        .request(Some(Role::Viewer), Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("segsync_personal_data_held{kind=\"runs\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics
            .contains("segsync_personal_data_next_purge_timestamp_seconds{kind=\"run_details\"}"),
        "{metrics}"
    );

    // A wrong password leaves a sign-in failure, forgotten a day later.
    let (status, _) = app
        .call(
            None,
            Method::POST,
            "/api/v1/session",
            Some(json!({ "username": "admin", "password": "not the password" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let nothing = retention.purge(store, now).await.unwrap();
    assert_eq!(nothing.sign_in_failures, 0);
    assert_eq!(nothing.run_details + nothing.runs, 0);

    let later = now + chrono::Duration::days(31);
    let purged = retention.purge(store, later).await.unwrap();
    assert_eq!(purged.run_details, 3);
    assert_eq!(purged.runs, 0);
    assert_eq!(purged.sign_in_failures, 1);
    assert!(
        store
            .run_skips(run.parse().unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    let (_, kept) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/runs/{run}"),
            None,
        )
        .await;
    assert_eq!(kept["report"]["duplicate_samples"], json!([]), "{kept}");
    assert_eq!(kept["report"]["sent"], 2, "the figures stay: {kept}");

    let much_later = now + chrono::Duration::days(401);
    let purged = retention.purge(store, much_later).await.unwrap();
    assert_eq!(purged.runs, 3);
    assert!(purged.audit_entries > 0);
    let (status, _) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/runs/{run}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, held) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/privacy/held", None)
        .await;
    assert_eq!(held["runs"], 0, "{held}");
    assert!(
        held["ledger_members"].as_u64().unwrap() > 0,
        "ledgers stay: {held}"
    );

    // Each round is taken by one node: a second within the interval purges nothing (the
    // server's own round has just run, so the clock moves past it first).
    assert!(
        retention
            .purge_when_due(store, now)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        retention
            .purge_when_due(store, much_later)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        retention
            .purge_when_due(store, much_later)
            .await
            .unwrap()
            .is_none()
    );

    // A removed export's ledger goes at once.
    let (status, _) = app
        .call(
            Some(Role::Admin),
            Method::DELETE,
            &format!("/api/v1/exports/{}", exports[1]),
            None,
        )
        .await;
    assert!(status.is_success());
    let ledgers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM export_ledgers WHERE export_id = $1")
            .bind(&exports[1])
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(ledgers, 0);
}
