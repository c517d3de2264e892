//! Segments over a related table through the API and the console's builder: validated
//! against the table's columns, previewed with their members and the measures that made them
//! match; and a related table that does not fit stops the start.

use reqwest::{Method, StatusCode};
use segsync_engine::{ProfileSource, RelatedTable};
use segsync_store::Role;
use serde_json::json;

use crate::bounded::shown_count;
use crate::browser::Browser;
use crate::helpers::{PASSWORD, PROFILES_CSV, spawn_app_with, test_config};

/// Orders of the test profiles: Ada (1) paid 80 + 40, Grace (2) paid 20 and had 500 refunded,
/// Zoë (3) paid 101; Bruno (5) never ordered, and customer 9 is nobody.
const ORDERS_CSV: &str = "\
customer_id,amount,status
1,80,paid
1,40,paid
2,500,refunded
2,20,paid
3,101,paid
9,999,paid
";

fn orders(folder: &std::path::Path, key: &str) -> RelatedTable {
    let path = folder.join("orders.csv");
    std::fs::write(&path, ORDERS_CSV).unwrap();
    RelatedTable {
        name: "orders".into(),
        source: ProfileSource::new(path.to_string_lossy()),
        key: key.into(),
        profile_key: "profile_id".into(),
        dated_by: None,
    }
}

#[tokio::test]
async fn behaviour_segments_are_validated_and_previewed() {
    let folder = tempfile::tempdir().unwrap();
    let table = orders(folder.path(), "customer_id");
    let app = spawn_app_with(move |config| {
        config.related.insert("orders".into(), table);
    })
    .await;
    let (status, error) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/segments/validate",
            Some(json!({ "name": "typo", "rule": { "all": [
                { "has": "order" },
                { "measure": "sum", "of": "amout", "over": "orders", "op": "greater_than", "value": 1 },
                { "has": "orders", "window": { "op": "within_last", "amount": 3, "unit": "days" } }
            ] } })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let problems: Vec<(&str, &str)> = error["details"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["path"].as_str().unwrap(), p["problem"].as_str().unwrap()))
        .collect();
    assert_eq!(
        problems,
        [
            (
                "rule.all[0]",
                "unknown related table \"order\" (did you mean \"orders\"?); the related tables are orders"
            ),
            (
                "rule.all[1]",
                "\"orders\" has no column \"amout\" (did you mean \"amount\"?)"
            ),
            (
                "rule.all[2].window",
                "\"orders\" has no date column for a window: set dated_by in its configuration"
            ),
        ]
    );
    let (status, created) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/segments",
            Some(json!({ "name": "paid-over-100", "rule": { "measure": "sum", "of": "amount",
                "over": "orders", "where": { "attribute": "status", "op": "equals", "value": "paid" },
                "op": "greater_than", "value": 100 } })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let (status, preview) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/segments/{id}/preview"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["members"], 2, "{preview}");
    let emails: Vec<&str> = preview["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["ada@example.com", "zoe@example.com"]);
    // Beside each member, the measure that made it match, named in words.
    let spent: Vec<&str> = preview["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m[r#"sum of amount over orders where status equals "paid""#]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(spent, ["120", "101"]);
}

#[tokio::test]
async fn a_contributor_builds_a_measure_of_related_rows_in_the_console() {
    let folder = tempfile::tempdir().unwrap();
    let table = orders(folder.path(), "customer_id");
    let app = spawn_app_with(move |config| {
        config.related.insert("orders".into(), table);
    })
    .await;
    let browser = Browser::open(&app.base).await;
    browser.sign_in("contributor", PASSWORD).await;
    browser.visit("/segments/new").await;
    browser.fill("#name", "paid-over-100").await;
    browser.follow("button[value='remove.1']").await;
    browser.follow("#add-measure-0").await;
    browser.choose("#n-1-aggregate", "sum").await;
    browser.choose("#n-1-of", "amount").await;
    browser.choose("#n-1-op", "greater_than").await;
    browser.fill("#n-1-value", "100").await;
    // Its rows' rules offer the orders' columns, not the profiles'.
    browser.follow("#add-condition-1").await;
    assert!(!browser.has("#n-2-attribute option[value='tier']").await);
    browser.choose("#n-2-attribute", "status").await;
    browser.choose("#n-2-op", "equals").await;
    browser.fill("#n-2-value", "paid").await;
    // A "has" row beside it, whose bound is no number: shown at its row.
    browser.follow("#add-has-0").await;
    browser.fill("#n-3-value", "0").await;
    browser.follow("#save").await;
    assert!(
        browser.text("#n-3-error").await.contains("at_least"),
        "{}",
        browser.text("#n-3-error").await
    );
    browser.fill("#n-3-value", "1").await;
    browser.follow("#save").await;

    assert_eq!(browser.text("#preview-count").await, "2 members.");
    let header = browser.text("#preview thead").await;
    assert!(
        header.contains(r#"sum of amount over orders where status equals "paid""#)
            && header.contains("number of orders"),
        "{header}"
    );
    browser.check_page("segment-behaviour").await;
    let id = browser.path().await.rsplit('/').next().unwrap().to_owned();
    let (_, saved) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/segments/{id}"),
            None,
        )
        .await;
    assert_eq!(
        saved["rule"],
        json!({ "all": [
            { "measure": "sum", "of": "amount", "over": "orders", "op": "greater_than", "value": 100,
              "where": { "attribute": "status", "op": "equals", "value": "paid" } },
            { "has": "orders", "at_least": 1 }
        ] })
    );
}

#[tokio::test]
async fn a_related_table_that_does_not_fit_stops_the_start() {
    let folder = tempfile::tempdir().unwrap();
    let mut config = test_config(folder.path());
    let profiles = folder.path().join("profiles.csv");
    std::fs::write(&profiles, PROFILES_CSV).unwrap();
    config.profiles = Some(ProfileSource::new(profiles.to_string_lossy()));
    config
        .related
        .insert("orders".into(), orders(folder.path(), "customer"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let error = segsync_server::spawn(config, listener)
        .await
        .err()
        .expect("the start is refused");
    assert_eq!(
        error.to_string(),
        "related table \"orders\": its key \"customer\" is not one of its columns (did you mean \"customer_id\"?)"
    );
}

#[tokio::test]
async fn member_counts_are_evaluated_again_when_a_related_table_changes() {
    let folder = tempfile::tempdir().unwrap();
    let table = orders(folder.path(), "customer_id");
    let orders_file = std::path::PathBuf::from(table.source.location.as_str());
    let app = spawn_app_with(move |config| {
        config.related.insert("orders".into(), table);
    })
    .await;
    let (status, created) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/segments",
            Some(json!({ "name": "buyers", "rule": { "has": "orders" } })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (cookie, _) = app.browser_session("viewer").await;
    assert_eq!(
        shown_count(&app, &cookie).await,
        "3",
        "Ada, Grace and Zoë ordered"
    );
    // Bruno (5) orders: the profiles did not change, the orders did.
    std::fs::write(&orders_file, format!("{ORDERS_CSV}5,10,paid\n")).unwrap();
    assert_eq!(shown_count(&app, &cookie).await, "4");
}
