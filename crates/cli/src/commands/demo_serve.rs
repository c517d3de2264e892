//! `segsync demo --serve`: the console in one command. Generates the demo's profiles and
//! orders, starts the Constant Contact sandbox in this process with the server's callback
//! registered, starts the server on SQLite in the demo's folder with a generated encryption key,
//! and sets up what an admin would, through the same API and OAuth flow a person uses: three
//! users, a connection to the sandbox that is authorised, the three demo segments and an export
//! on a daily schedule, run once. Then it says where the console is and how to sign in, and
//! serves until Ctrl-C. The sandbox's account is saved beside the store, so that the same
//! command on a kept folder starts the same demo again.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use cc_sandbox::SandboxConfig;
use rand::RngCore;
use reqwest::{Method, StatusCode, header};
use secrecy::SecretString;
use segsync_domain::RunStatus;
use segsync_domain::run_report::RunReport;
use segsync_engine::{ProfileSource, RelatedTable};
use segsync_server::ServerConfig;
use segsync_server::auth::{CSRF_HEADER, hash_password};
use segsync_store::{NewUser, Role, Store};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use url::Url;

use super::demo::{ORDERS_FILE, PROFILES_FILE, demo_mapping, generate_data, segments_file};
use super::serve::shutdown_signal;
use super::users::read_or_generate_password;
use crate::cli::DemoArgs;

/// The demo's application in the sandbox, as an admin registers one in Constant Contact's
/// developer portal.
const CLIENT_ID: &str = "segsync-demo-console";
const CLIENT_SECRET: &str = "segsync-demo-console-secret";
/// The list the export fills: new in the sandbox's account.
const LIST_NAME: &str = "segsync demo";
/// The server's store, in the demo's folder.
const DATABASE: &str = "segsync.db";
/// The longest the first run may take before the demo gives up on it.
const FIRST_RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// A user the demo created and how they sign in; no password when it came from standard input.
struct SignIn {
    username: &'static str,
    password: String,
    shown: bool,
}

pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let temporary = tempfile::tempdir()?;
    let folder: PathBuf = match &args.keep_in {
        Some(folder) => {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("creating {}", folder.display()))?;
            folder.clone()
        }
        None => temporary.path().to_path_buf(),
    };
    let kept = DemoFiles::in_folder(&folder);
    let again = kept.database.exists();
    let admin_password = if again {
        None
    } else {
        Some(read_or_generate_password(args.password_stdin)?)
    };
    let mut out = std::io::stdout();

    if again {
        kept.check_all_there()?;
        writeln!(
            out,
            "1. Starting again from {}: its profiles, orders, store and sandbox account",
            folder.display()
        )?;
    } else {
        generate_data(&folder, &args)?;
        write_secret_file(&kept.encryption_key, &new_encryption_key())?;
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = listener.local_addr()?;
    let public_url = Url::parse(&format!("http://{address}/"))?;
    let sandbox = cc_sandbox::spawn(
        sandbox_config(&public_url),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await?;
    if again {
        sandbox.state().load_account(&kept.sandbox_account)?;
    }
    writeln!(
        out,
        "2. Started the Constant Contact sandbox at {} with the console's callback registered",
        sandbox.base_url()
    )?;
    let config = server_config(&kept, address, &public_url, &sandbox.base_url())?;
    let server = segsync_server::spawn(config, listener).await?;
    writeln!(
        out,
        "3. Started the server at {public_url} on SQLite ({})",
        kept.database.display()
    )?;

    let users = match admin_password {
        Some((password, generated)) => {
            let set_up = set_up(&server.state.store, &public_url, password, generated).await;
            match set_up {
                Ok(users) => users,
                Err(error) => {
                    server.stop().await;
                    return Err(error.context("setting up the demo"));
                }
            }
        }
        None => Vec::new(),
    };
    sandbox.state().save_account(&kept.sandbox_account)?;

    writeln!(out, "The console: {public_url}")?;
    if let Some(export) = server.state.store.exports().await?.first() {
        writeln!(out, "The export:  {public_url}exports/{}", export.id)?;
    }
    for user in &users {
        if user.shown {
            writeln!(
                out,
                "Sign in as {:<12} password {} (shown once)",
                user.username, user.password
            )?;
        } else {
            writeln!(
                out,
                "Sign in as {:<12} with the password you gave",
                user.username
            )?;
        }
    }
    if again {
        writeln!(
            out,
            "Sign in as admin, contributor or viewer with the passwords of the demo's first start."
        )?;
    }
    match &args.keep_in {
        Some(folder) => writeln!(
            out,
            "The demo's files are kept in {}; the same command starts it again from them.",
            folder.display()
        )?,
        None => writeln!(out, "The demo's files go when it stops.")?,
    }
    writeln!(out, "Press Ctrl-C to stop.")?;
    out.flush()?;
    shutdown_signal().await;
    server.stop().await;
    sandbox.state().save_account(&kept.sandbox_account)?;
    Ok(())
}

/// The files of a demo in its folder.
struct DemoFiles {
    profiles: PathBuf,
    orders: PathBuf,
    database: PathBuf,
    /// The key that seals the connection's tokens in the store, in base64, readable by its
    /// owner only.
    encryption_key: PathBuf,
    /// The sandbox's account — lists, contacts, custom fields and tokens — as it was when the
    /// demo stopped.
    sandbox_account: PathBuf,
}

impl DemoFiles {
    fn in_folder(folder: &Path) -> Self {
        Self {
            profiles: folder.join(PROFILES_FILE),
            orders: folder.join(ORDERS_FILE),
            database: folder.join(DATABASE),
            encryption_key: folder.join("encryption.key"),
            sandbox_account: folder.join("sandbox-account.json"),
        }
    }

    /// A demo starts again only from a folder that has every file of one.
    fn check_all_there(&self) -> anyhow::Result<()> {
        for file in [
            &self.profiles,
            &self.orders,
            &self.encryption_key,
            &self.sandbox_account,
        ] {
            if !file.exists() {
                bail!(
                    "{} holds a demo's store but not {}: it cannot start again from there; give \
                     --keep-in a new folder",
                    self.database.parent().unwrap_or(Path::new(".")).display(),
                    file.display()
                );
            }
        }
        Ok(())
    }
}

/// 32 random bytes in base64: an encryption key as `segsync serve` takes one.
fn new_encryption_key() -> String {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// Writes a secret to a file only its owner may read.
fn write_secret_file(path: &Path, secret: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    Ok(())
}

/// What an admin does on a new installation, through the API: the users, the connection, the
/// segments and the export, run once. The users and how they sign in.
async fn set_up(
    store: &Store,
    public_url: &Url,
    admin_password: String,
    generated: bool,
) -> anyhow::Result<Vec<SignIn>> {
    let mut out = std::io::stdout();
    let users = add_users(store, admin_password, generated).await?;
    let api = Api::sign_in(public_url, &users[0]).await?;
    let connection = api.connect().await?;
    writeln!(
        out,
        "4. Connected to the sandbox through OAuth (consent, state and PKCE); you are its export user"
    )?;
    let segments = api.import_segments().await?;
    writeln!(out, "5. Saved the three demo segments")?;
    let export = api.create_export(&connection, &segments).await?;
    writeln!(
        out,
        "6. Saved the export \"Demo customers\" into the list {LIST_NAME:?}, daily at 06:00 UTC; running it once…"
    )?;
    let report = api.run_and_wait(&export).await?;
    writeln!(out, "\n{report}\n")?;
    Ok(users)
}

/// The sandbox as the demo's Constant Contact account: the demo's application with the
/// server's callback, a new list to fill, and the custom field the export maps. It approves
/// the authorisation the demo asks for, as the account's owner would.
fn sandbox_config(public_url: &Url) -> SandboxConfig {
    let callback = format!("{public_url}oauth/callback");
    SandboxConfig {
        auto_approve: true,
        seed_lists: vec![LIST_NAME.to_owned()],
        seed_custom_fields: vec!["tier".to_owned()],
        ..SandboxConfig::default()
    }
    .with_client(CLIENT_ID, Some(CLIENT_SECRET), &[callback.as_str()])
}

/// The server on the demo's folder: its store, the profiles and orders, the demo's
/// encryption key, and the sandbox as Constant Contact.
fn server_config(
    files: &DemoFiles,
    listen: SocketAddr,
    public_url: &Url,
    sandbox: &str,
) -> anyhow::Result<ServerConfig> {
    let endpoints = constant_contact::Endpoints::under(&Url::parse(sandbox)?);
    let key = std::fs::read_to_string(&files.encryption_key)
        .with_context(|| format!("reading {}", files.encryption_key.display()))?;
    let mut config = ServerConfig {
        listen,
        public_url: public_url.clone(),
        database_url: format!("sqlite://{}", files.database.display()),
        profiles: Some(ProfileSource::new(files.profiles.to_string_lossy())),
        related: BTreeMap::from([(
            "orders".to_owned(),
            RelatedTable {
                name: "orders".to_owned(),
                source: ProfileSource::new(files.orders.to_string_lossy()),
                key: "customer_id".to_owned(),
                profile_key: "profile_id".to_owned(),
                dated_by: Some("ordered_at".to_owned()),
            },
        )]),
        encryption_key: Some(SecretString::from(key.trim().to_owned())),
        ..ServerConfig::default()
    };
    config.constant_contact.client_id = CLIENT_ID.to_owned();
    config.constant_contact.client_secret = Some(SecretString::from(CLIENT_SECRET));
    config.constant_contact.api_base_url = endpoints.api_base_url;
    config.constant_contact.auth_base_url = endpoints.auth_base_url;
    Ok(config)
}

/// An admin (with the given password), a contributor and a viewer (with generated ones), as
/// `segsync users add` adds them.
async fn add_users(
    store: &Store,
    admin_password: String,
    generated: bool,
) -> anyhow::Result<Vec<SignIn>> {
    let users = [
        (
            "admin",
            Role::Admin,
            Some((admin_password, generated)),
            "The admin",
        ),
        ("contributor", Role::Contributor, None, "A contributor"),
        ("viewer", Role::Viewer, None, "A viewer"),
    ];
    let mut added = Vec::new();
    for (username, role, password, display_name) in users {
        let (password, shown) = match password {
            Some(given) => given,
            None => read_or_generate_password(false)?,
        };
        let password_hash = hash_password(&password)
            .map_err(|problem| anyhow::anyhow!("{username}'s password: {problem}"))?;
        store
            .create_user(&NewUser {
                username: username.to_owned(),
                display_name: display_name.to_owned(),
                role,
                password_hash,
            })
            .await?;
        added.push(SignIn {
            username,
            password,
            shown,
        });
    }
    Ok(added)
}

/// The REST API as the signed-in admin's browser uses it: the session cookie, and the CSRF
/// token with every change.
struct Api {
    base: Url,
    http: reqwest::Client,
    cookie: String,
    csrf_token: String,
}

impl Api {
    async fn sign_in(base: &Url, user: &SignIn) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let response = http
            .post(base.join("api/v1/session")?)
            .json(&json!({ "username": user.username, "password": user.password }))
            .send()
            .await?;
        let cookie = response
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(str::to_owned);
        let body = answer(response, "signing in", StatusCode::OK).await?;
        Ok(Self {
            base: base.clone(),
            http,
            cookie: cookie.context("signing in: no session cookie")?,
            csrf_token: text(&body, "csrf_token")?,
        })
    }

    fn request(&self, method: Method, path: &str) -> anyhow::Result<reqwest::RequestBuilder> {
        Ok(self
            .http
            .request(method, self.base.join(path)?)
            .header(header::COOKIE, &self.cookie)
            .header(CSRF_HEADER, &self.csrf_token))
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        expected: StatusCode,
    ) -> anyhow::Result<Value> {
        let mut request = self.request(method.clone(), path)?;
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await?, &format!("{method} {path}"), expected).await
    }

    /// A connection contributors may use, authorised as the admin does in the console: the
    /// authorisation URL opened, the sandbox's consent given, and its redirect followed to the
    /// server's callback in the admin's session. The admin becomes its export user.
    async fn connect(&self) -> anyhow::Result<String> {
        let created = self
            .call(
                Method::POST,
                "api/v1/connections",
                Some(json!({
                    "name": "Sandbox",
                    "consent": true,
                    "usable_by": "admins_and_contributors",
                })),
                StatusCode::CREATED,
            )
            .await?;
        let id = text(&created, "id")?;
        let started = self
            .call(
                Method::POST,
                &format!("api/v1/connections/{id}/authorize"),
                None,
                StatusCode::OK,
            )
            .await?;
        let consent = self
            .http
            .get(text(&started, "authorization_url")?)
            .send()
            .await?;
        let callback = redirect(&consent, "the sandbox's consent")?;
        let landed = self
            .http
            .get(callback)
            .header(header::COOKIE, &self.cookie)
            .send()
            .await?;
        let landing = redirect(&landed, "the server's OAuth callback")?;
        if !landing.contains("authenticated=1") {
            bail!("the server's OAuth callback did not authorise the connection: {landing}");
        }
        self.call(
            Method::POST,
            &format!("api/v1/connections/{id}/export-user"),
            None,
            StatusCode::OK,
        )
        .await?;
        Ok(id)
    }

    /// The demo's segment file, imported as `POST /api/v1/segments/yaml` does: the ids of
    /// the segments it holds.
    async fn import_segments(&self) -> anyhow::Result<Vec<String>> {
        let imported = self
            .request(Method::POST, "api/v1/segments/yaml")?
            .header(header::CONTENT_TYPE, "application/yaml")
            .body(segments_file())
            .send()
            .await?;
        answer(imported, "importing the segments", StatusCode::OK).await?;
        let listed = self
            .call(Method::GET, "api/v1/segments", None, StatusCode::OK)
            .await?;
        items(&listed)?
            .iter()
            .map(|segment| text(segment, "id"))
            .collect()
    }

    /// The export of the demo: the segments into the sandbox's new list, with the demo's
    /// mapping, daily at 06:00 UTC.
    async fn create_export(&self, connection: &str, segments: &[String]) -> anyhow::Result<String> {
        let lists = self
            .call(
                Method::GET,
                &format!("api/v1/connections/{connection}/lists"),
                None,
                StatusCode::OK,
            )
            .await?;
        let list = items(&lists)?
            .iter()
            .find(|list| list["name"] == LIST_NAME)
            .with_context(|| format!("the sandbox has no list {LIST_NAME:?}"))?;
        let export = self
            .call(
                Method::POST,
                "api/v1/exports",
                Some(json!({
                    "name": "Demo customers",
                    "connection_id": connection,
                    "list_id": text(list, "list_id")?,
                    "mapping": demo_mapping().names(),
                    "segment_ids": segments,
                    "schedule_override": {
                        "frequency": "daily",
                        "times": ["06:00:00"],
                        "time_zone": "UTC",
                    },
                })),
                StatusCode::CREATED,
            )
            .await?;
        text(&export, "id")
    }

    /// Runs the export now and follows the run to its end: its report, when it succeeded.
    async fn run_and_wait(&self, export: &str) -> anyhow::Result<RunReport> {
        let queued = self
            .call(
                Method::POST,
                &format!("api/v1/exports/{export}/run"),
                None,
                StatusCode::ACCEPTED,
            )
            .await?;
        let run = text(&queued, "id")?;
        let deadline = tokio::time::Instant::now() + FIRST_RUN_TIMEOUT;
        loop {
            let view = self
                .call(
                    Method::GET,
                    &format!("api/v1/runs/{run}"),
                    None,
                    StatusCode::OK,
                )
                .await?;
            let status: RunStatus = serde_json::from_value(view["status"].clone())
                .context("reading the run's status")?;
            match status {
                RunStatus::Queued | RunStatus::Running => {}
                RunStatus::Succeeded => {
                    return serde_json::from_value(view["report"].clone())
                        .context("reading the run's report");
                }
                other => bail!(
                    "the demo's first run ended {other:?}: {}",
                    view["reason"].as_str().unwrap_or("no reason given")
                ),
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "the demo's first run did not end within {} s",
                    FIRST_RUN_TIMEOUT.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// The JSON of an answer with the expected status, or an error with what the server said.
async fn answer(
    response: reqwest::Response,
    doing: &str,
    expected: StatusCode,
) -> anyhow::Result<Value> {
    let status = response.status();
    let body = response.text().await?;
    if status != expected {
        bail!("{doing}: the server answered {status}: {body}");
    }
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&body).with_context(|| format!("{doing}: the answer is not JSON"))
}

/// Where a redirect sends the browser.
fn redirect(response: &reqwest::Response, what: &str) -> anyhow::Result<String> {
    if !response.status().is_redirection() {
        bail!(
            "{what} answered {} instead of a redirect",
            response.status()
        );
    }
    Ok(response
        .headers()
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .with_context(|| format!("{what} redirected nowhere"))?
        .to_owned())
}

/// The items of a listing the API answered: the page's `items`, or the answer itself when it is
/// a plain list.
fn items(listing: &Value) -> anyhow::Result<&Vec<Value>> {
    listing
        .get("items")
        .unwrap_or(listing)
        .as_array()
        .with_context(|| format!("the answer is not a listing: {listing}"))
}

fn text(value: &Value, field: &str) -> anyhow::Result<String> {
    value[field]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("the answer has no {field}: {value}"))
}
