//! Lists, paging, limits and faults as a raw client meets them.

use std::time::Duration;

use cc_sandbox::Fault;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_fifth_request_within_a_second_is_throttled_and_the_quota_is_per_day() {
    let config = cc_sandbox::SandboxConfig {
        requests_per_second: 4,
        daily_quota: 7,
        ..config()
    };
    let raw = spawn(config, "contact_data").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(raw.get("/v3/contact_lists").await);
    }
    assert_eq!(
        statuses.iter().map(|s| s.0).collect::<Vec<_>>(),
        [200, 200, 200, 200, 429]
    );
    assert_eq!(
        statuses[4].1,
        json!({ "error_key": "throttled", "error_message": "Too Many Requests" })
    );
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(raw.get("/v3/contact_lists").await.0, 200);
    assert_eq!(raw.get("/v3/contact_lists").await.0, 200);
    let (status, body) = raw.get("/v3/contact_lists").await;
    assert_eq!(status, 429);
    assert_eq!(
        body,
        json!({ "error_key": "quota_exceeded", "error_message": "Limit Exceeded" })
    );
}

#[tokio::test]
async fn lists_are_unique_capped_and_paged() {
    let config = cc_sandbox::SandboxConfig {
        max_lists: 3,
        ..config()
    };
    let raw = spawn(config, "contact_data").await;
    let (status, created) = raw
        .post_json(
            "/v3/contact_lists",
            &json!({ "name": "Gold", "favorite": true }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["favorite"], true);
    let (status, body) = raw
        .post_json("/v3/contact_lists", &json!({ "name": "GOLD" }))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        raw.post_json("/v3/contact_lists", &json!({ "name": "Silver" }))
            .await
            .0,
        201
    );
    let (status, body) = raw
        .post_json("/v3/contact_lists", &json!({ "name": "Bronze" }))
        .await;
    assert_eq!(
        status, 400,
        "the fourth list is over the cap of three: {body}"
    );
    let (status, body) = raw
        .post_json("/v3/contact_lists", &json!({ "favorite": true }))
        .await;
    assert_eq!(
        (status, body[0]["error_message"].as_str()),
        (400, Some("name is required."))
    );
    let (status, _) = raw
        .post_bytes("/v3/contact_lists", "text/plain", b"{}".to_vec())
        .await;
    assert_eq!(status, 415);

    let (status, page) = raw
        .get("/v3/contact_lists?limit=2&include_count=true")
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["lists"].as_array().unwrap().len(), 2);
    assert_eq!(page["lists_count"], 3);
    let next = page["_links"]["next"]["href"].as_str().unwrap().to_owned();
    assert!(next.starts_with("/v3/contact_lists?cursor="));
    let (_, last) = raw.get(&next).await;
    assert_eq!(last["lists"].as_array().unwrap().len(), 1);
    assert!(last["_links"].get("next").is_none());

    let (_, by_name) = raw.get("/v3/contact_lists?name=Silver").await;
    assert_eq!(by_name["lists"][0]["name"], "Silver");
    assert_eq!(raw.get("/v3/contact_lists?limit=0").await.0, 400);
    assert_eq!(raw.get("/v3/contact_lists/not-a-uuid").await.0, 404);
}

#[tokio::test]
async fn faults_answer_delay_and_drop_then_stop() {
    let raw = spawn(config(), "contact_data").await;
    let state = raw.sandbox.state();
    state.add_fault(Fault::respond(
        "get_contact_lists",
        1,
        503,
        json!([{ "error_key": "unavailable", "error_message": "down" }]),
    ));
    state.add_fault(Fault::delay("get_contact_lists", 1, 300));
    state.add_fault(Fault::drop_connection("get_contact_lists", 1));
    assert_eq!(raw.get("/v3/contact_lists").await.0, 503);
    let started = std::time::Instant::now();
    assert_eq!(raw.get("/v3/contact_lists").await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let dropped = raw
        .http
        .get(raw.url("/v3/contact_lists"))
        .bearer_auth(&raw.access_token)
        .send()
        .await;
    assert!(dropped.is_err(), "the connection closes without an answer");
    assert_eq!(raw.get("/v3/contact_lists").await.0, 200);
}

#[tokio::test]
async fn the_admin_api_injects_faults_and_reads_state_over_http() {
    let raw = spawn(config(), "contact_data").await;
    let fault = json!({ "endpoint": "*", "times": 1, "action": { "respond": { "status": 500, "body": {} } } });
    let response = raw
        .http
        .post(raw.url("/__sandbox/faults"))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(raw.get("/v3/contact_lists").await.0, 500);
    let response = raw
        .http
        .post(raw.url("/__sandbox/contacts/unsubscribe"))
        .json(&json!({ "emails": ["x@example.com"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(read(response).await.1["unsubscribed"], 1);
    let (_, lists) = read(
        raw.http
            .get(raw.url("/__sandbox/lists"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(lists["lists"][0]["name"], "Newsletter");
    assert_eq!(lists["contacts"], 1);
    let (_, log) = read(
        raw.http
            .get(raw.url("/__sandbox/requests"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let statuses: Vec<_> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["endpoint"] == "get_contact_lists")
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [500]);
}
