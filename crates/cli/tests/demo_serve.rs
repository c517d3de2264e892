//! `segsync demo --serve` as a newcomer runs it: one command, and the console serves a
//! connected account, the demo's segments and an export that ran, to the three users it
//! printed — in headless Chromium too; Ctrl-C stops it cleanly, and the same command on the kept
//! folder starts the same demo again.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use segsync_test_browser::Browser;
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "a long enough password";

/// The demo's process, killed if the test ends before it stops.
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What the demo printed up to "Press Ctrl-C to stop.", or a failure with what it printed.
fn printed_until_ready(stdout: ChildStdout) -> String {
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = String::new();
    loop {
        match received.recv_timeout(Duration::from_secs(300)) {
            Ok(line) => {
                printed.push_str(&line);
                printed.push('\n');
                if line == "Press Ctrl-C to stop." {
                    return printed;
                }
            }
            Err(_) => panic!("the demo stopped or stalled before it was ready:\n{printed}"),
        }
    }
}

/// The value printed after `prefix` on its line.
fn after<'a>(printed: &'a str, prefix: &str) -> &'a str {
    printed
        .lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starts with {prefix:?}:\n{printed}"))
        .trim()
}

/// A signed-in user's API calls: the session cookie and the CSRF token.
struct Session {
    base: String,
    http: reqwest::Client,
    cookie: String,
    csrf_token: String,
}

