//! The web console in headless Chromium: the whole flow as an admin, what contributors and
//! viewers may and may not do, and problems shown next to their fields. Screenshots of the main
//! pages go to `target/screenshots/`.

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_configured};
use crate::runs::an_export;

/// The id at the end of the browser's path, such as `/exports/{id}?saved=1`.
fn id_in(path: &str) -> String {
    path.split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_admin_connects_builds_a_segment_exports_and_sees_the_run_succeed() {
    // The sandbox shows its consent page, as Constant Contact does.
    let app = spawn_app_configured(|sandbox| sandbox.auto_approve = false, |_| {}).await;
    let browser = Browser::open(&app.base).await;

    browser.visit("/exports").await;
    assert!(
        browser.path().await.starts_with("/sign-in"),
        "pages need a sign-in"
    );
    browser.sign_in("admin", PASSWORD).await;
    assert_eq!(browser.path().await, "/", "signing in leads home");
    assert_eq!(browser.text("#who").await, "The admin (admin)");

    // Admin › Connections › Add connection.
    browser.follow("a[href='/connections']").await;
    browser.follow("#add-connection").await;
    browser.fill("#name", "Marketing CC").await;
    browser
        .choose("#usable_by", "admins_and_contributors")
        .await;
    browser.click("#consent").await;
    browser.check_page("connection-new").await;
    browser.follow("#save").await;
    let connection = id_in(&browser.path().await);
    assert_eq!(browser.text("#health").await, "Not authenticated yet");

    // Authenticate with Constant Contact: its consent page, then back.
    browser.follow("#authenticate").await;
    browser.check_page("constant-contact-consent").await;
    browser.follow("#allow").await;
    assert_eq!(
        browser.wait_for_path("/connections/").await,
        format!("/connections/{connection}?authenticated=1")
    );
    assert_eq!(browser.text("#health").await, "Connected");
    browser.follow("#become-export-user").await;
    assert_eq!(browser.text("#export-user").await, "The admin");
    browser.check_page("connection").await;

    // Segments › New segment, in the builder.
    browser.visit("/segments/new").await;
    browser.fill("#name", "gold").await;
    browser.choose("#n-1-attribute", "tier").await;
    browser.choose("#n-1-op", "equals").await;
    browser.fill("#n-1-value", "gold").await;
    browser.follow("#save").await;
    assert_eq!(browser.text("#preview-count").await, "3 members.");
    browser.check_page("segment").await;

    // Data › Exports › Add export: the one connection is chosen, its lists offered.
    let (_, lists) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            &format!("/api/v1/connections/{connection}/lists"),
            None,
        )
        .await;
    let list = lists[0]["list_id"].as_str().unwrap().to_owned();
    browser.visit("/exports/new").await;
    assert!(browser.text("#list_id-hint").await.contains(&list));
    browser.fill("#name", "Gold to Newsletter").await;
    browser.fill("#list_id", &list).await;
    browser.choose("#email", "email").await;
    browser.choose("#field-0", "first_name").await;
    browser.choose("#attribute-0", "first_name").await;
    let segment_box = browser
        .client
        .find(fantoccini::Locator::XPath(
            "//label[starts-with(normalize-space(.), 'gold')]/preceding-sibling::input[1]",
        ))
        .await
        .unwrap();
    segment_box.click().await.unwrap();
    // Mirror: members who leave the segments are taken off the list.
    browser.click("#sync_mode-mirror").await;
    browser.check_page("export-new").await;
    browser.follow("#save").await;
    let export = id_in(&browser.path().await);
    let (_, saved) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/exports/{export}"),
            None,
        )
        .await;
    assert_eq!(saved["sync_mode"], "mirror");
    assert!(app.list_members(&list).is_empty(), "saving does not run");

    // A dry run says what a run would do, and sends nothing.
    browser.follow("#dry-run").await;
    assert_eq!(
        browser.text("#would-send").await,
        "2 contacts in 1 import(s): 2 new, 0 changed"
    );
    assert!(browser.text("#skipped").await.contains("not-an-email"));
    browser.check_page("dry-run").await;
    assert!(app.list_members(&list).is_empty());
    browser.visit(&format!("/exports/{export}")).await;

    // Run, and watch it succeed with its counts.
    browser.follow("#run").await;
    assert!(browser.path().await.starts_with("/runs/"));
    browser
        .wait_for_text("#run-status", |status| status == "succeeded")
        .await;
    assert!(
        !browser.has("#cancel").await,
        "an ended run cannot be cancelled"
    );
    assert_eq!(
        browser.text("dd[data-figure='Sent']").await,
        "2 (2 new, 0 changed)"
    );
    assert_eq!(browser.text("dd[data-figure='Invalid emails']").await, "1");
    assert_eq!(browser.text("dd[data-figure='Profiles read']").await, "5");
    browser.check_page("run").await;
    assert_eq!(
        app.list_members(&list),
        ["ada@example.com", "zoe@example.com"]
    );

    // Once sent, unchanged members are not sent again.
    browser.visit(&format!("/exports/{export}")).await;
    browser.follow("#dry-run").await;
    assert_eq!(
        browser.text("#would-send").await,
        "0 contacts in 0 import(s): 0 new, 0 changed"
    );
    assert_eq!(
        browser.text("#unchanged").await,
        "2 contacts as last sent: not sent"
    );
    assert_eq!(
        browser.text("#would-remove").await,
        "0 who left the segments"
    );

    browser.visit("/exports").await;
    assert!(browser.text("#exports").await.contains("succeeded"));
    browser.check_page("exports").await;
    browser.visit("/exports?q=nothing-like-it").await;
    assert!(browser.has("#no-exports").await, "search by name");
    browser.visit("/exports?q=marketing").await;
    assert!(
        browser.has(&format!("a[href='/exports/{export}']")).await,
        "search by connection"
    );
    browser.visit("/status").await;
    assert!(browser.text("#runs").await.contains("Gold to Newsletter"));

    // A connection in use cannot be removed: the dialog lists its exports.
    browser
        .visit(&format!("/connections/{connection}/remove"))
        .await;
    assert_eq!(browser.text("#dependents").await, "Gold to Newsletter");
    assert!(!browser.has("#confirm-remove").await);
}

