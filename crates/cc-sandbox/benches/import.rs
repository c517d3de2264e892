//! How fast the sandbox takes in 1,000,000 contacts: 25 JSON imports of 40,000 contacts posted
//! over HTTP, processed to `completed`. Run with `cargo bench -p cc-sandbox --bench import`.
//!
//! The sandbox's own limits are lifted here; what is measured is its capacity, which must stay
//! far above what Constant Contact's 4 requests/s let any export send.

use std::io::Write;
use std::time::{Duration, Instant};

use cc_sandbox::SandboxConfig;
use serde_json::{Value, json};

const CONTACTS: usize = 1_000_000;
const PER_IMPORT: usize = 40_000;

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = SandboxConfig {
        auto_approve: true,
        requests_per_second: 1_000_000,
        daily_quota: u32::MAX,
        activity_queue_time: Duration::ZERO,
        activity_processing_time: Duration::ZERO,
        ..SandboxConfig::default()
    }
    .with_client("bench", Some("bench-secret"), &["http://127.0.0.1:1/cb"])
    .with_lists(&["Bench"]);
    let sandbox = cc_sandbox::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = sandbox.base_url();
    let list_id = sandbox.state().lists()[0].list_id;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = access_token(&http, &base).await;

    let bodies: Vec<Vec<u8>> = (0..CONTACTS / PER_IMPORT)
        .map(|batch| {
            let contacts: Vec<Value> = (0..PER_IMPORT)
                .map(|i| {
                    let n = batch * PER_IMPORT + i;
                    json!({ "email": format!("person{n}@example.com"), "first_name": "Zoë", "last_name": format!("O'Brien {n}") })
                })
                .collect();
            serde_json::to_vec(&json!({ "import_data": contacts, "list_ids": [list_id] })).unwrap()
        })
        .collect();
    let bytes: usize = bodies.iter().map(Vec::len).sum();

    let started = Instant::now();
    let mut activity_ids = Vec::new();
    for body in bodies {
        let response = http
            .post(format!("{base}/v3/activities/contacts_json_import"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.unwrap();
        activity_ids.push(created["activity_id"].as_str().unwrap().to_owned());
    }
    let posted = started.elapsed();
    for activity_id in &activity_ids {
        loop {
            let activity: Value = http
                .get(format!("{base}/v3/activities/{activity_id}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if activity["state"] == "completed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let completed = started.elapsed();
    assert_eq!(sandbox.state().contact_count(), CONTACTS);

    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "sandbox import of {CONTACTS} contacts in {} requests ({:.1} MB):",
        activity_ids.len(),
        bytes as f64 / 1e6
    )
    .unwrap();
    writeln!(
        out,
        "  all requests accepted after {:.2} s",
        posted.as_secs_f64()
    )
    .unwrap();
    writeln!(
        out,
        "  all activities completed after {:.2} s ({:.0} contacts/s)",
        completed.as_secs_f64(),
        CONTACTS as f64 / completed.as_secs_f64()
    )
    .unwrap();
    writeln!(
        out,
        "  peak resident memory of the process: {} MB",
        peak_rss_mb()
    )
    .unwrap();
    writeln!(
        out,
        "  for comparison, Constant Contact's 4 requests/s need {:.2} s just to accept 25 imports",
        25.0 / 4.0
    )
    .unwrap();
}

async fn access_token(http: &reqwest::Client, base: &str) -> String {
    let redirect = "http://127.0.0.1:1/cb";
    let response = http
        .get(format!("{base}/oauth2/default/v1/authorize"))
        .query(&[
            ("client_id", "bench"),
            ("redirect_uri", redirect),
            ("response_type", "code"),
            ("scope", "contact_data"),
            ("state", "s"),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens: Value = http
        .post(format!("{base}/oauth2/default/v1/token"))
        .basic_auth("bench", Some("bench-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["access_token"].as_str().unwrap().to_owned()
}

fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb / 1024)
}
