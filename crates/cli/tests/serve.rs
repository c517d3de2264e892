//! `segsync users add` and `segsync serve` as an operator runs them: the first admin is made
//! on the command line, the server starts from the environment, and the admin signs in.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_first_admin_is_added_on_the_command_line_and_signs_in() {
    let folder = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", folder.path().join("segsync.db").display());
    let segsync = env!("CARGO_BIN_EXE_segsync");

    let mut add = Command::new(segsync)
        .args([
            "users",
            "add",
            "ada",
            "--role",
            "admin",
            "--password-stdin",
            "--database-url",
            &database_url,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(add.stdin.take().unwrap(), "a long enough password").unwrap();
    let added = add.wait_with_output().unwrap();
    assert!(added.status.success());
    assert!(String::from_utf8_lossy(&added.stdout).contains("Added ada as admin"));

    let generated = Command::new(segsync)
        .args([
            "users",
            "add",
            "vic",
            "--role",
            "viewer",
            "--database-url",
            &database_url,
        ])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&generated.stdout);
    assert!(shown.contains("Password (shown once): "), "{shown}");

    let without_key = Command::new(segsync)
        .args(["serve", "--database-url", &database_url])
        .env_remove("SEGSYNC_ENCRYPTION_KEY")
        .output()
        .unwrap();
    assert!(
        !without_key.status.success(),
        "no encryption key, no server"
    );
    assert!(String::from_utf8_lossy(&without_key.stderr).contains("encryption_key"));

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Server(
        Command::new(segsync)
            .args([
                "serve",
                "--database-url",
                &database_url,
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env(
                "SEGSYNC_ENCRYPTION_KEY",
                "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
            )
            .current_dir(folder.path())
            .spawn()
            .unwrap(),
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..100 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the server became ready");
    let signed_in = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({ "username": "ada", "password": "a long enough password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = signed_in.json().await.unwrap();
    assert_eq!(body["user"]["role"], "admin");
}

/// Runs `segsync users …` on `database_url` with `stdin` as its input; its success and output.
fn users(database_url: &str, args: &[&str], stdin: &str) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_segsync"))
        .arg("users")
        .args(args)
        .args(["--database-url", database_url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    write!(command.stdin.take().unwrap(), "{stdin}").unwrap();
    let done = command.wait_with_output().unwrap();
    (
        done.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&done.stdout),
            String::from_utf8_lossy(&done.stderr)
        ),
    )
}

#[tokio::test]
async fn users_are_disabled_enabled_unlocked_given_roles_and_passwords_on_the_command_line() {
    let folder = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", folder.path().join("segsync.db").display());
    let password = "a long enough password\n";
    for (name, role) in [("ada", "admin"), ("vic", "viewer")] {
        let (added, said) = users(
            &database_url,
            &["add", name, "--role", role, "--password-stdin"],
            password,
        );
        assert!(added, "{said}");
    }
    let listed = || users(&database_url, &["list"], "").1;

    let (done, said) = users(&database_url, &["disable", "vic"], "");
    assert!(done && said.contains("vic is disabled"), "{said}");
    assert!(listed().contains("(disabled)"));
    let (done, said) = users(&database_url, &["enable", "vic"], "");
    assert!(done && said.contains("vic is enabled"), "{said}");
    assert!(!listed().contains("(disabled)"));

    let (done, said) = users(&database_url, &["role", "vic", "--role", "contributor"], "");
    assert!(done && said.contains("vic is now contributor"), "{said}");
    let (refused, said) = users(&database_url, &["role", "ada", "--role", "viewer"], "");
    assert!(
        !refused && said.contains("no enabled admin"),
        "the last admin stays: {said}"
    );

    let (done, said) = users(
        &database_url,
        &["password", "vic", "--password-stdin"],
        "another long password\n",
    );
    assert!(done && said.contains("password is set"), "{said}");
    let (done, said) = users(&database_url, &["password", "vic"], "");
    assert!(done && said.contains("Password (shown once): "), "{said}");
    let store = segsync_store::Store::open(&database_url).await.unwrap();
    let now = chrono::Utc::now();
    store
        .take_attempt(
            segsync_store::AttemptsAt::SignIn { username: "vic" },
            0,
            now,
            now + chrono::Duration::minutes(15),
        )
        .await
        .unwrap();
    assert!(
        store
            .login_throttle("vic")
            .await
            .unwrap()
            .locked_until
            .is_some()
    );
    let (done, said) = users(&database_url, &["unlock", "vic"], "");
    assert!(done && said.contains("vic may sign in again"), "{said}");
    assert_eq!(
        store.login_throttle("vic").await.unwrap(),
        segsync_store::LoginThrottle {
            failures: 0,
            locked_until: None
        }
    );

    let (refused, said) = users(&database_url, &["disable", "nobody"], "");
    assert!(
        !refused && said.contains("there is no user \"nobody\""),
        "{said}"
    );

    let audited: Vec<String> = store
        .audit_log(&segsync_store::AuditFilter::default(), None, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|entry| entry.object_name == "vic")
        .map(|entry| entry.action)
        .collect();
    for action in [
        "disabled",
        "enabled",
        "role_changed",
        "password_changed",
        "unlocked",
    ] {
        assert!(
            audited.iter().any(|done| done == action),
            "{action}: {audited:?}"
        );
    }
}

/// Runs `segsync privacy …` on `database_url` with the encryption key; its success and output.
fn privacy(folder: &std::path::Path, database_url: &str, args: &[&str]) -> (bool, String) {
    let done = Command::new(env!("CARGO_BIN_EXE_segsync"))
        .arg("privacy")
        .args(args)
        .args(["--database-url", database_url])
        .env(
            "SEGSYNC_ENCRYPTION_KEY",
            "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
        )
        .current_dir(folder)
        .output()
        .unwrap();
    (
        done.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&done.stdout),
            String::from_utf8_lossy(&done.stderr)
        ),
    )
}

#[test]
fn people_are_erased_and_looked_up_on_the_command_line() {
    let folder = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", folder.path().join("segsync.db").display());
    let list = folder.path().join("erase.csv");
    std::fs::write(&list, "id,email\n1,zoe@example.com\n2,nobody\n").unwrap();

    let (erased, output) = privacy(
        folder.path(),
        &database_url,
        &["erase", "Ada@Example.com", "--file", list.to_str().unwrap()],
    );
    assert!(erased, "{output}");
    assert!(output.contains("\"nobody\" is not an address"), "{output}");
    assert!(
        output.contains("2 people; their tombstones are in force"),
        "{output}"
    );
    assert!(output.contains("\"state\": \"done\""), "{output}");
    assert!(
        !output.contains("zoe@example.com"),
        "the receipt names no address: {output}"
    );

    let (looked_up, output) = privacy(folder.path(), &database_url, &["lookup", "ada@example.com"]);
    assert!(looked_up, "{output}");
    let access: serde_json::Value = serde_json::from_str(&output).unwrap();
    assert_eq!(access["email"], "ada@example.com");
    assert!(access["erased_at"].is_string(), "{access}");
    assert_eq!(access["sent_by"], serde_json::json!([]));

    let (refused, output) = privacy(folder.path(), &database_url, &["lookup", "not-an-email"]);
    assert!(!refused);
    assert!(output.contains("email:"), "{output}");
}

/// Runs `segsync trigger` against `server` with `token`; its success and output.
fn trigger(server: &str, token: &str, args: &[&str]) -> (bool, String) {
    let done = Command::new(env!("CARGO_BIN_EXE_segsync"))
        .args(["trigger", "--server", server])
        .args(args)
        .env("SEGSYNC_TOKEN", token)
        .output()
        .unwrap();
    (
        done.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&done.stdout),
            String::from_utf8_lossy(&done.stderr)
        ),
    )
}