#[tokio::test]
async fn contributors_and_viewers_see_only_what_their_role_allows() {
    let app = spawn_app().await;
    let (export, _) = an_export(&app).await;
    let browser = Browser::open(&app.base).await;

    browser.sign_in("contributor", PASSWORD).await;
    assert_eq!(browser.path().await, "/", "signing in leads home");
    assert!(
        !browser.has("a[href='/connections']").await,
        "no Connections for contributors"
    );
    browser.visit("/exports").await;
    assert!(browser.has("#add-export").await);
    assert!(browser.has("#run-all").await);
    browser.visit(&format!("/exports/{export}")).await;
    assert!(
        browser.has("#run").await,
        "the connection is shared with contributors"
    );
    browser.follow("#run").await;
    browser
        .wait_for_text("#run-status", |status| status == "succeeded")
        .await;
    browser.visit("/connections").await;
    assert!(
        browser
            .text("#failure")
            .await
            .contains("may not manage connections")
    );
    browser.visit("/schedule").await;
    assert!(
        !browser.has("#schedule-form button#save").await,
        "only admins change the schedule"
    );
    browser.follow("form[action='/sign-out'] button").await;
    assert!(browser.path().await.starts_with("/sign-in"));

    browser.sign_in("viewer", PASSWORD).await;
    browser.visit("/exports").await;
    assert!(!browser.has("#add-export").await);
    assert!(!browser.has("#run-all").await);
    browser.visit(&format!("/exports/{export}")).await;
    assert!(!browser.has("#run").await);
    assert!(!browser.has("#remove").await);
    assert!(
        browser.has("#export-form fieldset[disabled]").await,
        "the form is read-only"
    );
    assert!(browser.has("#runs").await, "viewers read the history");
    browser.visit("/segments").await;
    assert!(!browser.has("#new-segment").await);
    browser.check_page("viewer-segments").await;
    // A viewer's form post is refused by the API's own checks.
    let session_cookie = browser
        .client
        .get_named_cookie("segsync_session")
        .await
        .unwrap();
    let refused = app
        .http
        .post(app.url(&format!("/exports/{export}/run")))
        .header(
            "cookie",
            format!("segsync_session={}", session_cookie.value()),
        )
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_input_is_shown_next_to_its_field() {
    let app = spawn_app().await;
    let (export, _) = an_export(&app).await;
    let browser = Browser::open(&app.base).await;
    browser.sign_in("admin", PASSWORD).await;

    browser.visit("/connections/new").await;
    browser.fill("#name", "No consent").await;
    browser.follow("#save").await;
    assert!(browser.text("#consent-error").await.contains("agree"));
    assert_eq!(
        browser
            .client
            .find(fantoccini::Locator::Css("#name"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("No consent"),
        "what was typed is kept"
    );

    browser.visit(&format!("/exports/{export}")).await;
    browser.fill("#list_id", "not-a-list").await;
    browser.follow("#save").await;
    assert!(browser.text("#list_id-error").await.contains("List ID"));
    browser
        .fill("#list_id", "0f7a8a3e-2a52-11ef-9ab4-fa163e56c9b0")
        .await;
    browser.follow("#save").await;
    assert!(
        browser.text("#list_id-error").await.contains("has no list"),
        "the List ID is checked against Constant Contact"
    );
    browser.check_page("export-list-error").await;

    browser.visit("/segments/new").await;
    browser.fill("#name", "typo").await;
    browser.follow("#add-condition-0").await;
    browser.choose("#n-1-attribute", "lifetime_value").await;
    browser.choose("#n-1-op", "between").await;
    browser.fill("#n-1-value", "10").await;
    browser.choose("#n-2-attribute", "country").await;
    browser.fill("#n-2-value", "US").await;
    browser.follow("#save").await;
    assert!(
        browser.has("#n-1-error").await,
        "the problem is at its rule"
    );
    assert!(!browser.has("#n-2-error").await, "the good rule has none");
    browser.check_page("segment-error").await;

    let (status, _) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/segments", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, segments) = app
        .call(Some(Role::Admin), Method::GET, "/api/v1/segments", None)
        .await;
    assert!(
        segments
            .as_array()
            .unwrap()
            .iter()
            .all(|segment| segment["name"] != "typo"),
        "nothing half-saved: {}",
        json!(segments)
    );
}

/// An export with its connection, segment and one run, and a second user: something for every
/// console page to show.
pub(crate) struct ConsoleFixture {
    export: String,
    connection: String,
    segment: String,
    run: String,
    someone: String,
}

/// Every console page, with the least role that may see it (none: everyone signed in).
pub(crate) const PAGES: [(&str, Option<Role>); 22] = [
    ("/", None),
    ("/exports", None),
    ("/exports/new", Some(Role::Contributor)),
    ("/exports/{export}", None),
    ("/segments", None),
    ("/segments/new", Some(Role::Contributor)),
    ("/segments/{segment}", None),
    ("/connections", Some(Role::Admin)),
    ("/connections/new", Some(Role::Admin)),
    ("/connections/{connection}", Some(Role::Admin)),
    ("/connections/{connection}/remove", Some(Role::Admin)),
    ("/schedule", None),
    ("/status", None),
    ("/runs/{run}", None),
    ("/users", Some(Role::Admin)),
    ("/exclusions", Some(Role::Admin)),
    ("/privacy", Some(Role::Admin)),
    ("/audit", Some(Role::Admin)),
    ("/system", Some(Role::Admin)),
    ("/account/tokens", None),
    ("/account/password", None),
    ("/sign-in", None),
];

impl ConsoleFixture {
    pub(crate) async fn new(app: &TestApp) -> Self {
        let (export, _) = an_export(app).await;
        let (_, view) = app
            .call(
                Some(Role::Admin),
                Method::GET,
                &format!("/api/v1/exports/{export}"),
                None,
            )
            .await;
        let connection = view["connection_id"].as_str().unwrap().to_owned();
        let segment = view["segment_ids"][0].as_str().unwrap().to_owned();
        let (_, run) = app
            .call(
                Some(Role::Admin),
                Method::POST,
                &format!("/api/v1/exports/{export}/run"),
                None,
            )
            .await;
        let run = run["id"].as_str().unwrap().to_owned();
        let (_, someone) = app
            .call(
                Some(Role::Admin),
                Method::POST,
                "/api/v1/users",
                Some(json!({ "username": "someone", "role": "viewer", "password": "another long password" })),
            )
            .await;
        let someone = someone["id"].as_str().unwrap().to_owned();
        Self {
            export,
            connection,
            segment,
            run,
            someone,
        }
    }

    /// The path with its placeholders filled in.
    pub(crate) fn fill(&self, path: &str) -> String {
        path.replace("{someone}", &self.someone)
            .replace("{export}", &self.export)
            .replace("{connection}", &self.connection)
            .replace("{segment}", &self.segment)
            .replace("{run}", &self.run)
    }
}

#[tokio::test]
async fn every_console_page_and_form_checks_the_role() {
    let app = spawn_app().await;
    let fixture = ConsoleFixture::new(&app).await;
    let fill = |path: &str| fixture.fill(path);
    let pages = PAGES.iter().filter(|(page, _)| *page != "/sign-in");
    // Forms that change something: a role below the least is refused by the API's handler.
    let forms: [(&str, Role); 27] = [
        ("/users", Role::Admin),
        ("/exclusions", Role::Admin),
        ("/privacy/erasures", Role::Admin),
        ("/privacy/lookup", Role::Admin),
        (
            "/privacy/erasures/00000000-0000-0000-0000-000000000000/retry",
            Role::Admin,
        ),
        ("/users/{someone}/disable", Role::Admin),
        ("/users/{someone}/enable", Role::Admin),
        ("/users/{someone}/role", Role::Admin),
        ("/users/{someone}/sign-out", Role::Admin),
        ("/system/webhooks/test", Role::Admin),
        ("/exports/new", Role::Contributor),
        ("/exports/{export}", Role::Contributor),
        ("/segments/{segment}", Role::Contributor),
        ("/exports/{export}/run", Role::Contributor),
        ("/exports/{export}/dry-run", Role::Contributor),
        ("/exports/run-all", Role::Contributor),
        ("/exports/{export}/duplicate", Role::Contributor),
        ("/exports/{export}/detach", Role::Contributor),
        ("/exports/{export}/remove", Role::Contributor),
        ("/segments/{segment}/active", Role::Contributor),
        ("/runs/{run}/cancel", Role::Contributor),
        ("/runs/{run}/confirm", Role::Contributor),
        ("/runs/{run}/discard", Role::Contributor),
        ("/schedule", Role::Admin),
        ("/connections/new", Role::Admin),
        ("/connections/{connection}/authenticate", Role::Admin),
        ("/connections/{connection}/export-user", Role::Admin),
    ];
    let mut sessions = Vec::new();
    for role in [Role::Viewer, Role::Contributor, Role::Admin] {
        sessions.push((role, app.browser_session(role.as_str()).await));
    }
    for (page, least) in pages {
        let path = fill(page);
        let least = *least;
        let anonymous = app.http.get(app.url(&path)).send().await.unwrap();
        assert_eq!(
            anonymous.status(),
            StatusCode::SEE_OTHER,
            "{page} without a session"
        );
        assert!(
            anonymous.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/sign-in?next=")
        );
        for (role, (cookie, _)) in &sessions {
            let status = app
                .http
                .get(app.url(&path))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status();
            let allowed = least.is_none_or(|least| *role >= least);
            assert_eq!(
                status,
                if allowed {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                },
                "{page} as {role}"
            );
        }
    }
    for (form, least) in forms {
        let path = fill(form);
        let anonymous = app
            .http
            .post(app.url(&path))
            .form(&[("csrf", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            anonymous.status(),
            StatusCode::SEE_OTHER,
            "{form} without a session"
        );
        for (role, (cookie, csrf)) in sessions.iter().filter(|(role, _)| *role < least) {
            let status = app
                .http
                .post(app.url(&path))
                .header("cookie", cookie)
                .form(&[("csrf", csrf.as_str())])
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, StatusCode::FORBIDDEN, "{form} as {role}");
        }
    }
}
