//! What an account holds beyond lists: custom fields, the activities of the last ten days,
//! members by status; and the errors of every endpoint in Constant Contact's JSON shape.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{config, spawn};

const IMPORT: &str = "/v3/activities/contacts_json_import";
const REMOVE: &str = "/v3/activities/remove_list_memberships";

#[tokio::test]
async fn custom_fields_exist_per_account_at_most_a_hundred_and_an_import_sets_only_those() {
    let raw = spawn(
        config().with_custom_fields(&["Loyalty tier"]),
        "contact_data",
    )
    .await;
    let (status, page) = raw.get("/v3/contact_custom_fields").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["custom_fields"][0]["label"], "Loyalty tier");
    assert_eq!(page["custom_fields"][0]["name"], "Loyalty_tier");

    let (status, created) = raw
        .post_json(
            "/v3/contact_custom_fields",
            &json!({ "label": "Favourite store", "type": "string" }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "Favourite_store");
    let (status, taken) = raw
        .post_json(
            "/v3/contact_custom_fields",
            &json!({ "label": "favourite store", "type": "string" }),
        )
        .await;
    assert_eq!(status, 409, "{taken}");
    assert!(taken[0]["error_message"].is_string(), "{taken}");
    let (status, no_type) = raw
        .post_json("/v3/contact_custom_fields", &json!({ "label": "Size" }))
        .await;
    assert_eq!(status, 400, "{no_type}");

    for n in 3..=100 {
        assert!(
            raw.sandbox
                .state()
                .create_custom_field(&format!("Field {n}"))
                .is_ok()
        );
    }
    let (status, full) = raw
        .post_json(
            "/v3/contact_custom_fields",
            &json!({ "label": "One too many", "type": "string" }),
        )
        .await;
    assert_eq!(status, 400, "{full}");
    assert!(
        full[0]["error_message"].as_str().unwrap().contains("100"),
        "{full}"
    );
    let (_, first) = raw.get("/v3/contact_custom_fields?limit=60").await;
    assert_eq!(first["custom_fields"].as_array().unwrap().len(), 60);
    let next = first["_links"]["next"]["href"].as_str().unwrap().to_owned();
    let (_, second) = raw.get(&next).await;
    assert_eq!(second["custom_fields"].as_array().unwrap().len(), 40);
    assert_eq!(second["_links"], json!({}));

    let body = json!({
        "import_data": [
            { "email": "known@example.com", "cf:Loyalty_tier": "gold", "cf:Favourite_store": "Leeds" },
            { "email": "label@example.com", "cf:Loyalty tier": "gold" },
            { "email": "unknown@example.com", "cf:colour": "blue" }
        ],
        "list_ids": [raw.list_id()]
    });
    let (status, import) = raw.post_json(IMPORT, &body).await;
    assert_eq!(status, 201, "{import}");
    let done = raw.wait_for(import["activity_id"].as_str().unwrap()).await;
    assert_eq!(done["status"]["error_count"], 2, "{done}");
    let known = raw.sandbox.state().contact("known@example.com").unwrap();
    assert_eq!(known.fields["cf:Loyalty_tier"], "gold");
    assert_eq!(known.fields["cf:Favourite_store"], "Leeds");
    assert_eq!(
        raw.sandbox
            .state()
            .list_members(raw.list_id().parse().unwrap()),
        ["known@example.com"]
    );
}

#[tokio::test]
async fn a_contact_holds_at_most_three_phone_numbers_counting_those_it_has() {
    let raw = spawn(config(), "contact_data").await;
    let import = |rows: Value| {
        let raw = &raw;
        async move {
            let body = json!({ "import_data": rows, "list_ids": [raw.list_id()] });
            let (status, created) = raw.post_json(IMPORT, &body).await;
            assert_eq!(status, 201, "{created}");
            raw.wait_for(created["activity_id"].as_str().unwrap()).await
        }
    };
    let done =
        import(json!([{ "email": "ada@example.com", "phone": "1", "home_phone": "2" }])).await;
    assert_eq!(done["status"]["error_count"], 0, "{done}");
    let done =
        import(json!([{ "email": "ada@example.com", "work_phone": "3", "mobile_phone": "4" }]))
            .await;
    assert_eq!(done["status"]["error_count"], 1, "{done}");
    let ada = raw.sandbox.state().contact("ada@example.com").unwrap();
    assert!(
        !ada.fields.contains_key("work_phone"),
        "nothing of a refused row is kept"
    );
    let done =
        import(json!([{ "email": "ada@example.com", "work_phone": "3", "home_phone": "22" }]))
            .await;
    assert_eq!(done["status"]["error_count"], 0, "{done}");
    let done = import(
        json!([{ "email": "bo@example.com", "street": "1 High St", "home_street": "2",
                               "work_city": "Leeds", "other_zip": "LS1" }]),
    )
    .await;
    assert_eq!(
        done["status"]["error_count"], 1,
        "four street addresses: {done}"
    );
}

