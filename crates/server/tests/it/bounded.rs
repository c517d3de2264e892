//! Bounded work for every input: a builder form of 20,000 nested rows, segments whose
//! references expand exponentially, and member counts that are not evaluated again on every
//! page view.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

#[tokio::test]
async fn a_builder_form_of_20000_nested_rows_is_refused_with_its_reason() {
    let app = spawn_app().await;
    let (cookie, csrf) = app.browser_session("contributor").await;
    let mut form = vec![
        ("csrf".to_owned(), csrf),
        ("name".to_owned(), "deep".to_owned()),
        ("action".to_owned(), "save".to_owned()),
    ];
    for index in 0..20_000 {
        form.push((format!("n.{index}.kind"), "all".to_owned()));
        form.push((format!("n.{index}.depth"), index.to_string()));
    }
    let answer = app
        .http
        .post(app.url("/segments/new"))
        .header("cookie", &cookie)
        .form(&form)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = answer.text().await.unwrap();
    assert!(page.contains("at most 500 rules"), "{page}");
    let (_, segments) = app
        .call(Some(Role::Viewer), Method::GET, "/api/v1/segments", None)
        .await;
    assert_eq!(segments, json!([]), "nothing was saved");
}

#[tokio::test]
async fn segments_whose_references_expand_exponentially_are_refused_past_the_limit() {
    let app = spawn_app().await;
    let save = |name: String, rule: serde_json::Value| {
        let app = &app;
        async move {
            app.call(
                Some(Role::Contributor),
                Method::POST,
                "/api/v1/segments",
                Some(json!({ "name": name, "rule": rule })),
            )
            .await
        }
    };
    let (status, _) = save(
        "s0".to_owned(),
        json!({ "attribute": "tier", "op": "equals", "value": "gold" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // Each the union of ten copies of the one before: s4 holds 10,000 conditions expanded.
    for level in 1..=4 {
        let previous = format!("s{}", level - 1);
        let (status, body) =
            save(format!("s{level}"), json!({ "union": vec![previous; 10] })).await;
        assert_eq!(status, StatusCode::CREATED, "s{level}: {body}");
    }
    for level in 5..=10 {
        let (status, refused) = save(
            format!("s{level}"),
            json!({ "union": vec!["s4"; 10 * (level - 4)] }),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "s{level}");
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("more than 10000 conditions"),
            "{refused}"
        );
    }
    let (status, preview) = app
        .call(Some(Role::Viewer), Method::GET, "/api/v1/segments", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(preview.as_array().unwrap().len(), 5);
}

/// The member count the segments page shows for its only segment.
pub(crate) async fn shown_count(app: &TestApp, cookie: &str) -> String {
    let page = app
        .http
        .get(app.url("/segments"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = page.split("<tbody>").nth(1).unwrap();
    row.split("<td>")
        .nth(2)
        .unwrap()
        .split("</td>")
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn member_counts_are_evaluated_again_only_when_the_profiles_or_segments_change() {
    let app = spawn_app().await;
    let (status, _) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/segments",
            Some(json!({ "name": "gold", "rule": { "attribute": "tier", "op": "equals", "value": "gold" } })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (cookie, _) = app.browser_session("viewer").await;
    assert_eq!(shown_count(&app, &cookie).await, "3");

    // The same bytes' length and modification time, other content: a page view that evaluated
    // the segment again would see one gold member fewer.
    let path = std::path::PathBuf::from(app.config().profiles.as_ref().unwrap().location.as_str());
    let before = std::fs::read_to_string(&path).unwrap();
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    let changed = before.replacen(",gold,", ",gilt,", 1);
    assert_eq!(changed.len(), before.len());
    std::fs::write(&path, &changed).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    assert_eq!(
        shown_count(&app, &cookie).await,
        "3",
        "counted from the cache"
    );

    // Touched: the source changed, the count is evaluated again.
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(modified + Duration::from_secs(5))
        .unwrap();
    assert_eq!(shown_count(&app, &cookie).await, "2");

    // A changed rule is evaluated again too.
    let (_, segments) = app
        .call(Some(Role::Viewer), Method::GET, "/api/v1/segments", None)
        .await;
    let id = segments[0]["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .call(
            Some(Role::Contributor),
            Method::PUT,
            &format!("/api/v1/segments/{id}"),
            Some(json!({ "name": "gold", "rule": { "attribute": "tier", "op": "equals", "value": "gilt" } })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown_count(&app, &cookie).await, "1");
}
