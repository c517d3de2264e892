//! Custom fields, as Constant Contact holds them: the data matching may fill only those the
//! account has, saving says which are missing, the console offers them by label, and a run
//! whose field was deleted fails before it sends anything.

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::json;

use crate::exports::{form, set_up};
use crate::helpers::spawn_app;
use crate::runs::ended;

#[tokio::test]
async fn an_export_fills_only_custom_fields_the_account_has_and_a_run_stops_when_one_goes() {
    let app = spawn_app().await;
    let (connection, list, segment) = set_up(&app).await;
    let (status, _) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/connections/{connection}/export-user"),
            None,
        )
        .await;
    assert!(status.is_success());
    let mut body = form(&connection, &list, &segment);
    body["mapping"] =
        json!({ "email": "email", "cf:Loyalty_tier": "tier", "cf:Home_country": "country" });
    let save = |body: serde_json::Value| {
        app.call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/exports",
            Some(body),
        )
    };

    let (status, refused) = save(body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["code"], "custom_fields_missing");
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.contains("cf:Loyalty_tier") && message.contains("cf:Home_country"),
        "{message}"
    );

    app.sandbox
        .state()
        .create_custom_field("Loyalty tier")
        .unwrap();
    let (_, refused) = save(body.clone()).await;
    let message = refused["message"].as_str().unwrap();
    assert!(
        !message.contains("cf:Loyalty_tier") && message.contains("cf:Home_country"),
        "only the one still missing is named: {message}"
    );

    app.sandbox
        .state()
        .create_custom_field("Home country")
        .unwrap();
    let (_, fields) = app
        .call(
            Some(Role::Contributor),
            Method::GET,
            &format!("/api/v1/connections/{connection}/custom-fields"),
            None,
        )
        .await;
    assert_eq!(
        fields,
        json!([
            { "key": "cf:Loyalty_tier", "name": "Loyalty_tier", "label": "Loyalty tier" },
            { "key": "cf:Home_country", "name": "Home_country", "label": "Home country" },
        ])
    );
    // The console's data matching offers them by label.
    let (cookie, _) = app.browser_session("contributor").await;
    let page = app
        .http
        .get(app.url("/exports/new"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"value="cf:Loyalty_tier""#) && page.contains("Loyalty tier (custom field)"),
        "{page}"
    );
    let (status, export) = save(body).await;
    assert_eq!(status, StatusCode::CREATED, "{export}");
    let export = export["id"].as_str().unwrap().to_owned();
    let run = |full_resync: bool| {
        let app = &app;
        let export = &export;
        async move {
            let (status, queued) = app
                .call(
                    Some(Role::Contributor),
                    Method::POST,
                    &format!("/api/v1/exports/{export}/run?full_resync={full_resync}"),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
            ended(app, queued["id"].as_str().unwrap()).await
        }
    };
    let first = run(false).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let ada = app.sandbox.state().contact("ada@example.com").unwrap();
    assert_eq!(ada.fields["cf:Loyalty_tier"], "gold");
    assert_eq!(ada.fields["cf:Home_country"], "US");

    // The account's owner deletes a field the export fills: the next run sends nothing.
    assert!(app.sandbox.state().delete_custom_field("Home_country"));
    let imports_before = app.sandbox.state().imports_accepted();
    let second = run(true).await;
    assert_eq!(second["status"], "failed", "{second}");
    let reason = second["reason"].as_str().unwrap();
    assert!(
        reason.contains("cf:Home_country") && reason.contains("nothing was sent"),
        "{reason}"
    );
    assert_eq!(app.sandbox.state().imports_accepted(), imports_before);
}

#[tokio::test]
async fn a_mapping_of_four_phone_numbers_is_refused_on_save() {
    let app = spawn_app().await;
    let (connection, list, segment) = set_up(&app).await;
    let mut body = form(&connection, &list, &segment);
    body["mapping"] = json!({ "email": "email", "phone": "country", "home_phone": "tier",
                              "work_phone": "first_name", "mobile_phone": "last_name" });
    let (status, refused) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/exports",
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("at most 3 phone numbers"),
        "{refused}"
    );
}