impl Session {
    async fn sign_in(base: &str, username: &str, password: &str) -> Self {
        let http = reqwest::Client::new();
        let signed_in = http
            .post(format!("{base}api/v1/session"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 200, "{username} signs in");
        let cookie = signed_in.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let body: Value = signed_in.json().await.unwrap();
        Self {
            base: base.to_owned(),
            http,
            cookie,
            csrf_token: body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    /// The run once it has ended, read for up to a minute.
    async fn ended(&self, run: &str) -> Value {
        for _ in 0..240 {
            let view = self.get(&format!("api/v1/runs/{run}")).await;
            if !matches!(view["status"].as_str(), Some("queued" | "running")) {
                return view;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("the run {run} did not end within a minute");
    }

    async fn get(&self, path: &str) -> Value {
        let answer = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "GET {path}");
        answer.json().await.unwrap()
    }
}

fn items(listing: &Value) -> &Vec<Value> {
    listing
        .get("items")
        .unwrap_or(listing)
        .as_array()
        .unwrap_or_else(|| panic!("not a listing: {listing}"))
}

/// `segsync demo --serve` on a free port, with the admin's password given, ready: the process,
/// what it printed, and the console's address.
fn start_demo(kept: &std::path::Path) -> (Demo, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_segsync"))
        .args(["demo", "--serve", "--listen", "127.0.0.1:0"])
        .args(["--password-stdin", "--profiles", "3000", "--keep-in"])
        .arg(kept)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{ADMIN_PASSWORD}").unwrap();
    let stdout = child.stdout.take().unwrap();
    let demo = Demo(child);
    let printed = printed_until_ready(stdout);
    let console = after(&printed, "The console:").to_owned();
    assert!(console.starts_with("http://127.0.0.1:"), "{printed}");
    (demo, printed, console)
}

#[tokio::test]
async fn one_command_serves_a_connected_account_segments_and_an_export_that_ran() {
    let folder = tempfile::tempdir().unwrap();
    let kept = folder.path().join("demo");
    let (mut demo, printed, console) = start_demo(&kept);
    assert!(
        !printed.contains(ADMIN_PASSWORD),
        "a password given is never shown"
    );
    let contributor_password = after(&printed, "Sign in as contributor  password")
        .trim_end_matches(" (shown once)")
        .to_owned();
    assert!(printed.contains("Sign in as viewer"), "{printed}");

    let admin = Session::sign_in(&console, "admin", ADMIN_PASSWORD).await;
    let me = admin.get("api/v1/me").await;
    assert_eq!(me["role"], "admin", "{me}");
    let connections = admin.get("api/v1/connections").await;
    let connection = &items(&connections)[0];
    assert_eq!(connection["health"], "healthy", "{connection}");
    assert_eq!(connection["usable_by"], "admins_and_contributors");
    let segments = admin.get("api/v1/segments").await;
    let mut names: Vec<&str> = items(&segments)
        .iter()
        .map(|segment| segment["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["engaged-europe", "gold-us-recent", "repeat-outdoor-buyers"]
    );

    let exports = admin.get("api/v1/exports").await;
    let export = &items(&exports)[0];
    let export_id = export["id"].as_str().unwrap();
    assert!(
        printed.contains(&format!("{console}exports/{export_id}")),
        "{printed}"
    );
    let runs = admin.get(&format!("api/v1/exports/{export_id}/runs")).await;
    let run = &items(&runs)[0];
    assert_eq!(run["status"], "succeeded", "{run}");
    let sent = run["report"]["sent"].as_u64().unwrap();
    assert!(sent > 0, "the first run sent the members: {run}");
    assert!(
        printed.contains(") succeeded in "),
        "the report is printed: {printed}"
    );

    let contributor = Session::sign_in(&console, "contributor", &contributor_password).await;
    let seen = contributor
        .get(&format!("api/v1/exports/{export_id}"))
        .await;
    assert_eq!(
        seen["name"], export["name"],
        "the contributor works on the export"
    );

    let stop = Command::new("kill")
        .args(["-s", "TERM", &demo.0.id().to_string()])
        .status()
        .unwrap();
    assert!(stop.success());
    let ended = demo.0.wait().unwrap();
    assert!(ended.success(), "Ctrl-C stops the demo cleanly: {ended}");
    assert!(
        kept.join("segsync.db").exists(),
        "--keep-in keeps the store"
    );

    // The same command on the kept folder starts the same demo again: the same sign-in, the
    // connection still authorised, and the list in the sandbox still holds what was sent.
    let (_again, printed, console) = start_demo(&kept);
    assert!(printed.contains("Starting again from"), "{printed}");
    assert!(
        printed.contains(&format!("exports/{export_id}")),
        "{printed}"
    );
    let admin = Session::sign_in(&console, "admin", ADMIN_PASSWORD).await;
    let connections = admin.get("api/v1/connections").await;
    assert_eq!(items(&connections)[0]["health"], "healthy");
    let verify = admin
        .http
        .post(format!("{console}api/v1/exports/{export_id}/verify"))
        .header("cookie", &admin.cookie)
        .header("x-csrf-token", &admin.csrf_token)
        .send()
        .await
        .unwrap();
    assert_eq!(verify.status(), 202, "{}", verify.text().await.unwrap());
    let run_id = verify.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let verified = admin.ended(&run_id).await;
    assert_eq!(verified["status"], "succeeded", "{verified}");
    let verification = &verified["report"]["verification"];
    assert_eq!(
        verification["matched"].as_u64(),
        Some(sent),
        "{verification}"
    );
    assert_eq!(verification["missing"], 0, "{verification}");
}

#[tokio::test]
async fn in_the_browser_the_admin_opens_the_export_runs_it_and_sees_the_report() {
    let folder = tempfile::tempdir().unwrap();
    let (_demo, printed, console) = start_demo(&folder.path().join("demo"));
    let export_path = after(&printed, "The export:")
        .strip_prefix(console.trim_end_matches('/'))
        .unwrap()
        .to_owned();

    let browser = Browser::open(console.trim_end_matches('/')).await;
    browser.sign_in("admin", ADMIN_PASSWORD).await;
    let next = browser.text("#next-steps").await;
    assert!(next.contains("last ran and succeeded"), "{next}");
    browser
        .follow(&format!("#next-steps a[href='{export_path}']"))
        .await;
    assert_eq!(browser.path().await, export_path);
    browser.follow("#run").await;
    assert!(browser.path().await.starts_with("/runs/"));
    browser
        .wait_for_text("#run-status", |status| status == "succeeded")
        .await;
    assert_eq!(
        browser.text("dd[data-figure='Profiles read']").await,
        "3000"
    );
    let sent = browser.text("dd[data-figure='Sent']").await;
    assert!(
        sent.starts_with("0 "),
        "nothing changed since the demo's first run, so nothing is sent again: {sent}"
    );
    browser.check_page("demo-run").await;
}
