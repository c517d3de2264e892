//! `segsync export --config FILE` against `segsync sandbox`, both as separate processes, with
//! the device flow on first use and the stored tokens on the next.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
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

/// `segsync sandbox` on a free port, with one list.
struct Sandbox {
    _process: Running,
    base: String,
    list_id: String,
    http: reqwest::Client,
}

impl Sandbox {
    async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Running(
            Command::new(env!("CARGO_BIN_EXE_segsync"))
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
        Self {
            _process: process,
            base,
            list_id,
            http,
        }
    }

    /// Writes the profiles, the segments and an export's configuration with `extra` lines in
    /// its `[export]` section; returns the configuration's path.
    fn configure(&self, folder: &Path, extra: &str) -> PathBuf {
        let (base, list_id) = (&self.base, &self.list_id);
        std::fs::write(folder.join("profiles.csv"), PROFILES).unwrap();
        std::fs::write(folder.join("segments.yaml"), SEGMENTS).unwrap();
        let config = folder.join("export.toml");
        std::fs::write(
            &config,
            format!(
                "[profiles]\nlocation = \"profiles.csv\"\n\n[constant_contact]\napi_base_url = \"{base}/v3\"\nauth_base_url = \"{base}/oauth2/default/v1\"\n\
                 client_id = \"cli\"\ntoken_file = \"tokens.json\"\n\n[export]\nlist_id = \"{list_id}\"\nsegments_files = [\"segments.yaml\"]\n\
                 segments = [\"gold\"]\ntime_zone = \"UTC\"\n{extra}\n[export.mapping]\nemail = \"email\"\nfirst_name = \"first_name\"\n"
            ),
        )
        .unwrap();
        config
    }

    /// The first export of a configuration: it runs the device flow, which this approves.
    async fn first_export(&self, config: &Path) -> String {
        let mut export = Command::new(env!("CARGO_BIN_EXE_segsync"))
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
        let approved = self
            .http
            .post(format!("{}/__sandbox/device/approve", self.base))
            .json(&serde_json::json!({ "user_code": user_code }))
            .send()
            .await
            .unwrap();
        assert!(approved.status().is_success());
        let finished = export.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&finished.stdout).into_owned();
        assert!(finished.status.success(), "{stdout}");
        stdout
    }

    async fn list_members(&self) -> serde_json::Value {
        let members: serde_json::Value = self
            .http
            .get(format!(
                "{}/__sandbox/lists/{}/members",
                self.base, self.list_id
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        members["members"].clone()
    }
}

/// A later export of a configuration, with the stored tokens; returns what it printed.
fn export(config: &Path, flags: &[&str]) -> String {
    export_saying(config, flags).0
}

/// A later export of a configuration, with the stored tokens; returns what it printed on
/// stdout and on stderr.
fn export_saying(config: &Path, flags: &[&str]) -> (String, String) {
    let (succeeded, stdout, stderr) = export_ending(config, flags);
    assert!(succeeded, "{stdout}\n{stderr}");
    (stdout, stderr)
}

/// A later export of a configuration, with the stored tokens: whether it succeeded, and what it
/// printed on stdout and on stderr.
fn export_ending(config: &Path, flags: &[&str]) -> (bool, String, String) {
    let finished = Command::new(env!("CARGO_BIN_EXE_segsync"))
        .args(["export", "--config", config.to_str().unwrap()])
        .args(flags)
        .env("SEGSYNC_CLIENT_SECRET", "cli-secret")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&finished.stdout),
        String::from_utf8_lossy(&finished.stderr),
    );
    assert!(
        !stderr.contains("confirm the code"),
        "no second device flow"
    );
    (
        finished.status.success(),
        stdout.into_owned(),
        stderr.into_owned(),
    )
}

