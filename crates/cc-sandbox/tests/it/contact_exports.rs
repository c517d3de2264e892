//! `contact_exports` as Constant Contact's Swagger file describes it: the activity's answer
//! checked against the file's own definitions (an excerpt kept beside this test), the CSV of a
//! list's contacts, the status filters, the combinations refused, and the file gone once it
//! expired.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

const EXPORT: &str = "/v3/activities/contact_exports";

/// The Swagger file's paths and definitions of contact exports.
fn swagger() -> Value {
    serde_json::from_str(include_str!("swagger_contact_exports.json")).unwrap()
}

/// Checks `value` against a Swagger 2.0 schema: each property the answer carries is one the
/// definition declares, of the declared type and format. Returns what differs, by path.
fn off_schema(value: &Value, schema: &Value, definitions: &Value, at: &str) -> Vec<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/definitions/");
        return off_schema(value, &definitions[name], definitions, at);
    }
    let mut problems = Vec::new();
    let declared = schema["type"].as_str().unwrap_or("object");
    let type_ok = match declared {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("a type this check does not know: {other}"),
    };
    if !type_ok {
        problems.push(format!("{at}: {value} is not of type {declared}"));
        return problems;
    }
    match (schema["format"].as_str(), value.as_str()) {
        (Some("uuid"), Some(text)) if uuid::Uuid::parse_str(text).is_err() => {
            problems.push(format!("{at}: {text:?} is not a uuid"));
        }
        (Some("date-time"), Some(text)) if chrono::DateTime::parse_from_rfc3339(text).is_err() => {
            problems.push(format!("{at}: {text:?} is not a date-time"));
        }
        _ => {}
    }
    if let Some(items) = value.as_array() {
        for (index, item) in items.iter().enumerate() {
            problems.extend(off_schema(
                item,
                &schema["items"],
                definitions,
                &format!("{at}[{index}]"),
            ));
        }
    }
    if let Some(object) = value.as_object() {
        for (key, item) in object {
            match schema["properties"].get(key) {
                Some(property) => problems.extend(off_schema(
                    item,
                    property,
                    definitions,
                    &format!("{at}.{key}"),
                )),
                None => problems.push(format!("{at}.{key} is not in the Swagger file")),
            }
        }
    }
    problems
}

fn assert_on_schema(value: &Value, definition: &str) {
    let swagger = swagger();
    let definitions = &swagger["definitions"];
    let problems = off_schema(value, &definitions[definition], definitions, definition);
    assert!(problems.is_empty(), "{problems:#?}\n{value:#}");
}

