//! Exports through the API: every check at save, nothing run by saving, what each role may do.

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::{Value, json};

use crate::connections::authenticate;
use crate::helpers::{TestApp, spawn_app};

/// A shared, authenticated connection, a segment, and the id of the sandbox's "Newsletter" list.
pub(crate) async fn set_up(app: &TestApp) -> (String, String, String) {
    let (_, connection) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            "/api/v1/connections",
            Some(json!({ "name": "CC", "consent": true, "usable_by": "admins_and_contributors" })),
        )
        .await;
    let connection = connection["id"].as_str().unwrap().to_owned();
    authenticate(app, &connection).await;
    let (_, lists) = app
        .call(
            Some(Role::Contributor),
            Method::GET,
            &format!("/api/v1/connections/{connection}/lists"),
            None,
        )
        .await;
    let list = lists[0]["list_id"].as_str().unwrap().to_owned();
    let (_, segment) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/segments",
            Some(json!({ "name": "gold", "rule": { "attribute": "tier", "op": "equals", "value": "gold" } })),
        )
        .await;
    (connection, list, segment["id"].as_str().unwrap().to_owned())
}

pub(crate) fn form(connection: &str, list: &str, segment: &str) -> Value {
    json!({
        "name": "Gold to Newsletter",
        "connection_id": connection,
        "list_id": list,
        "mapping": { "email": "email", "first_name": "first_name", "last_name": "last_name" },
        "segment_ids": [segment],
    })
}

#[tokio::test]
async fn saving_checks_everything_and_runs_nothing() {
    let app = spawn_app().await;
    let (connection, list, segment) = set_up(&app).await;
    let post = |body: Value| {
        app.call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/exports",
            Some(body),
        )
    };

    let mut unknown_list = form(&connection, &list, &segment);
    unknown_list["list_id"] = json!(uuid::Uuid::new_v4());
    let (status, error) = post(unknown_list).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("list_not_found"))
    );

    let mut no_email = form(&connection, &list, &segment);
    no_email["mapping"] = json!({ "first_name": "first_name" });
    let (_, error) = post(no_email).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("mapping.email"),
        "{error}"
    );

    let mut typo = form(&connection, &list, &segment);
    typo["mapping"]["last_name"] = json!("lastname");
    let (_, error) = post(typo).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("did you mean \"last_name\""),
        "{error}"
    );

    let mut no_segment = form(&connection, &list, &segment);
    no_segment["segment_ids"] = json!([]);
    assert_eq!(post(no_segment).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, export) = post(form(&connection, &list, &segment)).await;
    assert_eq!(status, StatusCode::CREATED, "{export}");
    assert_eq!(
        export["you_may"],
        json!({ "edit": true, "run": true, "duplicate": true, "detach": true, "remove": true })
    );
    let imports = app
        .sandbox
        .state()
        .requests()
        .iter()
        .filter(|r| r.endpoint == "contacts_json_import")
        .count();
    assert_eq!(imports, 0, "saving does not run the export");

    let (_, seen) = app
        .call(Some(Role::Viewer), Method::GET, "/api/v1/exports", None)
        .await;
    assert_eq!(
        seen[0]["you_may"],
        json!({ "edit": false, "run": false, "duplicate": false, "detach": false, "remove": false })
    );
    assert_eq!(
        post(form(&connection, &list, &segment)).await.0,
        StatusCode::CONFLICT,
        "names are unique"
    );
    let (status, _) = app
        .call(
            Some(Role::Viewer),
            Method::POST,
            "/api/v1/exports",
            Some(form(&connection, &list, &segment)),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn duplicate_detach_and_what_an_export_holds_on_to() {
    let app = spawn_app().await;
    let (connection, list, segment) = set_up(&app).await;
    let (_, export) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/exports",
            Some(form(&connection, &list, &segment)),
        )
        .await;
    let id = export["id"].as_str().unwrap().to_owned();

    let (status, copy) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/exports/{id}/duplicate"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(copy["name"], "Gold to Newsletter (copy)");
    assert_eq!(copy["segment_ids"], export["segment_ids"]);

    let (status, error) = app
        .call(
            Some(Role::Contributor),
            Method::DELETE,
            &format!("/api/v1/segments/{segment}"),
            None,
        )
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::CONFLICT, Some("segment_in_use"))
    );
    assert_eq!(
        error["details"]["exports"],
        json!(["Gold to Newsletter", "Gold to Newsletter (copy)"])
    );

    let (_, detached) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/exports/{id}/detach"),
            None,
        )
        .await;
    assert_eq!(detached["connection_id"], Value::Null);
    assert_eq!(
        detached["you_may"]["run"], false,
        "a detached export cannot run"
    );
    let (status, error) = app
        .call(
            Some(Role::Admin),
            Method::DELETE,
            &format!("/api/v1/connections/{connection}"),
            None,
        )
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::CONFLICT, Some("connection_in_use"))
    );
    assert_eq!(
        error["details"]["exports"],
        json!(["Gold to Newsletter (copy)"]),
        "only the attached copy holds it"
    );

    let copy_id = copy["id"].as_str().unwrap();
    let (status, _) = app
        .call(
            Some(Role::Contributor),
            Method::DELETE,
            &format!("/api/v1/exports/{copy_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .call(
            Some(Role::Admin),
            Method::DELETE,
            &format!("/api/v1/connections/{connection}"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "with no export attached, the connection can go"
    );
}
