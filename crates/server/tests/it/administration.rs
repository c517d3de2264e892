//! Administration in the console, in headless Chromium: users added with a password shown once,
//! each user's own API tokens, the audit log filtered and paged, and the System page's
//! webhooks, quota and build — and every page of the console checked for accessibility as each
//! role sees it.

use std::time::Duration;

use axum::http::StatusCode as AxumStatus;
use chrono::Utc;
use reqwest::{Method, StatusCode};
use segsync_server::config::WebhookConfig;
use segsync_store::{NewAuditEntry, Role};

use crate::browser::Browser;
use crate::console::{ConsoleFixture, PAGES};
use crate::helpers::{CLIENT_ID, PASSWORD, spawn_app, spawn_app_with};

/// The value of the form field `css` (an input's text).
async fn value_of(browser: &Browser, css: &str) -> String {
    browser
        .client
        .find(fantoccini::Locator::Css(css))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test]
async fn an_admin_adds_a_user_who_signs_in_with_the_password_shown_once() {
    let app = spawn_app().await;
    let browser = Browser::open(&app.base).await;
    browser.sign_in("admin", PASSWORD).await;
    browser.visit("/users").await;
    browser.check_page("users").await;

    // A name already taken is shown at its field, and nothing is added.
    browser.click("#add-user summary").await;
    browser.fill("#username", "viewer").await;
    browser.follow("#add").await;
    assert!(
        browser
            .text("#username-error")
            .await
            .contains("already exists"),
        "{}",
        browser.text("main").await
    );
    browser.check_accessibility().await;

    browser.fill("#username", "carol").await;
    browser.fill("#display_name", "Carol Jones").await;
    browser.choose("#new-role", "contributor").await;
    browser.follow("#add").await;
    let password = value_of(&browser, "#generated-password").await;
    assert!(password.len() >= 40, "a strong password: {password:?}");
    assert!(browser.text("#added").await.contains("carol"));
    assert!(browser.has("#user-carol").await);
    browser.check_page("user-added").await;
    browser.visit("/users").await;
    assert!(
        !browser.has("#generated-password").await,
        "the password is shown once"
    );

    browser.follow("form[action='/sign-out'] button").await;
    browser.sign_in("carol", &password).await;
    assert_eq!(
        browser.text("#who").await,
        "Carol Jones (contributor)",
        "carol signs in with the password shown"
    );
    browser.visit("/users").await;
    assert!(
        browser
            .text("#failure")
            .await
            .contains("may not manage users")
            || browser
                .text("#failure")
                .await
                .contains("may not list users")
    );
}