async fn import(raw: &Raw, emails: &[(&str, &str)]) {
    let contacts: Vec<Value> = emails
        .iter()
        .map(|(email, first_name)| json!({ "email": email, "first_name": first_name }))
        .collect();
    let (status, body) = raw
        .post_json(
            "/v3/activities/contacts_json_import",
            &json!({ "import_data": contacts, "list_ids": [raw.list_id()] }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let done = raw.wait_for(body["activity_id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "completed", "{done}");
}

/// Starts an export, waits for it, and returns the completed activity and its file.
async fn export(raw: &Raw, request: &Value) -> (Value, String) {
    let (status, started) = raw.post_json(EXPORT, request).await;
    assert_eq!(status, 201, "{started}");
    assert_on_schema(&started, "ActivityExportStatus");
    assert_eq!(started["state"], "initialized");
    assert!(started["_links"].get("results").is_none(), "{started}");
    let done = raw.wait_for(started["activity_id"].as_str().unwrap()).await;
    assert_on_schema(&done, "ActivityExportStatus");
    assert_eq!(done["state"], "completed", "{done}");
    let href = done["_links"]["results"]["href"].as_str().unwrap();
    assert_eq!(
        href,
        format!(
            "/v3/contact_exports/{}",
            done["activity_id"].as_str().unwrap()
        )
    );
    let response = raw
        .http
        .get(raw.url(href))
        .bearer_auth(&raw.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    (done, response.text().await.unwrap())
}

fn rows(csv: &str) -> Vec<String> {
    csv.lines().skip(1).map(str::to_owned).collect()
}

#[tokio::test]
async fn a_lists_contacts_are_exported_to_a_csv_file_as_the_swagger_file_describes() {
    let swagger = swagger();
    assert!(
        swagger["paths"]["/activities/contact_exports"]["post"]["responses"]["201"].is_object()
    );
    let raw = spawn(config(), "contact_data").await;
    import(
        &raw,
        &[
            ("ann@example.com", "Ann"),
            ("bob@example.com", "Bob, Jr."),
            ("cy@example.com", "Cy"),
            ("dee@example.com", "Dee"),
        ],
    )
    .await;
    raw.sandbox
        .state()
        .unsubscribe_because(&["cy@example.com".to_owned()], Some("too many emails"));
    raw.sandbox
        .state()
        .delete_contacts(&["dee@example.com".to_owned()]);

    let (done, csv) = export(
        &raw,
        &json!({ "list_ids": [raw.list_id()], "fields": ["email_address", "first_name"] }),
    )
    .await;
    assert_eq!(csv.lines().next(), Some("email_address,first_name"));
    assert_eq!(
        rows(&csv),
        ["ann@example.com,Ann", "bob@example.com,\"Bob, Jr.\""]
    );
    assert_eq!(done["status"]["items_total_count"], 2);
    assert_eq!(done["status"]["items_completed_count"], 2);

    let (_, csv) = export(
        &raw,
        &json!({
            "status": "unsubscribed",
            "fields": ["email_address", "email_optout_source", "email_optout_reason"],
        }),
    )
    .await;
    assert_eq!(
        rows(&csv),
        ["cy@example.com,Contact,too many emails"],
        "{csv}"
    );

    let (_, csv) = export(
        &raw,
        &json!({ "status": "deleted", "fields": ["email_address"] }),
    )
    .await;
    assert_eq!(rows(&csv), ["dee@example.com"]);

    // No filter: every contact but the deleted one, every field.
    let (_, csv) = export(&raw, &json!({})).await;
    assert!(
        csv.starts_with("email_address,first_name,last_name,"),
        "{csv}"
    );
    assert_eq!(rows(&csv).len(), 3, "{csv}");

    // An import brings a deleted contact back; an unsubscribed one stays off the list.
    import(
        &raw,
        &[("dee@example.com", "Dee"), ("cy@example.com", "Cy")],
    )
    .await;
    let (_, csv) = export(
        &raw,
        &json!({ "list_ids": [raw.list_id()], "fields": ["email_address"] }),
    )
    .await;
    assert_eq!(
        rows(&csv),
        ["ann@example.com", "bob@example.com", "dee@example.com"]
    );
}

#[tokio::test]
async fn filters_combine_only_as_the_swagger_file_allows() {
    let raw = spawn(config(), "contact_data").await;
    let list = raw.list_id();
    let contact = uuid::Uuid::new_v4().to_string();
    let refused: &[(Value, u16, &str)] = &[
        (
            json!({ "list_ids": [list], "contact_ids": [contact] }),
            400,
            "cannot be combined",
        ),
        (
            json!({ "tag_ids": [contact], "status": "active" }),
            400,
            "cannot be combined",
        ),
        (
            json!({ "contact_ids": [contact], "exclude": { "contact_ids": [contact] } }),
            400,
            "cannot be combined",
        ),
        (
            json!({ "fields": ["email_optout_source"] }),
            400,
            "must include email_address",
        ),
        (
            json!({ "fields": ["shoe_size"] }),
            400,
            "not a contact field",
        ),
        (json!({ "status": "sleeping" }), 400, "valid value"),
        (json!({ "list_ids": [contact] }), 404, "was not found"),
        (json!({ "tag_ids": [contact] }), 404, "was not found"),
    ];
    for (request, expected, needle) in refused {
        let (status, body) = raw.post_json(EXPORT, request).await;
        assert_eq!(status, *expected, "{request} → {body}");
        assert!(body.to_string().contains(needle), "{request} → {body}");
    }
    let (status, body) = raw
        .post_json(EXPORT, &json!({ "list_ids": [list], "status": "active" }))
        .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn an_exported_file_answers_404_once_it_expired() {
    let config = cc_sandbox::SandboxConfig {
        access_token_lifetime: Duration::from_secs(30 * 86_400),
        ..config()
    };
    let raw = spawn(config, "contact_data").await;
    import(&raw, &[("ann@example.com", "Ann")]).await;
    let (done, _) = export(&raw, &json!({ "list_ids": [raw.list_id()] })).await;
    let href = done["_links"]["results"]["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = raw.get(&href).await;
    assert_eq!(status, 200);
    raw.sandbox
        .state()
        .advance_clock(Duration::from_secs(11 * 24 * 3600));
    let (status, body) = raw.get(&href).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body[0]["error_key"], "contacts.api.not_found", "{body}");
    let (status, _) = raw
        .get(&format!("/v3/contact_exports/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn contacts_are_deleted_by_id_or_by_list_as_the_swagger_file_describes_and_an_import_revives_them()
 {
    let swagger = swagger();
    assert!(swagger["paths"]["/activities/contact_delete"]["post"]["responses"]["201"].is_object());
    let raw = spawn(config(), "contact_data").await;
    import(
        &raw,
        &[("ann@example.com", "Ann"), ("bob@example.com", "Bob")],
    )
    .await;
    let ann = raw.sandbox.state().contact("ann@example.com").unwrap();

    let (status, started) = raw
        .post_json(
            "/v3/activities/contact_delete",
            &json!({ "contact_ids": [ann.contact_id] }),
        )
        .await;
    assert_eq!(status, 201, "{started}");
    assert_on_schema(&started, "ActivityDeleteStatus");
    let done = raw.wait_for(started["activity_id"].as_str().unwrap()).await;
    assert_on_schema(&done, "ActivityDeleteStatus");
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(done["status"]["items_completed_count"], 1);
    let ann = raw.sandbox.state().contact("ann@example.com").unwrap();
    assert_eq!(ann.permission_to_send, "deleted");
    assert!(ann.list_ids.is_empty());
    assert_eq!(
        raw.sandbox
            .state()
            .contact("bob@example.com")
            .unwrap()
            .permission_to_send,
        "implicit"
    );

    for (body, why) in [
        (
            json!({ "contact_ids": [ann.contact_id], "list_ids": [raw.list_id()] }),
            "both",
        ),
        (json!({}), "neither"),
        (json!({ "contact_ids": [] }), "none"),
        (
            json!({ "contact_ids": vec![ann.contact_id; 501] }),
            "over 500",
        ),
    ] {
        let (status, refused) = raw.post_json("/v3/activities/contact_delete", &body).await;
        assert_eq!(status, 400, "{why}: {refused}");
    }

    // By list: every member of the list.
    let (status, started) = raw
        .post_json(
            "/v3/activities/contact_delete",
            &json!({ "list_ids": [raw.list_id()] }),
        )
        .await;
    assert_eq!(status, 201, "{started}");
    raw.wait_for(started["activity_id"].as_str().unwrap()).await;
    assert_eq!(
        raw.sandbox
            .state()
            .contact("bob@example.com")
            .unwrap()
            .permission_to_send,
        "deleted"
    );

    // Deleting is not unsubscribing: an import brings the contact back.
    import(&raw, &[("ann@example.com", "Ann")]).await;
    assert_eq!(
        raw.sandbox
            .state()
            .contact("ann@example.com")
            .unwrap()
            .permission_to_send,
        "implicit"
    );
}
