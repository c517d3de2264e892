//! The console's finish, in headless Chromium: labels beside their radio buttons and
//! checkboxes, lists that search and page, empty states that say what to do, and the keyboard.

use fantoccini::key::Key;
use reqwest::Method;
use segsync_store::Role;

use crate::browser::Browser;
use crate::helpers::{PASSWORD, spawn_app};
use crate::runs::an_export;

#[tokio::test]
async fn every_radio_button_and_checkbox_has_its_label_beside_it() {
    let app = spawn_app().await;
    let (export, _) = an_export(&app).await;
    let browser = Browser::open(&app.base).await;
    browser.sign_in("admin", PASSWORD).await;
    for page in [
        format!("/exports/{export}"),
        "/exports/new".to_owned(),
        "/connections/new".to_owned(),
        "/schedule".to_owned(),
    ] {
        browser.visit(&page).await;
        // Each control's label starts to its right, on the same line.
        let misplaced = browser
            .client
            .execute(
                r#"return [...document.querySelectorAll("input[type=radio], input[type=checkbox]")].flatMap(input => {
                    const label = document.querySelector(`label[for="${input.id}"]`);
                    if (!label) return [`${input.id}: no label`];
                    const box = input.getBoundingClientRect(), text = label.getClientRects()[0];
                    const beside = text.left >= box.right - 1 && text.left - box.right < 24
                        && Math.abs((text.top + text.bottom) / 2 - (box.top + box.bottom) / 2) < 12;
                    return beside ? [] : [`${input.id}: label at ${text.left},${text.top}, box at ${box.right},${box.top}`];
                });"#,
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(misplaced, serde_json::json!([]), "{page}");
    }
    browser.visit(&format!("/exports/{export}")).await;
    browser.scroll_to("#sync-mode").await;
    browser.screenshot("export-sync-mode").await;
}

#[tokio::test]
async fn lists_search_and_page_and_empty_ones_say_what_to_do_first() {
    let app = spawn_app().await;
    let browser = Browser::open(&app.base).await;
    browser.sign_in("contributor", PASSWORD).await;
    browser.visit("/segments").await;
    assert!(
        browser.has("#no-segments a[href='/segments/new']").await,
        "an empty list says what to do first"
    );
    browser.visit("/exports").await;
    assert!(browser.has("#no-exports a[href='/exports/new']").await);
    browser.check_page("exports-empty").await;

    for i in 0..57 {
        let (status, _) = app
            .call(
                Some(Role::Contributor),
                Method::POST,
                "/api/v1/segments",
                Some(serde_json::json!({
                    "name": format!("{} {i:02}", if i % 3 == 0 { "Gold" } else { "Bronze" }),
                    "rule": { "attribute": "tier", "op": "equals", "value": "gold" },
                })),
            )
            .await;
        assert!(status.is_success());
    }
    let rows = |browser: &Browser| {
        let client = browser.client.clone();
        async move {
            client
                .find_all(fantoccini::Locator::Css("#segments tbody tr"))
                .await
                .unwrap()
                .len()
        }
    };
    browser.visit("/segments").await;
    assert_eq!(rows(&browser).await, 50);
    assert_eq!(browser.text(".pages span").await, "Showing 1–50 of 57");
    browser.follow(".pages a.next-page").await;
    assert_eq!(rows(&browser).await, 7);
    assert!(browser.has(".pages a.previous-page").await);

    browser.fill("#q", "gold").await;
    browser.follow("form[role=search] button").await;
    assert_eq!(rows(&browser).await, 19, "one in three is gold");
    assert!(!browser.has(".pages").await, "one page holds what matches");
    browser.fill("#q", "platinum").await;
    browser.follow("form[role=search] button").await;
    assert!(
        browser
            .text("#no-segments")
            .await
            .contains("No segments match")
    );
    browser.check_page("segments-search").await;
}

#[tokio::test]
async fn the_keyboard_skips_to_the_content_and_works_the_forms() {
    let app = spawn_app().await;
    let browser = Browser::open(&app.base).await;
    browser.sign_in("contributor", PASSWORD).await;
    browser.visit("/segments/new").await;
    // The first Tab stop skips the navigation.
    browser
        .client
        .active_element()
        .await
        .unwrap()
        .send_keys(&Key::Tab.to_string())
        .await
        .unwrap();
    let focused = browser
        .client
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    assert_eq!(focused, "skip");
    browser
        .client
        .active_element()
        .await
        .unwrap()
        .send_keys(&Key::Enter.to_string())
        .await
        .unwrap();
    let focused = browser
        .client
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    assert_eq!(focused, "main", "focus moves to the content");
    // From there, Tab reaches the name field, and typing fills it.
    let name = browser.client.active_element().await.unwrap();
    name.send_keys(&Key::Tab.to_string()).await.unwrap();
    browser
        .client
        .active_element()
        .await
        .unwrap()
        .send_keys("Typed by keyboard")
        .await
        .unwrap();
    browser.settle().await;
    let typed = browser
        .client
        .execute("return document.querySelector('#name').value", vec![])
        .await
        .unwrap();
    assert_eq!(typed, "Typed by keyboard");
}