#[tokio::test]
async fn a_one_shot_export_authenticates_with_the_device_flow_then_reuses_its_tokens() {
    let sandbox = Sandbox::start().await;
    let folder = tempfile::tempdir().unwrap();
    let config = sandbox.configure(folder.path(), "");

    let stdout = sandbox.first_export(&config).await;
    assert!(stdout.contains("succeeded"), "{stdout}");
    assert_eq!(
        sandbox.list_members().await,
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

    let again = export(&config, &[]);
    assert!(
        again.contains("sent                                2   (2 new, 0 changed)"),
        "without a state file every run sends everyone: {again}"
    );

    let said = export(&config, &["--dry-run"]);
    assert!(said.contains("nothing was sent"), "{said}");
    assert!(
        said.contains("Would send: 2 contacts in 1 import"),
        "{said}"
    );
    assert!(said.contains("Requests needed: 3 of"), "{said}");
}

#[tokio::test]
async fn with_a_state_file_later_runs_send_only_changes_and_mirror_removes_leavers() {
    let sandbox = Sandbox::start().await;
    let folder = tempfile::tempdir().unwrap();
    let config = sandbox.configure(
        folder.path(),
        "state_file = \"state.db\"\nsync_mode = \"mirror\"\n",
    );
    let first = sandbox.first_export(&config).await;
    assert!(first.contains("(2 new, 0 changed)"), "{first}");
    assert!(folder.path().join("state.db").exists());

    let unchanged = export(&config, &[]);
    assert!(
        unchanged.contains("unchanged (not sent)                2"),
        "{unchanged}"
    );
    assert!(
        unchanged.contains("Constant Contact: 0 imports"),
        "{unchanged}"
    );

    // Zoë leaves the segment, Grace joins it, Ada is renamed.
    std::fs::write(
        folder.path().join("profiles.csv"),
        PROFILES
            .replace("ada@example.com,Ada,", "ada@example.com,Augusta Ada,")
            .replace("Hopper,silver", "Hopper,gold")
            .replace("O'Brien,gold", "O'Brien,silver"),
    )
    .unwrap();
    let planned = export(&config, &["--dry-run"]);
    assert!(
        planned.contains("Would send: 2 contacts in 1 import (1 new, 1 changed; 0 unchanged"),
        "{planned}"
    );
    assert!(
        planned.contains("Would remove from the list: 1"),
        "{planned}"
    );
    // One of the list's two members leaving is more than the 20 % a run removes unconfirmed.
    assert!(
        planned.contains("A run would send nothing and wait for confirmation"),
        "{planned}"
    );
    let (succeeded, _, stopped) = export_ending(&config, &[]);
    assert!(!succeeded);
    assert!(
        stopped.contains("the export sent nothing and waits for confirmation")
            && stopped.contains("1 of the list's 2 members would be removed (more than 20 %)")
            && stopped.contains("--confirm-removals"),
        "{stopped}"
    );
    assert_eq!(
        sandbox.list_members().await,
        serde_json::json!(["ada@example.com", "zoe@example.com"]),
        "nothing was sent or removed"
    );
    let changed = export(&config, &["--confirm-removals"]);
    assert!(changed.contains("(1 new, 1 changed)"), "{changed}");
    assert!(
        changed.contains("left the segments: 1 removed from the list"),
        "{changed}"
    );
    assert_eq!(
        sandbox.list_members().await,
        serde_json::json!(["ada@example.com", "grace@example.com"])
    );

    let resync = export(&config, &["--full-resync"]);
    assert!(resync.contains("full resync"), "{resync}");
    assert!(resync.contains("(0 new, 2 changed)"), "{resync}");
}

#[tokio::test]
async fn the_list_read_back_finds_a_deleted_member_and_the_next_run_adds_it_back() {
    let sandbox = Sandbox::start().await;
    let folder = tempfile::tempdir().unwrap();
    let config = sandbox.configure(folder.path(), "state_file = \"state.db\"\n");
    let first = sandbox.first_export(&config).await;
    assert!(first.contains("(2 new, 0 changed)"), "{first}");

    // The account's owner deletes Ada in Constant Contact.
    let deleted = sandbox
        .http
        .post(format!("{}/__sandbox/contacts/delete", sandbox.base))
        .json(&serde_json::json!({ "emails": ["ada@example.com"] }))
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success());
    let blind = export(&config, &[]);
    assert!(blind.contains("Constant Contact: 0 imports"), "{blind}");

    let read = export(&config, &["--verify-only"]);
    assert!(
        read.contains("the list read back: 1 members, 2 meant, 1 missing, 0 extra; missing, deleted: 1 (e.g. ada@example.com)"),
        "{read}"
    );
    assert_eq!(
        sandbox.list_members().await,
        serde_json::json!(["zoe@example.com"]),
        "reading the list back sends nothing"
    );

    let next = export(&config, &["--verify"]);
    assert!(next.contains("(1 new, 0 changed)"), "{next}");
    assert!(
        next.contains("the list read back: 2 members, 2 meant, 0 missing, 0 extra"),
        "{next}"
    );
    assert_eq!(
        sandbox.list_members().await,
        serde_json::json!(["ada@example.com", "zoe@example.com"])
    );

    let stateless = folder.path().join("stateless");
    std::fs::create_dir(&stateless).unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_segsync"))
        .args([
            "export",
            "--config",
            sandbox.configure(&stateless, "").to_str().unwrap(),
            "--verify-only",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--verify-only needs export.state_file"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[test]
fn mirror_mode_without_a_state_file_is_refused_before_anything_is_sent() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("segments.yaml"), SEGMENTS).unwrap();
    let config = folder.path().join("export.toml");
    std::fs::write(
        &config,
        "[profiles]\nlocation = \"profiles.csv\"\n\n[constant_contact]\napi_base_url = \"http://127.0.0.1:9/v3\"\n\
         auth_base_url = \"http://127.0.0.1:9/oauth2/default/v1\"\nclient_id = \"cli\"\ntoken_file = \"tokens.json\"\n\n\
         [export]\nlist_id = \"06526938-56dd-11e9-932a-fa163ea075fa\"\nsegments_files = [\"segments.yaml\"]\nsegments = [\"gold\"]\n\
         sync_mode = \"mirror\"\n\n[export.mapping]\nemail = \"email\"\n",
    )
    .unwrap();
    let finished = Command::new(env!("CARGO_BIN_EXE_segsync"))
        .args(["export", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&finished.stderr);
    assert!(!finished.status.success());
    assert!(
        stderr.contains("export.sync_mode = \"mirror\" needs export.state_file"),
        "{stderr}"
    );
}

/// The command line carries out its runs on the run engine's one path, with the state file as
/// its store: a run its killed process left running is taken up by the next `segsync export`
/// where it stopped, and ends recorded with its report, as a server's run would.
#[tokio::test]
async fn a_run_a_killed_export_left_is_taken_up_by_the_next_one() {
    let sandbox = Sandbox::start().await;
    let folder = tempfile::tempdir().unwrap();
    let config = sandbox.configure(folder.path(), "state_file = \"state.db\"\n");
    sandbox.first_export(&config).await;

    // A process claimed a run and died before it ended.
    let state = folder.path().join("state.db");
    let store = segsync_store::Store::open(&format!("sqlite://{}", state.display()))
        .await
        .unwrap();
    let export_id = store.exports().await.unwrap()[0].id;
    let left = store
        .queue_run_with(export_id, segsync_store::Trigger::Manual, None, None, true)
        .await
        .unwrap();
    let claimed = store.claim_next_run("a killed export").await.unwrap();
    assert_eq!(claimed.map(|run| run.id), Some(left.id));
    store.close().await;

    let (stdout, stderr) = export_saying(&config, &[]);
    assert!(
        stderr.contains(&format!("Taking up run {}", left.id)),
        "{stderr}"
    );
    // The run it took up was a full resync: everyone is sent again.
    assert!(stdout.contains("(0 new, 2 changed)"), "{stdout}");

    let store = segsync_store::Store::open(&format!("sqlite://{}", state.display()))
        .await
        .unwrap();
    let run = store.run(left.id).await.unwrap();
    assert_eq!(run.status, segsync_store::RunStatus::Succeeded);
    assert_eq!(run.resumed, 1);
    assert_eq!(run.report.map(|report| report.sent), Some(2));
    let runs = store
        .runs(&segsync_store::RunFilter::default(), 10, 0)
        .await
        .unwrap();
    assert_eq!(
        runs.len(),
        2,
        "the first run and the one taken up: {runs:?}"
    );
    store.close().await;
    assert_eq!(
        sandbox.list_members().await,
        serde_json::json!(["ada@example.com", "zoe@example.com"])
    );
}
