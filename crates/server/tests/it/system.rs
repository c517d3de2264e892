//! The System page and its API (admins): the profile source as configured, whether it opens,
//! its schema — and never a secret, whatever failed.

use reqwest::Method;
use segsync_engine::ProfileSource;
use segsync_store::Role;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

/// What the API says of the profile source, asked by an admin.
async fn profile_source(app: &TestApp) -> serde_json::Value {
    let (status, source) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            "/api/v1/system/profiles",
            None,
        )
        .await;
    assert!(status.is_success(), "{source}");
    source
}

/// The System page as the admin's browser gets it.
async fn system_page(app: &TestApp) -> String {
    let (cookie, _) = app.browser_session("admin").await;
    app.http
        .get(app.url("/system"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn admins_see_the_profile_source_its_schema_and_its_state() {
    let app = spawn_app().await;
    let source = profile_source(&app).await;
    assert_eq!(source["state"], "ready", "{source}");
    assert_eq!(source["format"], "csv");
    assert_eq!(source["rows"], 5);
    assert!(
        source["location"]
            .as_str()
            .unwrap()
            .ends_with("profiles.csv"),
        "{source}"
    );
    let columns: Vec<(&str, &str)> = source["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|column| {
            (
                column["name"].as_str().unwrap(),
                column["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(columns.contains(&("email", "text")), "{columns:?}");
    assert!(
        columns.contains(&("lifetime_value", "number")),
        "{columns:?}"
    );

    let page = system_page(&app).await;
    for expected in [
        "profiles.csv",
        "Ready",
        "lifetime_value",
        "<th scope=\"col\">Attribute</th>",
    ] {
        assert!(
            page.contains(expected),
            "{expected:?} missing from the page:\n{page}"
        );
    }
}

#[tokio::test]
async fn a_failing_source_says_which_part_failed_and_hides_its_secret() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let secret = "segsync-system-test-secret";
    let app = spawn_app_with(move |config| {
        config.profiles = Some(
            ProfileSource::new("s3://lake/profiles/")
                .with_option("endpoint", endpoint)
                .with_option("allow_http", "true")
                .with_option("region", "us-east-1")
                .with_option("access_key_id", "AKIATEST")
                .with_option("secret_access_key", secret),
        );
    })
    .await;
    let source = profile_source(&app).await;
    assert_eq!(source["state"], "failed", "{source}");
    assert_eq!(source["problem"]["part"], "connection", "{source}");
    assert!(source["schema"].as_array().unwrap().is_empty());
    let secret_option = source["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|option| option["key"] == "secret_access_key")
        .expect("the secret's option is listed");
    assert_eq!(secret_option["value"], "(secret)");
    assert!(!source.to_string().contains(secret), "{source}");

    let page = system_page(&app).await;
    assert!(
        page.contains("Failed") && page.contains("connection:"),
        "{page}"
    );
    assert!(!page.contains(secret), "{page}");
}

#[tokio::test]
async fn without_a_profile_source_the_page_says_what_to_do() {
    let app = spawn_app_with(|config| config.profiles = None).await;
    let source = profile_source(&app).await;
    assert_eq!(source["state"], "not_configured", "{source}");
    let page = system_page(&app).await;
    assert!(page.contains("segsync sources check"), "{page}");
}
