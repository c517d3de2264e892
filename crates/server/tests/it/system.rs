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
pub(crate) async fn system_page(app: &TestApp) -> String {
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

#[tokio::test]
async fn admins_see_todays_requests_per_api_key_and_the_build() {
    let app = spawn_app().await;
    let day = chrono::Utc::now().date_naive();
    let store = &app.state.store;
    store
        .settle_requests(crate::helpers::CLIENT_ID, day, 0, 40)
        .await
        .unwrap();
    store
        .reserve_requests(crate::helpers::CLIENT_ID, day, 25, 1_000_000)
        .await
        .unwrap()
        .unwrap();
    store
        .settle_requests("a-key-of-another-server", day, 0, 5)
        .await
        .unwrap();
    let (status, quota) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/system/quota", None)
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{quota}");
    let per_day = u64::from(app.config().constant_contact.requests_per_day);
    assert_eq!(quota[0]["api_key"], crate::helpers::CLIENT_ID);
    assert_eq!(quota[0]["configured"], true);
    assert_eq!(quota[0]["used"], 40);
    assert_eq!(quota[0]["reserved"], 25);
    assert_eq!(quota[0]["left"], per_day - 65);
    assert_eq!(quota[1]["api_key"], "a-key-of-another-server");
    assert_eq!(quota[1]["configured"], false);
    assert_eq!(
        quota[1]["left"],
        serde_json::Value::Null,
        "another server's budget is its own to know"
    );

    let (status, about) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/system/about", None)
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{about}");
    assert_eq!(about["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(about["database"], "sqlite");
    for path in ["/api/v1/system/quota", "/api/v1/system/about"] {
        let (status, _) = app
            .call(Some(Role::Contributor), Method::GET, path, None)
            .await;
        assert_eq!(status, reqwest::StatusCode::FORBIDDEN, "{path}");
    }
}
