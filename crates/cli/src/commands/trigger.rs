//! `segsync trigger`: a pipeline's last step tells the server a source changed. The runs it
//! started are printed; with `--wait` they are followed until they end, and the command exits
//! non-zero when one did not succeed.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::cli::TriggerArgs;

pub(crate) async fn run(args: TriggerArgs) -> anyhow::Result<()> {
    let token = std::env::var(&args.token_env).with_context(|| {
        format!(
            "{} holds no API token: make one scoped to trigger (console: Account → API tokens)",
            args.token_env
        )
    })?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let url = args.server.join("api/v1/triggers/source-changed")?;
    let response = http
        .post(url.clone())
        .bearer_auth(token.trim())
        .json(&json!({ "source": args.source, "version": args.source_version }))
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!(
            "the server answered {status}: {}",
            answer["message"].as_str().unwrap_or("no message")
        );
    }
    let mut out = std::io::stdout();
    let started: Vec<(String, String)> = answer["started"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|run| {
            (
                run["id"].as_str().unwrap_or_default().to_owned(),
                run["export_name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for (id, export) in &started {
        writeln!(out, "started run {id} of {export:?}")?;
    }
    for held in answer["held"].as_array().into_iter().flatten() {
        writeln!(
            out,
            "held export {}: {}",
            held["export_id"].as_str().unwrap_or_default(),
            held["reason"].as_str().unwrap_or_default()
        )?;
    }
    if started.is_empty() {
        writeln!(out, "no run started")?;
    }
    if !args.wait {
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(args.wait_seconds);
    let mut failed = Vec::new();
    for (id, export) in &started {
        let url = args.server.join(&format!("api/v1/runs/{id}"))?;
        let ended = loop {
            let run: Value = http
                .get(url.clone())
                .bearer_auth(token.trim())
                .send()
                .await
                .with_context(|| format!("GET {url}"))?
                .error_for_status()?
                .json()
                .await?;
            let status = run["status"].as_str().unwrap_or_default().to_owned();
            if !matches!(status.as_str(), "queued" | "running") {
                break run;
            }
            if Instant::now() > deadline {
                bail!(
                    "run {id} of {export:?} had not ended after {} s",
                    args.wait_seconds
                );
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        };
        let status = ended["status"].as_str().unwrap_or_default();
        writeln!(out, "run {id} of {export:?} ended {status}")?;
        if status != "succeeded" {
            failed.push(format!(
                "{export:?}: {status} ({})",
                ended["reason"].as_str().unwrap_or("no reason given")
            ));
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} run(s) did not succeed: {}",
            failed.len(),
            failed.join("; ")
        );
    }
    Ok(())
}