#[tokio::test]
async fn anyone_makes_sees_the_last_use_of_and_revokes_their_own_api_token() {
    let app = spawn_app().await;
    // A viewer of their own: the test's viewer already has a token.
    let (status, _) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            "/api/v1/users",
            Some(serde_json::json!({ "username": "dora", "role": "viewer", "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let browser = Browser::open(&app.base).await;
    browser.sign_in("dora", PASSWORD).await;
    browser.follow("#tokens-link").await;
    assert!(browser.has("#no-tokens").await, "an empty state to begin");
    browser.check_page("tokens-empty").await;

    // What the browser's own checks let through is checked again, and shown at its field.
    let (cookie, csrf) = app.browser_session("dora").await;
    let refused = app
        .http
        .post(app.url("/account/tokens"))
        .header("cookie", cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", " "),
            ("expires_in_days", "90"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains(r#"id="name-error">give the token a name"#),
        "{page}"
    );
    browser.fill("#token-name", "nightly report").await;
    browser.fill("#expires_in_days", "30").await;
    browser.follow("#create-token").await;
    let token = value_of(&browser, "#new-token").await;
    assert!(token.starts_with("sgs_"), "{token}");
    assert_eq!(browser.text("#tokens .last-used").await, "never");
    browser.check_page("token-created").await;

    let me = |token: &str| {
        app.http
            .get(app.url("/api/v1/me"))
            .bearer_auth(token.to_owned())
            .send()
    };
    let answer = me(&token).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    browser.visit("/account/tokens").await;
    assert!(
        !browser.has("#new-token").await,
        "the token is shown only once"
    );
    let last_used = browser.text("#tokens .last-used").await;
    assert!(
        last_used.starts_with(&Utc::now().format("%Y-%m-%d").to_string()),
        "{last_used}"
    );

    browser.follow("#tokens button.revoke").await;
    assert!(browser.has("#no-tokens").await);
    assert_eq!(
        me(&token).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "a revoked token no longer works"
    );
}

#[tokio::test]
async fn an_admin_reads_the_audit_log_filtered_by_user_action_and_day_a_page_at_a_time() {
    let app = spawn_app().await;
    let store = &app.state.store;
    let users = store.users().await.unwrap();
    let id_of = |name: &str| users.iter().find(|user| user.username == name).unwrap().id;
    for i in 0..57 {
        store
            .audit(NewAuditEntry {
                actor_id: Some(id_of("admin")),
                action: "created",
                object_kind: "segment",
                object_id: &format!("segment-{i}"),
                object_name: &format!("segment {i:02}"),
                detail: None,
            })
            .await
            .unwrap();
    }
    for i in 0..3 {
        store
            .audit(NewAuditEntry {
                actor_id: Some(id_of("contributor")),
                action: "removed",
                object_kind: "export",
                object_id: &format!("export-{i}"),
                object_name: &format!("export {i}"),
                detail: Some(serde_json::json!({ "why": "tidying" })),
            })
            .await
            .unwrap();
    }
    let browser = Browser::open(&app.base).await;
    browser.sign_in("admin", PASSWORD).await;
    browser.follow("a[href='/audit']").await;
    browser.check_page("audit").await;

    browser
        .choose("#filter-user", &id_of("contributor").to_string())
        .await;
    browser.follow("#filter").await;
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css("#audit tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3, "only what the contributor did");
    assert_eq!(browser.text("#audit tbody tr .actor").await, "contributor");
    assert!(!browser.has("#older").await);

    browser.visit("/audit").await;
    browser.choose("#filter-action", "created").await;
    browser.choose("#filter-kind", "segment").await;
    browser.follow("#filter").await;
    let first_page = browser
        .client
        .find_all(fantoccini::Locator::Css("#audit tbody tr"))
        .await
        .unwrap();
    assert_eq!(first_page.len(), 50, "a page of fifty");
    assert!(browser.text("#audit").await.contains("segment 56"));
    browser.follow("#older").await;
    let path = browser.path().await;
    assert!(
        path.contains("action=created") && path.contains("kind=segment"),
        "the next page keeps the filter: {path}"
    );
    let second_page = browser
        .client
        .find_all(fantoccini::Locator::Css("#audit tbody tr"))
        .await
        .unwrap();
    assert_eq!(second_page.len(), 7);
    assert!(browser.text("#audit").await.contains("segment 00"));
    assert!(!browser.has("#older").await, "the last page");

    // Days: none of these entries are from tomorrow; a day that does not read is shown at
    // its field.
    let tomorrow = (Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%d");
    browser.visit(&format!("/audit?since={tomorrow}")).await;
    assert!(browser.has("#no-entries").await);
    browser.visit("/audit?since=last+week").await;
    assert_eq!(browser.text("#since-error").await, "a day as YYYY-MM-DD");
    browser.check_accessibility().await;
}

/// A webhook receiver on a real port that answers every post with 204.
async fn a_webhook_receiver() -> url::Url {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async { AxumStatus::NO_CONTENT }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url.parse().unwrap()
}

#[tokio::test]
async fn the_system_page_tests_the_webhooks_and_shows_the_quota_and_the_build() {
    let url = a_webhook_receiver().await;
    let app = spawn_app_with(|config| {
        config.alerts.webhooks = vec![WebhookConfig {
            url,
            secret: None,
            events: Vec::new(),
        }];
    })
    .await;
    let day = Utc::now().date_naive();
    let store = &app.state.store;
    store.settle_requests(CLIENT_ID, day, 0, 7).await.unwrap();
    store
        .reserve_requests(CLIENT_ID, day, 3, 1_000_000)
        .await
        .unwrap()
        .unwrap();
    store
        .settle_requests("another-servers-key", day, 0, 12)
        .await
        .unwrap();

    let browser = Browser::open(&app.base).await;
    browser.sign_in("admin", PASSWORD).await;
    browser.follow("a[href='/system']").await;
    assert_eq!(
        browser.text("#webhook-0 .last-delivery").await,
        "nothing sent yet"
    );
    let per_day = app.config().constant_contact.requests_per_day;
    let ours = browser.text("#quota tbody tr:first-child").await;
    assert!(
        ours.contains(CLIENT_ID) && ours.contains("this server's"),
        "{ours}"
    );
    assert_eq!(browser.text("#quota tbody tr:first-child .used").await, "7");
    assert_eq!(
        browser.text("#quota tbody tr:first-child .reserved").await,
        "3"
    );
    assert_eq!(
        browser.text("#quota tbody tr:first-child .left").await,
        (u64::from(per_day) - 10).to_string()
    );
    assert!(browser.text("#quota").await.contains("another-servers-key"));
    assert_eq!(
        browser.text("#version").await,
        format!("segsync {}", env!("CARGO_PKG_VERSION"))
    );
    browser.check_page("system").await;

    browser.follow("#test-webhooks").await;
    assert!(
        browser.text("#test-results").await.contains("delivered"),
        "{}",
        browser.text("#test-results").await
    );
    let last = browser.text("#webhook-0 .last-delivery").await;
    assert!(last.ends_with("ping: delivered"), "{last}");
    browser.check_accessibility().await;

    // The API tells the same.
    let (status, webhooks) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/alerts", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(webhooks[0]["last_delivery"]["event"], "ping");
    assert_eq!(webhooks[0]["last_delivery"]["delivered"], true);
}

#[tokio::test]
async fn every_page_passes_the_accessibility_check_for_each_role_that_may_see_it() {
    let app = spawn_app().await;
    let fixture = ConsoleFixture::new(&app).await;
    // The run ends, so that its page shows a report rather than progress.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for role in [Role::Viewer, Role::Contributor, Role::Admin] {
        let browser = Browser::open(&app.base).await;
        browser.sign_in(role.as_str(), PASSWORD).await;
        for (page, least) in PAGES {
            if page == "/sign-in" || least.is_some_and(|least| role < least) {
                continue;
            }
            browser.visit(&fixture.fill(page)).await;
            browser.check_accessibility().await;
            let name = page
                .trim_start_matches('/')
                .replace(['/', '{', '}'], "-")
                .replace("--", "-");
            browser
                .screenshot(&format!("{}-{}", role.as_str(), name.trim_end_matches('-')))
                .await;
        }
    }
    let browser = Browser::open(&app.base).await;
    browser.visit("/sign-in").await;
    browser.check_page("sign-in").await;
}

#[tokio::test]
async fn the_accessibility_check_reports_a_page_with_violations() {
    // The check itself is checked: a page with an unlabelled field and an image without text.
    let app = spawn_app().await;
    let browser = Browser::open(&app.base).await;
    browser
        .client
        .goto("data:text/html,<!doctype html><html><body><img src='x.png'><input type='text'></body></html>")
        .await
        .unwrap();
    let violations = browser.accessibility_violations().await;
    let found = violations.join("\n");
    assert!(found.contains("critical image-alt"), "{found}");
    assert!(found.contains("label"), "{found}");
}