#[tokio::test]
async fn a_pipeline_says_a_source_changed_with_segsync_trigger() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let folder = tempfile::tempdir().unwrap();
    let config = segsync_server::ServerConfig {
        database_url: format!("sqlite://{}", folder.path().join("segsync.db").display()),
        encryption_key: Some("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=".into()),
        ..segsync_server::ServerConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = segsync_server::spawn(config, listener).await.unwrap();
    let store = &server.state.store;
    let mut tokens = Vec::new();
    for (role, scope) in [
        (
            segsync_store::Role::Contributor,
            segsync_domain::TokenScope::Trigger,
        ),
        (
            segsync_store::Role::Viewer,
            segsync_domain::TokenScope::Trigger,
        ),
    ] {
        let user = store
            .create_user(&segsync_store::NewUser {
                username: format!("pipeline-{role}"),
                display_name: "Pipeline".into(),
                role,
                password_hash: "unused".into(),
            })
            .await
            .unwrap();
        let token = segsync_app::secrets::new_token("sgs_");
        store
            .create_scoped_api_token(
                user.id,
                "pipeline",
                &segsync_app::secrets::hash_token(&token),
                None,
                scope,
            )
            .await
            .unwrap();
        tokens.push(token);
    }
    let server_url = base.clone();
    let contributor = tokens[0].clone();
    let viewer = tokens[1].clone();
    let ((said, output), (refused, why), (unknown, unknown_why)) =
        tokio::task::spawn_blocking(move || {
            (
                trigger(
                    &server_url,
                    &contributor,
                    &["--source", "profiles", "--wait"],
                ),
                trigger(&server_url, &viewer, &[]),
                trigger(&server_url, &contributor, &["--source", "shipments"]),
            )
        })
        .await
        .unwrap();
    assert!(said, "{output}");
    assert!(output.contains("no run started"), "{output}");
    assert!(!refused, "{why}");
    assert!(why.contains("403"), "{why}");
    assert!(!unknown, "{unknown_why}");
    assert!(
        unknown_why.contains("no source is named \"shipments\""),
        "{unknown_why}"
    );
}
