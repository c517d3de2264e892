//! The home page in headless Chromium: the first steps before anything exists, then what needs
//! attention — a failed run, a connection to re-authenticate, an export without a schedule —
//! and what to try next once an export ran, until dismissed.

use segsync_store::Role;

use crate::browser::Browser;
use crate::helpers::{PASSWORD, spawn_app};
use crate::runs::{an_export, ended, run};

#[tokio::test]
async fn before_anything_exists_home_shows_the_first_steps() {
    let app = spawn_app().await;
    let browser = Browser::open(&app.base).await;
    browser.sign_in("admin", PASSWORD).await;
    assert_eq!(browser.path().await, "/");
    let steps = browser.text("#first-steps").await;
    assert!(steps.contains("Add a connection"), "{steps}");
    assert!(browser.has("#first-steps a[href='/connections/new']").await);
    assert!(browser.has("#nothing-to-do").await);
    browser.check_page("home-first-steps").await;
}

#[tokio::test]
async fn home_says_what_needs_attention_and_where_to_go() {
    let app = spawn_app().await;
    let (export, _) = an_export(&app).await;
    // Constant Contact refuses the connection's tokens: the run fails and the connection
    // needs re-authenticating.
    app.sandbox.state().revoke_tokens();
    app.sandbox.state().expire_access_tokens();
    let (_, queued) = run(&app, Role::Contributor, &export).await;
    let failed = ended(&app, queued["id"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "failed");

    let browser = Browser::open(&app.base).await;
    browser.sign_in("admin", PASSWORD).await;
    assert!(!browser.has("#first-steps").await);
    let run_link = format!(
        "#attention li.failed a[href='/runs/{}']",
        failed["id"].as_str().unwrap()
    );
    assert!(browser.has(&run_link).await, "the failed run, linked");
    assert!(
        browser
            .text("#attention li.failed")
            .await
            .contains("refused the refresh token")
    );
    assert!(
        browser
            .has("#attention li.connection a[href^='/connections/']")
            .await,
        "admins go to the connection"
    );
    assert!(
        browser
            .has(&format!(
                "#attention li.unscheduled a[href='/exports/{export}']"
            ))
            .await,
        "the export without a schedule"
    );
    browser.check_page("home").await;

    let viewer = Browser::open(&app.base).await;
    viewer.sign_in("viewer", PASSWORD).await;
    let connection = viewer.text("#attention li.connection").await;
    assert!(
        connection.contains("until an administrator authenticates it again"),
        "{connection}"
    );
    assert!(
        !viewer
            .has("#attention li.connection a[href^='/connections/']")
            .await,
        "viewers are not sent where they may not go"
    );
}

#[tokio::test]
async fn once_an_export_ran_home_says_what_to_try_next_until_dismissed() {
    let app = spawn_app().await;
    let (export, _) = an_export(&app).await;
    let (_, queued) = run(&app, Role::Contributor, &export).await;
    let succeeded = ended(&app, queued["id"].as_str().unwrap()).await;
    assert_eq!(succeeded["status"], "succeeded");

    let admin = Browser::open(&app.base).await;
    admin.sign_in("admin", PASSWORD).await;
    let next = admin.text("#next-steps").await;
    assert!(next.contains("last ran and succeeded"), "{next}");
    assert!(next.contains("dry run"), "{next}");
    assert!(
        admin
            .has(&format!(
                "#next-steps a[href='/runs/{}']",
                succeeded["id"].as_str().unwrap()
            ))
            .await,
        "the run's report, linked"
    );
    assert!(
        admin
            .has(&format!("#next-steps a[href='/exports/{export}']"))
            .await
    );
    assert!(admin.has("#next-steps a[href^='/segments/']").await);
    admin.check_page("home-next-steps").await;
    admin.follow("#dismiss-next-steps").await;
    assert_eq!(admin.path().await, "/");
    assert!(!admin.has("#next-steps").await, "dismissed");
    admin.visit("/").await;
    assert!(!admin.has("#next-steps").await, "dismissed for good");

    let (cookie, _) = app.browser_session("viewer").await;
    let forged = app
        .http
        .post(app.url("/next-steps/dismiss"))
        .header("cookie", cookie)
        .form(&[("csrf", "not the session's")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403, "a form without its CSRF token");
    let viewer = Browser::open(&app.base).await;
    viewer.sign_in("viewer", PASSWORD).await;
    let next = viewer.text("#next-steps").await;
    assert!(
        !next.contains("again") && !next.contains("dry run"),
        "a viewer is not offered what they may not do: {next}"
    );
    assert!(next.contains("Open the last run's report"), "{next}");
}
