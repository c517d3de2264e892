//! Exclusions: addresses an admin keeps (through the API, and a CSV file uploaded in the
//! console) and those of the configured exclusions source are never sent by any export; the
//! run report counts and samples them as excluded and still adds up; the store and the audit
//! log never hold the addresses.

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::json;

use crate::helpers::{PROFILES_CSV, spawn_app_with};
use crate::in_step::{export_in_mode, run_to_end, write_profiles};

#[tokio::test]
async fn excluded_addresses_are_never_sent_and_never_stored_in_the_clear() {
    let folder = tempfile::tempdir().unwrap();
    let source = folder.path().join("do-not-contact.csv");
    std::fs::write(&source, "id,email\n1,Member2@Example.com\n").unwrap();
    let source_text = source.to_string_lossy().into_owned();
    let app = spawn_app_with(|config| {
        config.exclusions = Some(segsync_runs::ExclusionsSource {
            source: segsync_engine::ProfileSource::new(source_text.clone()),
            email_column: "email".to_owned(),
        });
    })
    .await;
    let more: String = (0..3)
        .map(|n| format!("{},member{n}@example.com,M,Ember,US,gold,1\n", 100 + n))
        .collect();
    write_profiles(&app, &format!("{PROFILES_CSV}{more}"));

    // An admin excludes one address with a CSV pasted through the API; a bad line is refused
    // by its number and the rest kept.
    let (status, change) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            "/api/v1/exclusions",
            Some(json!({ "emails": ["email,name\nzoe@example.com,Zoë\nnot-an-address,X\n"] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{change}");
    assert_eq!(change["changed"], 1, "{change}");
    assert_eq!(change["refused"][0]["line"], 3, "{change}");
    assert_eq!(change["refused"][0]["value"], "not-an-address", "{change}");
    let (status, _) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/exclusions",
            Some(json!({ "emails": ["ada@example.com"] })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // In the console, a CSV file uploaded excludes member0.
    let (cookie, csrf) = app.browser_session("admin").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("action", "add")
        .text("emails", "")
        .part(
            "file",
            reqwest::multipart::Part::text("email\nmember0@example.com\n")
                .file_name("exclude.csv")
                .mime_str("text/csv")
                .unwrap(),
        );
    let page = app
        .http
        .post(app.url("/exclusions"))
        .header("cookie", &cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("<span id=\"changed\">1</span>"), "{page}");
    assert!(
        page.contains("<strong>2</strong> excluded addresses"),
        "{page}"
    );

    let (export, list) = export_in_mode(&app, "add_only", |_, _| {}).await;
    let run = run_to_end(&app, &export, false).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    let report = &run["report"];
    assert_eq!(report["excluded"], 3, "{report}");
    let mut samples: Vec<&str> = report["excluded_samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sample| sample.as_str().unwrap())
        .collect();
    samples.sort_unstable();
    assert_eq!(
        samples,
        [
            "member0@example.com",
            "member2@example.com",
            "zoe@example.com"
        ]
    );
    assert_eq!(report["sent"], 2, "{report}");
    let mut members = app.list_members(&list);
    members.sort();
    assert_eq!(members, ["ada@example.com", "member1@example.com"]);
    // Every profile accounted for: 8 read, 2 outside, 1 invalid, 3 excluded, 2 sent.
    assert_eq!(report["profiles_read"], 8);
    assert_eq!(report["profiles_in_segments"], 6);
    assert_eq!(report["not_sent"], 0);

    // Nothing holds an excluded address in the clear: not the API, not the audit log.
    let (_, listed) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/exclusions", None)
        .await;
    assert_eq!(listed["stored"].as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(
        listed["source"],
        json!(source.to_string_lossy()),
        "{listed}"
    );
    assert!(!listed.to_string().contains("zoe"), "{listed}");
    let (_, audit) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/audit", None)
        .await;
    let audit = audit.to_string();
    assert!(audit.contains("\"excluded\""), "{audit}");
    assert!(
        !audit.contains("zoe@example.com") && !audit.contains("member0@example.com"),
        "{audit}"
    );

    // Removed, an address is sent again by the next run.
    let (_, change) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            "/api/v1/exclusions/remove",
            Some(json!({ "emails": ["ZOE@example.com"] })),
        )
        .await;
    assert_eq!(change["changed"], 1, "{change}");
    let next = run_to_end(&app, &export, false).await;
    assert_eq!(next["report"]["sync"]["adds"], 1, "{next}");
    assert_eq!(next["report"]["excluded"], 2, "{next}");
}