#[tokio::test]
async fn activities_are_paged_newest_first_and_gone_after_ten_days() {
    // Tokens live on the sandbox's clock too: this one outlives the days it is moved on.
    let config = cc_sandbox::SandboxConfig {
        access_token_lifetime: Duration::from_secs(30 * 86_400),
        ..config()
    };
    let raw = spawn(config, "contact_data").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let body = json!({ "import_data": [{ "email": format!("p{n}@example.com") }], "list_ids": [raw.list_id()] });
        let (status, created) = raw.post_json(IMPORT, &body).await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["activity_id"].as_str().unwrap().to_owned());
        raw.wait_for(ids.last().unwrap()).await;
    }
    let ids_of = |page: &Value| -> Vec<String> {
        page["activities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["activity_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, first) = raw.get("/v3/activities?limit=2").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(ids_of(&first), [ids[4].clone(), ids[3].clone()]);
    // A newer activity does not move the pages already handed out.
    let body =
        json!({ "import_data": [{ "email": "late@example.com" }], "list_ids": [raw.list_id()] });
    let (_, late) = raw.post_json(IMPORT, &body).await;
    raw.wait_for(late["activity_id"].as_str().unwrap()).await;
    let next = first["_links"]["next"]["href"].as_str().unwrap().to_owned();
    let (_, second) = raw.get(&next).await;
    assert_eq!(ids_of(&second), [ids[2].clone(), ids[1].clone()]);
    let next = second["_links"]["next"]["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, third) = raw.get(&next).await;
    assert_eq!(ids_of(&third), [ids[0].clone()]);
    assert_eq!(third["_links"], json!({}));

    raw.sandbox
        .state()
        .advance_clock(Duration::from_secs(9 * 86_400));
    assert_eq!(raw.get(&format!("/v3/activities/{}", ids[0])).await.0, 200);
    raw.sandbox
        .state()
        .advance_clock(Duration::from_secs(86_400 + 60));
    let (status, gone) = raw.get(&format!("/v3/activities/{}", ids[0])).await;
    assert_eq!(status, 404, "{gone}");
    assert!(
        gone[0]["error_message"]
            .as_str()
            .unwrap()
            .contains("activity_id"),
        "{gone}"
    );
    let (_, recent) = raw.get("/v3/activities").await;
    assert!(
        recent["activities"].as_array().unwrap().is_empty(),
        "{recent}"
    );
}

#[tokio::test]
async fn membership_counts_all_members_or_only_the_active_ones() {
    let raw = spawn(config(), "contact_data").await;
    let list_id = raw.list_id();
    let state = raw.sandbox.state();
    let list: uuid::Uuid = list_id.parse().unwrap();
    assert!(state.add_to_list(list, "active@example.com"));
    assert!(state.add_to_list_as(
        list,
        "pending@example.com",
        cc_sandbox::HandAdded::PendingConfirmation
    ));
    let (_, all) = raw
        .get(&format!(
            "/v3/contact_lists/{list_id}?include_membership_count=all"
        ))
        .await;
    assert_eq!(all["membership_count"], 2, "{all}");
    let (_, active) = raw
        .get(&format!(
            "/v3/contact_lists/{list_id}?include_membership_count=active"
        ))
        .await;
    assert_eq!(active["membership_count"], 1, "{active}");
    let (_, lists) = raw
        .get("/v3/contact_lists?include_membership_count=active")
        .await;
    assert_eq!(lists["lists"][0]["membership_count"], 1, "{lists}");
    let (_, pending) = raw
        .get(&format!(
            "/v3/contacts?lists={list_id}&status=pending_confirmation"
        ))
        .await;
    assert_eq!(
        pending["contacts"].as_array().unwrap().len(),
        1,
        "{pending}"
    );
}

#[tokio::test]
async fn a_removal_by_list_spares_the_excluded_contacts() {
    let raw = spawn(config().with_lists(&["Source"]), "contact_data").await;
    let lists = raw.sandbox.state().lists();
    let (target, source) = (lists[0].list_id, lists[1].list_id);
    let body = json!({
        "import_data": [{ "email": "a@example.com" }, { "email": "b@example.com" }, { "email": "c@example.com" }],
        "list_ids": [target, source]
    });
    let (_, created) = raw.post_json(IMPORT, &body).await;
    raw.wait_for(created["activity_id"].as_str().unwrap()).await;
    let spared = raw
        .sandbox
        .state()
        .contact("b@example.com")
        .unwrap()
        .contact_id;

    let (status, refused) = raw
        .post_json(
            REMOVE,
            &json!({ "source": { "contact_ids": [spared] }, "list_ids": [target],
                                    "exclude": { "contact_ids": [spared] } }),
        )
        .await;
    assert_eq!(
        status, 400,
        "exclude goes with list_ids or all_active_contacts only: {refused}"
    );
    let (status, removal) = raw
        .post_json(
            REMOVE,
            &json!({ "source": { "list_ids": [source] }, "list_ids": [target],
                                    "exclude": { "contact_ids": [spared] } }),
        )
        .await;
    assert_eq!(status, 201, "{removal}");
    raw.wait_for(removal["activity_id"].as_str().unwrap()).await;
    assert_eq!(raw.sandbox.state().list_members(target), ["b@example.com"]);
    assert_eq!(raw.sandbox.state().list_members(source).len(), 3);
}

#[tokio::test]
async fn every_error_is_constant_contacts_json_a_repeated_query_parameter_included() {
    let raw = spawn(config(), "contact_data").await;
    for path in [
        "/v3/contacts?limit=5&limit=6",
        "/v3/contact_lists?name=a&name=b",
        "/v3/activities?state=completed&state=failed",
        "/v3/contact_custom_fields?limit=1&limit=2",
    ] {
        let (status, body) = raw.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body[0]["error_key"].is_string() && body[0]["error_message"].is_string(),
            "{path}: {body}"
        );
    }
    let too_large = vec![b' '; 65 * 1024 * 1024];
    let (status, body) = raw.post_bytes(IMPORT, "application/json", too_large).await;
    assert_eq!(status, 413, "{body}");
    assert!(body[0]["error_message"].is_string(), "{body}");
    let (status, body) = raw.get("/v3/no_such_thing").await;
    assert_eq!(status, 404, "{body}");
    assert!(body[0]["error_message"].is_string(), "{body}");
    let response = raw
        .http
        .delete(raw.url("/v3/contacts"))
        .bearer_auth(&raw.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    let (_, body) = crate::helpers::read(response).await;
    assert!(body[0]["error_message"].is_string(), "{body}");
}

#[tokio::test]
async fn an_account_saved_and_read_back_keeps_its_lists_contacts_fields_and_tokens() {
    let raw = spawn(
        config().with_custom_fields(&["Loyalty tier"]),
        "contact_data offline_access",
    )
    .await;
    let list = raw.list_id();
    let state = raw.sandbox.state();
    assert!(state.add_to_list(list.parse().unwrap(), "ada@example.com"));
    assert!(state.add_to_list(list.parse().unwrap(), "bob@example.com"));
    assert_eq!(state.unsubscribe(&["bob@example.com".to_owned()]), 1);
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("account.json");
    state.save_account(&file).unwrap();

    // A new sandbox, another process's: the same account once the file is read.
    let again = spawn(config(), "contact_data").await;
    again.sandbox.state().load_account(&file).unwrap();
    let restored = again.sandbox.state();
    assert_eq!(restored.lists()[0].list_id.to_string(), list);
    assert_eq!(
        restored.list_members(list.parse().unwrap()),
        ["ada@example.com"]
    );
    assert_eq!(
        restored
            .contact("bob@example.com")
            .unwrap()
            .permission_to_send,
        "unsubscribed"
    );
    assert_eq!(restored.custom_field_names(), ["Loyalty_tier"]);
    let (status, page) = again
        .http
        .get(again.url("/v3/contact_lists"))
        .bearer_auth(&raw.access_token)
        .send()
        .await
        .map(|response| (response.status(), response))
        .unwrap();
    assert_eq!(status, 200, "the first sandbox's token is still good");
    let page: Value = page.json().await.unwrap();
    assert_eq!(page["lists"][0]["list_id"], list.as_str());

    let broken = folder.path().join("broken.json");
    std::fs::write(&broken, "{\"lists\": 3}").unwrap();
    let refused = restored.load_account(&broken).unwrap_err().to_string();
    assert!(
        refused.contains("broken.json is not a sandbox account"),
        "{refused}"
    );
    assert_eq!(
        restored.list_members(list.parse().unwrap()),
        ["ada@example.com"],
        "a file that does not read changes nothing"
    );
}
