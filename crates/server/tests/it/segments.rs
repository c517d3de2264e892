//! Segments through the API: validation at the right rule, preview, activation, YAML import
//! and export, and removal.

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

fn gold_us() -> Value {
    json!({
        "name": "gold-us",
        "description": "Gold and platinum in the US",
        "rule": { "all": [
            { "attribute": "tier", "op": "in", "values": ["gold", "platinum"] },
            { "attribute": "country", "op": "equals", "value": "us", "case_insensitive": true }
        ] }
    })
}

#[tokio::test]
async fn a_contributor_creates_previews_and_removes_a_segment() {
    let app = spawn_app().await;
    let (status, created) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/segments",
            Some(gold_us()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["active"], true);
    assert_eq!(created["rule"]["all"][0]["op"], "in");
    let id = created["id"].as_str().unwrap().to_owned();

    let (status, preview) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/segments/{id}/preview"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["members"], 3, "Ada, Grace and the bad address");
    let emails: Vec<&str> = preview["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["ada@example.com", "grace@example.com", "not-an-email"]
    );

    let (status, _) = app
        .call(
            Some(Role::Viewer),
            Method::POST,
            "/api/v1/segments",
            Some(gold_us()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "viewers change nothing");
    let (_, deactivated) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/segments/{id}/deactivate"),
            None,
        )
        .await;
    assert_eq!(deactivated["active"], false);

    let (status, _) = app
        .call(
            Some(Role::Contributor),
            Method::DELETE,
            &format!("/api/v1/segments/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/segments/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn problems_are_reported_at_their_rule_with_the_nearest_attribute() {
    let app = spawn_app().await;
    let bad = json!({
        "name": "typos",
        "rule": { "all": [
            { "attribute": "tier", "op": "equals", "value": "gold" },
            { "attribute": "countyr", "op": "equals", "value": "US" },
            { "attribute": "lifetime_value", "op": "greater_than", "value": "lots" }
        ] }
    });
    let (status, error) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/segments/validate",
            Some(bad.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["code"], "invalid_segment");
    let problems = error["details"]["errors"].as_array().unwrap();
    assert_eq!(problems[0]["path"], "rule.all[1]");
    assert!(
        problems[0]["problem"].as_str().unwrap().contains("country"),
        "{error}"
    );
    assert_eq!(problems[1]["path"], "rule.all[2]");
    let (status, _) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/segments",
            Some(bad),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an invalid segment is not saved"
    );
    let (_, listed) = app
        .call(Some(Role::Viewer), Method::GET, "/api/v1/segments", None)
        .await;
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn segments_round_trip_through_yaml_all_or_nothing() {
    let app = spawn_app().await;
    app.call(
        Some(Role::Contributor),
        Method::POST,
        "/api/v1/segments",
        Some(gold_us()),
    )
    .await;
    let yaml = app
        .request(Some(Role::Viewer), Method::GET, "/api/v1/segments/yaml")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        yaml.contains("gold-us") && yaml.contains("case_insensitive: true"),
        "{yaml}"
    );

    let import = format!(
        "{yaml}- name: not-gold-us\n  rule: {{ except: [everyone, gold-us] }}\n- name: everyone\n  rule: {{ attribute: email, op: is_not_null }}\n"
    );
    let response = app
        .request(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/segments/yaml",
        )
        .body(import.clone())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let imported: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{imported}\n{import}");
    assert_eq!(imported["updated"], json!(["gold-us"]));
    assert_eq!(imported["created"], json!(["not-gold-us", "everyone"]));

    let viewer = app
        .request(Some(Role::Viewer), Method::POST, "/api/v1/segments/yaml")
        .body(import.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(viewer.status(), StatusCode::FORBIDDEN);

    let broken = format!("{import}- name: broken\n  rule: {{ attribute: nope, op: is_null }}\n");
    let response = app
        .request(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/segments/yaml",
        )
        .body(broken)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, listed) = app
        .call(Some(Role::Viewer), Method::GET, "/api/v1/segments", None)
        .await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        3,
        "nothing of a failed import is saved"
    );

    let except = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "not-gold-us")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, preview) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/segments/{except}/preview"),
            None,
        )
        .await;
    assert_eq!(
        preview["members"], 2,
        "Zoë and Bruno: everyone except gold-us"
    );

    let gold = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "gold-us")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut renamed = gold_us();
    renamed["name"] = json!("gold-and-us");
    let (status, error) = app
        .call(
            Some(Role::Contributor),
            Method::PUT,
            &format!("/api/v1/segments/{gold}"),
            Some(renamed),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["message"].as_str().unwrap().contains("not-gold-us"),
        "the segments that use it are named: {error}"
    );
}

#[tokio::test]
async fn an_import_naming_a_segment_twice_saves_nothing_and_a_referred_segment_stays() {
    let app = spawn_app().await;
    let import = |yaml: &'static str| {
        app.request(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/segments/yaml",
        )
        .body(yaml)
        .send()
    };
    let twice = import(
        "segments:\n- { name: gold, rule: { attribute: tier, op: equals, value: gold } }\n- { name: gold, rule: { attribute: tier, op: equals, value: platinum } }\n",
    )
    .await
    .unwrap();
    assert_eq!(twice.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = twice.json().await.unwrap();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("more than once"),
        "{error}"
    );
    let (_, listed) = app
        .call(Some(Role::Viewer), Method::GET, "/api/v1/segments", None)
        .await;
    assert_eq!(listed, json!([]), "nothing of the file was saved");

    let saved = import(
        "segments:\n- { name: gold, rule: { attribute: tier, op: equals, value: gold } }\n- { name: gold-in-us, rule: { all: [ { segment: gold }, { attribute: country, op: equals, value: US } ] } }\n- { name: not-gold, rule: { except: [gold-in-us, gold] } }\n",
    )
    .await
    .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    let (_, listed) = app
        .call(Some(Role::Viewer), Method::GET, "/api/v1/segments", None)
        .await;
    let gold = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|segment| segment["name"] == "gold")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, refused) = app
        .call(
            Some(Role::Contributor),
            Method::DELETE,
            &format!("/api/v1/segments/{gold}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "segment_in_use");
    assert_eq!(
        refused["details"]["segments"],
        json!(["gold-in-us", "not-gold"])
    );
    let (status, _) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/segments/{gold}"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the referred segment is still there"
    );
}
