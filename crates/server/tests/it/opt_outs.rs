//! Opt-outs brought home: a contact who unsubscribes in Constant Contact between runs is learned
//! before the next run sends, never sent again (a full resync included), listed for admins, and
//! written back to the customer data — read back here by DuckDB and by SQL, not by segsync.

use reqwest::{Method, StatusCode};
use segsync_store::Role;

use crate::helpers::{PROFILES_CSV, TestApp, fresh_postgres_database, spawn_app_with};
use crate::in_step::{export_in_mode, run_to_end, write_profiles};

/// The test profiles with three more gold members, `member0@example.com` to `member2@…`.
fn profiles() -> String {
    let more: String = (0..3)
        .map(|n| format!("{},member{n}@example.com,M,Ember,US,gold,1\n", 100 + n))
        .collect();
    format!("{PROFILES_CSV}{more}")
}

/// Runs an export, has member1 opt out in Constant Contact, and runs a full resync that must
/// not send it (the sandbox refuses any import that carries it). Returns the connection.
async fn opt_out_between_runs(app: &TestApp) -> String {
    write_profiles(app, &profiles());
    let (export, _) = export_in_mode(app, "add_only", |_, _| {}).await;
    let first = run_to_end(app, &export, false).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    assert_eq!(first["report"]["sent"], 5, "{first}");

    app.sandbox
        .state()
        .unsubscribe_because(&["member1@example.com".to_owned()], Some("too many emails"));
    app.sandbox
        .state()
        .add_fault(cc_sandbox::Fault::reject_bodies_containing(
            "contacts_json_import",
            100,
            "member1@example.com",
            "an opted-out contact was sent",
        ));
    let resync = run_to_end(app, &export, true).await;
    assert_eq!(resync["status"], "succeeded", "{resync}");
    assert_eq!(resync["report"]["sent"], 4, "{resync}");
    assert_eq!(resync["report"]["rejected"], 0, "{resync}");
    assert_eq!(resync["report"]["sync"]["unsubscribed"], 1, "{resync}");
    let (_, connections) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/connections", None)
        .await;
    connections[0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_opt_out_is_never_sent_listed_for_admins_and_written_back_to_a_parquet_folder() {
    let folder = tempfile::tempdir().unwrap();
    let target = folder.path().join("opt-outs");
    let target_text = target.to_string_lossy().into_owned();
    let app = spawn_app_with(|config| {
        config.opt_outs.write_to = Some(segsync_engine::ProfileSource::new(target_text.clone()));
    })
    .await;
    let connection = opt_out_between_runs(&app).await;

    let (status, opt_outs) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/connections/{connection}/opt-outs"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{opt_outs}");
    let opt_outs = opt_outs.as_array().unwrap();
    assert_eq!(opt_outs.len(), 1, "{opt_outs:?}");
    assert_eq!(opt_outs[0]["email"], "member1@example.com");
    assert_eq!(opt_outs[0]["opt_out_source"], "Contact");
    assert_eq!(opt_outs[0]["reason"], "too many emails");
    assert!(opt_outs[0]["contact_id"].is_string());
    let csv = app
        .request(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/connections/{connection}/opt-outs?format=csv"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("email,contact_id,opted_out_at,opt_out_source,reason,connection_id,learned_at")
    );
    assert!(
        lines
            .next()
            .is_some_and(|line| line.starts_with("member1@example.com,")),
        "{csv}"
    );
    // Emails of people who opted out are for admins.
    let (status, _) = app
        .call(
            Some(Role::Contributor),
            Method::GET,
            &format!("/api/v1/connections/{connection}/opt-outs"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // DuckDB reads what was written back.
    let python = std::env::var("DUCKDB_PYTHON")
        .expect("DUCKDB_PYTHON names a Python with duckdb (scripts/test installs it)");
    let query = format!(
        "import duckdb; print(duckdb.sql(\"select email, opt_out_source, reason, connection_id, opted_out_at is not null from read_parquet('{}/*.parquet')\").fetchall())",
        target.display()
    );
    let output = std::process::Command::new(python)
        .args(["-c", &query])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("[('member1@example.com', 'Contact', 'too many emails', '{connection}', True)]")
    );

    // Known opt-outs are written back once: another run appends nothing.
    let (_, exports) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/exports", None)
        .await;
    let export = exports[0]["id"].as_str().unwrap();
    run_to_end(&app, export, false).await;
    let files = std::fs::read_dir(&target).unwrap().count();
    assert_eq!(files, 1);
}

#[tokio::test]
async fn opt_outs_are_written_back_to_a_postgresql_table() {
    let database = fresh_postgres_database().await;
    let pool = sqlx::PgPool::connect(&database).await.unwrap();
    sqlx::query(
        "CREATE TABLE crm_opt_outs (email text NOT NULL, contact_id text, opted_out_at timestamptz, opt_out_source text, reason text, connection_id text NOT NULL, learned_at timestamptz NOT NULL)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let location = database.clone();
    let app = spawn_app_with(move |config| {
        config.opt_outs.write_to =
            Some(segsync_engine::ProfileSource::new(location).with_option("table", "crm_opt_outs"));
    })
    .await;
    let connection = opt_out_between_runs(&app).await;
    let rows: Vec<(String, Option<String>, Option<String>, String)> = sqlx::query_as(
        "SELECT email, opt_out_source, reason, connection_id FROM crm_opt_outs WHERE opted_out_at IS NOT NULL AND learned_at <= now()",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [(
            "member1@example.com".to_owned(),
            Some("Contact".to_owned()),
            Some("too many emails".to_owned()),
            connection
        )]
    );
}
