//! `segsync export --config FILE` against `segsync sandbox`, both as separate processes, with
//! the device flow on first use and the stored tokens on the next.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const PROFILES: &str = "\
email,first_name,last_name,tier
ada@example.com,Ada,Lovelace,gold
grace@example.com,Grace,Hopper,silver
zoe@example.com,Zoë,O'Brien,gold
";

const SEGMENTS: &str = "\
segments:
  - name: gold
    rule: { attribute: tier, op: equals, value: gold }
";

#[tokio::test]
async fn a_one_shot_export_authenticates_with_the_device_flow_then_reuses_its_tokens() {
    let segsync = env!("CARGO_BIN_EXE_segsync");
    let folder = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _sandbox = Running(
        Command::new(segsync)
            .args([
                "sandbox",
                "--port",
                &port.to_string(),
                "--client-id",
                "cli",
                "--client-secret",
                "cli-secret",
                "--list",
                "Newsletter",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut lists = None;
    for _ in 0..100 {
        if let Ok(response) = http.get(format!("{base}/__sandbox/lists")).send().await {
            lists = Some(response.json::<serde_json::Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let lists = lists.expect("the sandbox started");
    let list_id = lists["lists"][0]["list_id"].as_str().unwrap().to_owned();

    std::fs::write(folder.path().join("profiles.csv"), PROFILES).unwrap();
    std::fs::write(folder.path().join("segments.yaml"), SEGMENTS).unwrap();
    let config = folder.path().join("export.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles]\nlocation = \"profiles.csv\"\n\n[constant_contact]\napi_base_url = \"{base}/v3\"\nauth_base_url = \"{base}/oauth2/default/v1\"\n\
             client_id = \"cli\"\ntoken_file = \"tokens.json\"\n\n[export]\nlist_id = \"{list_id}\"\nsegments_files = [\"segments.yaml\"]\n\
             segments = [\"gold\"]\ntime_zone = \"UTC\"\n\n[export.mapping]\nemail = \"email\"\nfirst_name = \"first_name\"\n"
        ),
    )
    .unwrap();

    let mut export = Command::new(segsync)
        .args(["export", "--config", config.to_str().unwrap()])
        .env("SEGSYNC_CLIENT_SECRET", "cli-secret")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(export.stderr.take().unwrap());
    let mut user_code = None;
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(rest) = line.split("confirm the code ").nth(1) {
            user_code = Some(rest.trim().trim_end_matches(". Waiting…").to_owned());
            break;
        }
        line.clear();
    }
    let user_code = user_code.expect("the device flow shows a code");
    let approved = http
        .post(format!("{base}/__sandbox/device/approve"))
        .json(&serde_json::json!({ "user_code": user_code }))
        .send()
        .await
        .unwrap();
    assert!(approved.status().is_success());
    let finished = export.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&finished.stdout);
    assert!(finished.status.success(), "{stdout}");
    assert!(stdout.contains("succeeded"), "{stdout}");

    let members: serde_json::Value = http
        .get(format!("{base}/__sandbox/lists/{list_id}/members"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        members["members"],
        serde_json::json!(["ada@example.com", "zoe@example.com"])
    );
    let tokens = folder.path().join("tokens.json");
    assert!(tokens.exists(), "the tokens are kept for the next run");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&tokens).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let again = Command::new(segsync)
        .args(["export", "--config", config.to_str().unwrap()])
        .env("SEGSYNC_CLIENT_SECRET", "cli-secret")
        .output()
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&again.stderr).contains("confirm the code"),
        "no second device flow"
    );

    let dry = Command::new(segsync)
        .args(["export", "--config", config.to_str().unwrap(), "--dry-run"])
        .env("SEGSYNC_CLIENT_SECRET", "cli-secret")
        .output()
        .unwrap();
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let said = String::from_utf8_lossy(&dry.stdout);
    assert!(said.contains("nothing was sent"), "{said}");
    assert!(
        said.contains("Would send: 2 contacts in 1 import"),
        "{said}"
    );
    assert!(said.contains("Requests needed: 3 of"), "{said}");
}
