//! Following a request and a run through the logs: every request has an id (returned in
//! `X-Request-Id`, a sane one sent by the client kept) and its events carry it with the
//! caller; every event of a run carries the run's, the export's and the connection's ids.

use std::time::Duration;

use reqwest::Method;
use segsync_store::{Role, Store, Trigger};
use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::processes::{serve_logging_to, until_up};
use crate::runs::an_export;

#[tokio::test]
async fn a_request_id_comes_back_and_a_sane_one_sent_is_kept() {
    let app = spawn_app().await;
    let fresh = app
        .request(Some(Role::Viewer), Method::GET, "/api/v1/me")
        .send()
        .await
        .unwrap();
    let id = fresh.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    for (sent, kept) in [("deploy-42.retry_1", true), ("no spaces allowed", false)] {
        let answer = app
            .request(Some(Role::Viewer), Method::GET, "/api/v1/me")
            .header("x-request-id", sent)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.headers()["x-request-id"] == sent, kept, "{sent}");
    }
}

/// The spans of a JSON log line, by name.
fn span<'a>(line: &'a Value, name: &str) -> Option<&'a Value> {
    line["spans"]
        .as_array()?
        .iter()
        .find(|span| span["name"] == name)
}

#[tokio::test]
async fn json_logs_carry_the_request_and_the_run_on_every_event() {
    let mut app = spawn_app().await;
    let (export, _) = an_export(&app).await;
    let connection = app
        .state
        .store
        .export(export.parse().unwrap())
        .await
        .unwrap()
        .connection_id
        .unwrap();
    app.stop().await;
    let config = app.config().clone();
    let log_path = tempfile::NamedTempFile::new().unwrap().into_temp_path();
    let log = std::fs::File::create(&log_path).unwrap();
    let (_server, base) = serve_logging_to(
        &config,
        &[("SEGSYNC_LOG__FORMAT", "json"), ("RUST_LOG", "info")],
        log,
    );
    until_up(&base).await;

    let created = app
        .request_to(
            &base,
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/segments",
        )
        .header("x-request-id", "trace-me-1")
        .json(&json!({ "name": "traced", "rule": { "attribute": "email", "op": "is_not_null" } }))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let store = Store::open(&config.database_url).await.unwrap();
    let run = store
        .queue_run(export.parse().unwrap(), Trigger::Manual, None, None)
        .await
        .unwrap();
    let mut ended = false;
    for _ in 0..300 {
        ended = !store.run(run.id).await.unwrap().status.is_active();
        if ended {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ended, "the run ended");
    store.close().await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let lines: Vec<Value> = std::fs::read_to_string(&log_path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let audited = lines
        .iter()
        .find(|line| line["fields"]["message"] == "Audited.")
        .expect("the segment's creation was logged");
    let request = span(audited, "request").expect("inside the request's span");
    assert_eq!(request["request_id"], "trace-me-1");
    assert_eq!(request["caller"], "contributor");

    let of_the_run: Vec<&Value> = lines
        .iter()
        .filter(|line| span(line, "run").is_some_and(|span| span["run"] == run.id.to_string()))
        .collect();
    let messages: Vec<&str> = of_the_run
        .iter()
        .filter_map(|line| line["fields"]["message"].as_str())
        .collect();
    assert!(
        messages.contains(&"A run starts.") && messages.contains(&"A run ended."),
        "{messages:?}"
    );
    let ended = of_the_run
        .iter()
        .find(|line| line["fields"]["message"] == "A run ended.")
        .unwrap();
    let ids = span(ended, "run").unwrap();
    assert_eq!(ids["export"], export.as_str());
    assert_eq!(ids["connection"], connection.to_string());
}
