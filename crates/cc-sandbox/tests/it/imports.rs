//! `contacts_json_import` validation, the 4 MB truncation and the queue limit.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;

const IMPORT: &str = "/v3/activities/contacts_json_import";

fn assert_validation_error(status: u16, body: &Value, needle: &str) {
    assert_eq!(status, 400, "{body}");
    let errors = body.as_array().expect("an error array");
    assert_eq!(errors[0]["error_key"], "contacts.api.validation.error");
    let messages: Vec<&str> = errors
        .iter()
        .map(|e| e["error_message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains(needle)),
        "{messages:?} lacks {needle:?}"
    );
}

#[tokio::test]
async fn invalid_requests_answer_400_or_415_with_the_documented_shape() {
    let raw = spawn(config(), "contact_data").await;
    let list = raw.list_id();
    let one = json!([{ "email": "a@example.com" }]);

    let (status, body) = raw.post_bytes(IMPORT, "text/plain", b"{}".to_vec()).await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(body[0]["error_key"], "contacts.api.unsupported_media_type");

    let (status, body) = raw
        .post_bytes(IMPORT, "application/json", b"{\"import_data\": [".to_vec())
        .await;
    assert_validation_error(status, &body, "not valid JSON");

    let (status, body) = raw.post_json(IMPORT, &json!({ "list_ids": [list] })).await;
    assert_validation_error(status, &body, "import_data is required");

    let (status, body) = raw.post_json(IMPORT, &json!({ "import_data": one })).await;
    assert_validation_error(status, &body, "list_ids is required");

    let (status, body) = raw
        .post_json(
            IMPORT,
            &json!({ "import_data": one, "list_ids": ["not-a-uuid"] }),
        )
        .await;
    assert_validation_error(status, &body, "not a valid UUID");

    let many: Vec<String> = (0..51).map(|_| uuid_like()).collect();
    let (status, body) = raw
        .post_json(IMPORT, &json!({ "import_data": one, "list_ids": many }))
        .await;
    assert_validation_error(status, &body, "1 to 50");

    let unknown = uuid_like();
    let (status, body) = raw
        .post_json(
            IMPORT,
            &json!({ "import_data": one, "list_ids": [unknown] }),
        )
        .await;
    assert_validation_error(status, &body, &unknown);

    let too_many: Vec<Value> = (0..40_001)
        .map(|i| json!({ "email": format!("p{i}@example.com") }))
        .collect();
    let (status, body) = raw
        .post_json(
            IMPORT,
            &json!({ "import_data": too_many, "list_ids": [list] }),
        )
        .await;
    assert_validation_error(status, &body, "at most 40000");

    assert_eq!(
        raw.sandbox.state().contact_count(),
        0,
        "nothing was imported"
    );
}

#[tokio::test]
async fn contacts_beyond_four_megabytes_are_silently_dropped() {
    let raw = spawn(config(), "contact_data").await;
    let list = raw.list_id();
    // 15,000 contacts of about 300 bytes: about 4.6 MB.
    let contacts: Vec<Value> = (0..15_000)
        .map(|i| json!({ "email": format!("p{i:05}@example.com"), "street": "x".repeat(255) }))
        .collect();
    let body = serde_json::to_vec(&json!({ "import_data": contacts, "list_ids": [list] })).unwrap();
    assert!(body.len() > 4_000_000);
    let (status, created) = raw
        .post_bytes(IMPORT, "application/json", body.clone())
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["state"], "initialized");
    let done = raw.wait_for(created["activity_id"].as_str().unwrap()).await;
    let imported = done["status"]["person_count"].as_u64().unwrap();
    assert!(imported < 15_000 && imported > 12_000, "{imported}");
    // Exactly the contacts whose JSON ends within the first 4,000,000 bytes.
    let last_kept = format!("p{:05}@example.com", imported - 1);
    let position = body
        .windows(last_kept.len())
        .position(|w| w == last_kept.as_bytes())
        .unwrap();
    assert!(position < 4_000_000);
    assert_eq!(
        raw.sandbox
            .state()
            .list_members(list.parse().unwrap())
            .len() as u64,
        imported
    );
}

#[tokio::test]
async fn queued_activities_beyond_the_limit_answer_429() {
    let config = cc_sandbox::SandboxConfig {
        max_queued_activities: 2,
        activity_queue_time: Duration::from_secs(30),
        ..config()
    };
    let raw = spawn(config, "contact_data").await;
    let body =
        json!({ "import_data": [{ "email": "a@example.com" }], "list_ids": [raw.list_id()] });
    assert_eq!(raw.post_json(IMPORT, &body).await.0, 201);
    assert_eq!(raw.post_json(IMPORT, &body).await.0, 201);
    let (status, refused) = raw.post_json(IMPORT, &body).await;
    assert_eq!(status, 429);
    assert!(
        refused["error_message"]
            .as_str()
            .unwrap()
            .contains("queued activities"),
        "{refused}"
    );
}

