//! The segment builder guides, in headless Chromium: value boxes typed by the attribute, "is
//! one of" as a choice of the attribute's common values, the member count as the rules change,
//! problems at their row — and the same without JavaScript, through "Check and count".

use reqwest::{Method, StatusCode};
use segsync_store::Role;

use crate::browser::Browser;
use crate::helpers::{PASSWORD, spawn_app};

/// The `type` of the input `css`.
async fn input_type(browser: &Browser, css: &str) -> String {
    browser
        .client
        .find(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("no {css}: {error}"))
        .attr("type")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// The values offered by the select `css`.
async fn options(browser: &Browser, css: &str) -> Vec<String> {
    let found = browser
        .client
        .execute(
            "return [...document.querySelectorAll(arguments[0] + ' option')].map(o => o.value);",
            vec![serde_json::json!(css)],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

#[tokio::test]
async fn the_builder_types_its_inputs_offers_common_values_and_counts_as_rules_change() {
    let app = spawn_app().await;
    let browser = Browser::open(&app.base).await;
    browser.sign_in("contributor", PASSWORD).await;
    browser.visit("/segments/new").await;
    browser.fill("#name", "Gold in the US or France").await;

    // "is one of" on a text attribute: its values, most common first, with their counts.
    browser.choose("#n-1-attribute", "country").await;
    assert!(
        !options(&browser, "#n-1-op")
            .await
            .contains(&"greater_than".to_owned()),
        "text takes no 'greater than'"
    );
    browser.choose("#n-1-op", "in").await;
    assert_eq!(
        options(&browser, "#n-1-chosen").await,
        ["US", "DE", "FR"],
        "most common first, then by value"
    );
    assert!(
        browser
            .text("#n-1-chosen option[value='US']")
            .await
            .contains("(3)")
    );
    // Chosen as a keyboard or a ctrl-click would: several options selected, then a change.
    browser
        .client
        .execute(
            "for (const value of ['US', 'FR']) document.querySelector(`#n-1-chosen option[value=${value}]`).selected = true; document.querySelector('#n-1-chosen').dispatchEvent(new Event('change', { bubbles: true })); return null;",
            vec![],
        )
        .await
        .unwrap();
    browser.settle().await;
    assert_eq!(
        browser.text("#live-count").await,
        "4 members as the rules stand.",
        "US and FR: four profiles"
    );

    // A number: a number box, and the count follows the value typed.
    browser.follow("#add-condition-0").await;
    browser.choose("#n-2-attribute", "lifetime_value").await;
    browser.choose("#n-2-op", "greater_or_equal").await;
    assert_eq!(input_type(&browser, "#n-2-value").await, "number");
    browser.fill("#n-2-value", "300").await;
    assert_eq!(
        browser.text("#live-count").await,
        "3 members as the rules stand."
    );
    // "between" asks for two numbers; one missing is a problem at its row, as typed.
    browser.choose("#n-2-op", "between").await;
    assert_eq!(input_type(&browser, "#n-2-value2").await, "number");
    browser.fill("#n-2-value", "100").await;
    browser.fill("#n-2-value2", "").await;
    assert!(browser.has("#n-2-error").await, "the problem is at its row");
    assert!(!browser.has("#n-1-error").await);
    assert_eq!(
        browser.text("#live-count").await,
        "",
        "no count while it is wrong"
    );
    browser.fill("#n-2-value2", "2000").await;
    assert!(!browser.has("#n-2-error").await);
    assert_eq!(
        browser.text("#live-count").await,
        "2 members as the rules stand."
    );
    browser.check_page("builder-guides").await;

    browser.follow("#save").await;
    let path = browser.wait_for_path("/segments/").await;
    let id = path.rsplit('/').next().unwrap().to_owned();
    let (status, saved) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/segments/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let rule = &saved["rule"]["all"];
    assert_eq!(
        rule[0]["values"],
        serde_json::json!(["US", "FR"]),
        "{saved}"
    );
    assert_eq!(rule[1]["min"], 100);
    assert_eq!(rule[1]["max"], 2000);
    // Shown again, the values chosen are selected among the common ones.
    browser.visit(&format!("/segments/{id}")).await;
    let selected = browser
        .client
        .execute(
            "return [...document.querySelectorAll('#n-1-chosen option:checked')].map(o => o.value);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(selected, serde_json::json!(["US", "FR"]));
}

#[tokio::test]
async fn a_saved_rule_shows_a_number_box_and_no_box_where_no_value_is_taken() {
    let app = spawn_app().await;
    let (_, segment) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/segments",
            Some(serde_json::json!({
                "name": "typed",
                "rule": { "all": [
                    { "attribute": "lifetime_value", "op": "greater_than", "value": 10 },
                    { "attribute": "tier", "op": "is_not_empty" },
                ]},
            })),
        )
        .await;
    let id = segment["id"].as_str().unwrap();
    let browser = Browser::open(&app.base).await;
    browser.sign_in("contributor", PASSWORD).await;
    browser.visit(&format!("/segments/{id}")).await;
    assert_eq!(input_type(&browser, "#n-1-value").await, "number");
    assert!(
        !browser.has("#n-2-value").await,
        "'is not empty' takes no value"
    );
    assert!(!browser.has("#n-2-value2").await);
}

#[tokio::test]
async fn without_javascript_check_and_count_places_problems_and_counts() {
    let app = spawn_app().await;
    let (cookie, csrf) = app.browser_session("contributor").await;
    let post = |pairs: Vec<(&'static str, String)>| {
        let mut form = vec![("csrf", csrf.clone())];
        form.extend(pairs);
        app.http
            .post(app.url("/segments/new"))
            .header("cookie", cookie.clone())
            .form(&form)
            .send()
    };
    let rows = |op: &str, value: &str, value2: &str| {
        vec![
            ("name", String::new()),
            ("editor", "builder".to_owned()),
            ("n.0.kind", "all".to_owned()),
            ("n.0.depth", "0".to_owned()),
            ("n.1.kind", "condition".to_owned()),
            ("n.1.depth", "1".to_owned()),
            ("n.1.attribute", "tier".to_owned()),
            ("n.1.op", op.to_owned()),
            ("n.1.value", value.to_owned()),
            ("n.1.value2", value2.to_owned()),
            ("action", "check".to_owned()),
        ]
    };
    let counted = post(rows("in", "gold, bronze", "")).await.unwrap();
    assert_eq!(counted.status(), StatusCode::OK);
    let page = counted.text().await.unwrap();
    assert!(
        page.contains("<strong>4</strong> members as the rules stand."),
        "{page}"
    );
    assert!(
        page.contains(r#"<option value="gold" selected>gold (3)</option>"#),
        "typed values among the common ones are shown chosen: {page}"
    );
    let (_, segments) = app
        .call(Some(Role::Viewer), Method::GET, "/api/v1/segments", None)
        .await;
    assert_eq!(
        segments["items"].as_array().map_or(0, Vec::len),
        0,
        "checking saves nothing: {segments}"
    );

    let refused = post(rows("within_last", "3", "fortnights")).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.unwrap();
    assert!(page.contains(r#"id="n-1-error""#), "{page}");
    assert!(!page.contains("members as the rules stand"));

    // The API counts the same way.
    let (status, counted) = app
        .call(
            Some(Role::Viewer),
            Method::POST,
            "/api/v1/segments/validate?count=true",
            Some(serde_json::json!({
                "name": "any",
                "rule": { "attribute": "country", "op": "equals", "value": "US" },
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{counted}");
    assert_eq!(counted["members"], 3);
}
