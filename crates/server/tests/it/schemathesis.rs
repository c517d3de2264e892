//! The whole API tested from its own OpenAPI document with generated requests (schemathesis,
//! which `./scripts/test` installs into a virtual environment and names in `SCHEMATHESIS`): no
//! answer is a 5xx, and every answer has the documented content type and matches its schema.

use std::process::Command;

use segsync_store::Role;

use crate::helpers::spawn_app;

#[tokio::test]
async fn generated_requests_get_no_server_error_and_documented_answers() {
    let schemathesis = std::env::var("SCHEMATHESIS").expect(
        "SCHEMATHESIS names the schemathesis program; ./scripts/test installs it and sets it",
    );
    let app = spawn_app().await;
    let document = app.url("/api/openapi.json");
    let token = app.token(Role::Admin).to_owned();
    // Schemathesis keeps a cache where it runs: in a folder of the test's own.
    let folder = tempfile::tempdir().unwrap();
    let working = folder.path().to_owned();
    let run = tokio::task::spawn_blocking(move || {
        Command::new(schemathesis)
            .current_dir(working)
            .args(["run", &document])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args([
                "--checks",
                "not_a_server_error,content_type_conformance,response_schema_conformance",
            ])
            .args(["--phases", "examples,coverage,fuzzing,stateful"])
            .args(["--max-examples", "25", "--workers", "2", "--seed", "1"])
            // Signing out and revoking tokens would take the run's own credentials away.
            .args(["--exclude-path", "/api/v1/session"])
            .args(["--exclude-path", "/api/v1/me/tokens/{id}"])
            .env("NO_COLOR", "1")
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "{report}");
    assert!(report.contains(" passed"), "{report}");
}