#[tokio::test]
async fn import_counters_follow_the_documented_meaning() {
    let raw = spawn(config().with_custom_fields(&["tier"]), "contact_data").await;
    raw.sandbox
        .state()
        .unsubscribe(&["Quit@Example.com".to_owned()]);
    let body = json!({
        "import_data": [
            { "email": "ok@example.com", "first_name": "Zoë", "last_name": "O'Brien", "cf:tier": "gold",
              "birthday_month": 7, "birthday_day": 14, "anniversary": "2015-06-01" },
            { "email": "quit@example.com", "first_name": "Back?" },
            { "email": "not-an-email" },
            { "first_name": "No email" },
            { "email": "long@example.com", "first_name": "x".repeat(51) },
            { "email": "odd@example.com", "favourite_colour": "blue" },
            { "email": "unknown-field@example.com", "cf:colour": "blue" },
            { "email": "four-phones@example.com", "phone": "1", "home_phone": "2", "work_phone": "3",
              "mobile_phone": "4" }
        ],
        "list_ids": [raw.list_id()]
    });
    let (status, created) = raw.post_json(IMPORT, &body).await;
    assert_eq!(status, 201);
    let done = raw.wait_for(created["activity_id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "completed");
    assert_eq!(
        done["status"],
        json!({ "items_total_count": 8, "items_completed_count": 8, "person_count": 8, "error_count": 4,
                "correctable_count": 2, "cannot_add_to_list_count": 1 })
    );
    let ok = raw.sandbox.state().contact("OK@example.com").unwrap();
    assert_eq!(ok.fields["first_name"], "Zoë");
    assert_eq!(ok.fields["cf:tier"], "gold");
    for refused in ["unknown-field@example.com", "four-phones@example.com"] {
        assert!(raw.sandbox.state().contact(refused).is_none(), "{refused}");
    }
    let quit = raw.sandbox.state().contact("quit@example.com").unwrap();
    assert!(
        !quit.fields.contains_key("first_name"),
        "an unsubscribed contact is not changed"
    );
}

/// Constant Contact takes a contact who unsubscribes off every list: the lists' membership
/// counts and the contacts of a list no longer hold them, and no import puts them back.
#[tokio::test]
async fn a_contact_who_unsubscribes_leaves_every_list() {
    let raw = spawn(config().with_lists(&["Second"]), "contact_data").await;
    let lists: Vec<String> = raw
        .sandbox
        .state()
        .lists()
        .iter()
        .map(|list| list.list_id.to_string())
        .collect();
    let body = json!({
        "import_data": [{ "email": "stay@example.com" }, { "email": "quit@example.com" }],
        "list_ids": lists,
    });
    let (status, created) = raw.post_json(IMPORT, &body).await;
    assert_eq!(status, 201);
    raw.wait_for(created["activity_id"].as_str().unwrap()).await;
    let members = |list: &str| {
        let raw = &raw;
        let list = list.to_owned();
        async move {
            let (status, page) = raw.get(&format!("/v3/contacts?lists={list}")).await;
            assert_eq!(status, 200, "{page}");
            let mut emails: Vec<String> = page["contacts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|contact| {
                    contact["email_address"]["address"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect();
            emails.sort();
            let (_, counted) = raw
                .get(&format!(
                    "/v3/contact_lists/{list}?include_membership_count=all"
                ))
                .await;
            (emails, counted["membership_count"].clone())
        }
    };
    for list in &lists {
        assert_eq!(members(list).await.1, 2);
    }

    raw.sandbox
        .state()
        .unsubscribe(&["quit@example.com".to_owned()]);
    for list in &lists {
        assert_eq!(
            members(list).await,
            (vec!["stay@example.com".to_owned()], json!(1)),
            "off list {list}"
        );
    }
    let (_, created) = raw.post_json(IMPORT, &body).await;
    let done = raw.wait_for(created["activity_id"].as_str().unwrap()).await;
    assert_eq!(done["status"]["cannot_add_to_list_count"], 1);
    assert_eq!(
        members(&lists[0]).await.1,
        1,
        "an import does not put them back"
    );
}

fn uuid_like() -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", rand_u32(), rand_u32())
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u8(0);
    hasher.finish() as u32
}
