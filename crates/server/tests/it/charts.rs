//! The console's charts in headless Chromium: an export's run history, the Status page's runs
//! per day and a run's phases — drawn without JavaScript, with their figures as tables, in the
//! light and the dark colour scheme.

use reqwest::Method;
use segsync_store::Role;

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp, spawn_app};
use crate::runs::{an_export, ended, run};

/// Runs `export` `times` times, one after the other; the ended runs, oldest first.
async fn runs_of(app: &TestApp, export: &str, times: usize) -> Vec<serde_json::Value> {
    let mut runs = Vec::new();
    for _ in 0..times {
        let (_, queued) = run(app, Role::Contributor, export).await;
        runs.push(ended(app, queued["id"].as_str().unwrap()).await);
    }
    runs
}

/// How many elements `css` finds.
async fn count(browser: &Browser, css: &str) -> usize {
    browser
        .client
        .find_all(fantoccini::Locator::Css(css))
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn an_exports_runs_the_days_runs_and_a_runs_phases_are_drawn_with_their_figures() {
    let app = spawn_app().await;
    let (export, _) = an_export(&app).await;
    let runs = runs_of(&app, &export, 3).await;
    let browser = Browser::open(&app.base).await;
    browser.sign_in("viewer", PASSWORD).await;
    // Without JavaScript, as the server sends it: the charts are in the page.
    let (cookie, _) = app.browser_session("viewer").await;
    let page = app
        .http
        .get(app.url(&format!("/exports/{export}")))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<svg xmlns="http://www.w3.org/2000/svg""#));

    browser.visit(&format!("/exports/{export}")).await;
    let sent: u64 = runs
        .iter()
        .map(|run| run["report"]["sent"].as_u64().unwrap())
        .sum();
    assert!(sent > 0, "the first run sends the members");
    let summary = browser.text("#chart-members-summary").await;
    assert!(
        summary.starts_with(&format!("The last 3 runs sent {sent} contacts in all")),
        "{summary}"
    );
    // One bar part per run with something new: the first; the others had nothing to send.
    assert!(count(&browser, "#chart-members rect.added").await >= 1);
    assert_eq!(
        count(&browser, "#chart-members-table tbody tr").await,
        3,
        "a row per run in the table"
    );
    assert_eq!(count(&browser, "#chart-durations rect.succeeded").await, 3);
    let first_size = runs[0]["report"]["list_members_at_start"].as_u64().unwrap();
    let last_size = runs[2]["report"]["list_members_at_start"].as_u64().unwrap();
    assert_eq!(first_size, 0, "the list was empty before the first run");
    assert!(
        last_size > 0,
        "the members were on the list by the third run"
    );
    assert_eq!(count(&browser, "#chart-list-size circle").await, 3);
    assert!(
        browser
            .text("#chart-list-size-summary")
            .await
            .contains(&format!(
                "0 at the first of these runs, {last_size} at the latest"
            )),
    );
    let title = browser
        .client
        .execute(
            "return document.querySelector('#chart-members').getAttribute('aria-labelledby')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(title, "chart-members-title");
    browser.scroll_to("#chart-members-figure").await;
    browser.check_page("export-history").await;

    browser.visit("/status").await;
    assert!(
        browser
            .text("#chart-runs-per-day-summary")
            .await
            .starts_with("3 runs in the last 14 days: 3 succeeded"),
    );
    assert_eq!(count(&browser, "#chart-runs-per-day rect").await, 1);
    assert_eq!(
        count(&browser, "#chart-runs-per-day-table tbody tr").await,
        14
    );
    browser.check_page("status").await;

    let run_id = runs[0]["id"].as_str().unwrap();
    browser.visit(&format!("/runs/{run_id}")).await;
    let phases = runs[0]["report"]["phases"].as_array().unwrap().len();
    assert!(phases >= 4, "planning, counting, sending, polling");
    assert_eq!(count(&browser, "#chart-phases rect.phase").await, phases);
    browser.click("#chart-phases-figure details summary").await;
    assert_eq!(
        browser
            .text("#chart-phases-table tbody tr:first-child th")
            .await,
        "planning",
        "the table opens from its summary"
    );
    browser.scroll_to("#chart-phases-figure").await;
    browser.check_page("run-phases").await;
}

#[tokio::test]
async fn the_charts_read_in_the_dark_colour_scheme() {
    let app = spawn_app().await;
    let (export, _) = an_export(&app).await;
    runs_of(&app, &export, 2).await;
    let browser = Browser::open_dark(&app.base).await;
    browser.sign_in("admin", PASSWORD).await;
    let dark = browser
        .client
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(dark, true, "the browser prefers the dark scheme");
    browser.visit(&format!("/exports/{export}")).await;
    let background = browser
        .client
        .execute(
            "return getComputedStyle(document.body).backgroundColor",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(background, "rgb(21, 27, 33)", "the page is dark");
    browser.scroll_to("#chart-members-figure").await;
    browser.check_page("export-history-dark").await;
    browser.visit("/status").await;
    browser.check_page("status-dark").await;
    let (_, listed) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            "/api/v1/runs/per-day?days=1",
            None,
        )
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["runs"]["succeeded"], 2, "{listed}");
}
