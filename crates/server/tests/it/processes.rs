//! `segsync serve` as a process of its own, on a test app's store and sandbox: for tests that
//! kill a server, stop it in its tracks, or run it beside the in-process one.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use base64::Engine;
use secrecy::ExposeSecret;
use segsync_server::ServerConfig;

/// The `segsync` binary, built for this test run: the workspace's tests are built again first
/// (nothing to do when `cargo test --workspace` just built them, whatever changed otherwise),
/// so a test never runs a stale binary. The same build as the tests', so that the features
/// of shared dependencies stay the same and nothing else is rebuilt.
pub(crate) fn segsync_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build_segsync).clone()
}

fn build_segsync() -> PathBuf {
    let test_binary = std::env::current_exe().unwrap();
    let profile_folder = test_binary
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .to_path_buf();
    // `cargo test`'s own profile when the tests were built in `debug`, as the README builds them.
    let profile_arguments = match profile_folder.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => Vec::new(),
        Some(profile) => vec!["--profile".to_owned(), profile.to_owned()],
    };
    // `cargo` as the developer runs it (through rustup, which reads `rust-toolchain.toml`),
    // not the `CARGO` the tests were started by: that one is the toolchain's own binary, whose
    // path gives every artifact another hash, so it would build the whole workspace again.
    let mut cargo = Command::new("cargo");
    // Nor in the environment Cargo gives a test of this package: a crate that reads
    // `CARGO_MANIFEST_DIR` when it is built (ring does) would see this package's and be built
    // again, with everything above it.
    for (variable, _) in std::env::vars_os() {
        if variable.to_str().is_some_and(set_by_cargo_for_this_test) {
            cargo.env_remove(variable);
        }
    }
    let status = cargo
        .args(["test", "--workspace", "--no-run", "--quiet"])
        .args(profile_arguments)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the segsync binary failed");
    let binary = profile_folder.join("segsync");
    assert!(binary.exists(), "{} was not built", binary.display());
    binary
}

/// Whether Cargo sets `variable` for the test binaries of this package (its manifest, its
/// package's metadata, the test's own folder), rather than the developer for every build.
fn set_by_cargo_for_this_test(variable: &str) -> bool {
    variable == "CARGO"
        || variable == "CARGO_CRATE_NAME"
        || variable == "CARGO_PRIMARY_PACKAGE"
        || variable == "CARGO_TARGET_TMPDIR"
        || variable.starts_with("CARGO_MANIFEST_")
        || variable.starts_with("CARGO_PKG_")
        || variable.starts_with("CARGO_BIN_")
}

/// A child process, killed when dropped if still alive.
pub(crate) struct Process(pub(crate) Child);

impl Process {
    /// Sends the process `signal` (`STOP`, `CONT`, …).
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal} failed");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // A stopped process must be woken to die of anything but SIGKILL; SIGKILL it is.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `segsync serve` on `config`'s store, profiles and Constant Contact, on a free port,
/// with the refresh scheduler off and `environment` added.
pub(crate) fn serve(config: &ServerConfig, environment: &[(&str, &str)]) -> Process {
    serve_on(config, environment).0
}

/// `serve`, and the base URL the process answers at once it is up.
pub(crate) fn serve_on(config: &ServerConfig, environment: &[(&str, &str)]) -> (Process, String) {
    serve_logging_to(config, environment, Stdio::null())
}

/// `serve_on`, with the process's log (its standard error) written to `log`.
pub(crate) fn serve_logging_to(
    config: &ServerConfig,
    environment: &[(&str, &str)],
    log: impl Into<Stdio>,
) -> (Process, String) {
    let port = crate::helpers::free_port();
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let cc = &config.constant_contact;
    let mut command = Command::new(segsync_binary());
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("SEGSYNC_DATABASE_URL", &config.database_url)
        .env("SEGSYNC_ENCRYPTION_KEY", key)
        .env(
            "SEGSYNC_PROFILES",
            config.profiles.as_ref().unwrap().location.as_str(),
        )
        .env("SEGSYNC_PUBLIC_URL", format!("http://127.0.0.1:{port}/"))
        .env("SEGSYNC_CONSTANT_CONTACT__CLIENT_ID", &cc.client_id)
        .env(
            "SEGSYNC_CONSTANT_CONTACT__CLIENT_SECRET",
            cc.client_secret.as_ref().unwrap().expose_secret(),
        )
        .env(
            "SEGSYNC_CONSTANT_CONTACT__API_BASE_URL",
            cc.api_base_url.as_str(),
        )
        .env(
            "SEGSYNC_CONSTANT_CONTACT__AUTH_BASE_URL",
            cc.auth_base_url.as_str(),
        )
        .env("SEGSYNC_RUNS__SCHEDULER", "false")
        .stdout(Stdio::null())
        .stderr(log);
    for (name, value) in environment {
        command.env(name, value);
    }
    (
        Process(command.spawn().unwrap()),
        format!("http://127.0.0.1:{port}"),
    )
}

/// Waits until the server at `base` answers its health check.
pub(crate) async fn until_up(base: &str) {
    for _ in 0..300 {
        if let Ok(response) = reqwest::get(format!("{base}/healthz")).await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server at {base} did not come up");
}
