//! `spawn_app()`: a fresh SQLite store and the server on port 0, with one user of each role
//! signed in through an API token.

use base64::Engine;
use reqwest::{Method, RequestBuilder, Response};
use segsync_server::auth::{hash_password, hash_token, new_token};
use segsync_server::{AppState, ServerConfig};
use segsync_store::{NewUser, Role};
use serde_json::Value;

pub(crate) const PASSWORD: &str = "a long enough password";

/// The profiles every test server reads.
pub(crate) const PROFILES_CSV: &str = "\
profile_id,email,first_name,last_name,country,tier,lifetime_value
1,ada@example.com,Ada,Lovelace,US,gold,1200.5
2,grace@example.com,Grace,Hopper,US,platinum,5400
3,zoe@example.com,Zoë,O'Brien,FR,gold,300
4,not-an-email,Bad,Email,US,gold,10
5,bruno@example.com,Bruno,Bronze,DE,bronze,80
";

pub(crate) const CLIENT_ID: &str = "segsync-tests";
pub(crate) const CLIENT_SECRET: &str = "segsync-tests-secret";

pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) sandbox: cc_sandbox::RunningSandbox,
    pub(crate) state: AppState,
    server: Option<segsync_server::Server>,
    config: ServerConfig,
    pub(crate) http: reqwest::Client,
    /// API tokens of `admin`, `contributor` and `viewer`.
    tokens: Vec<(Role, String)>,
    _folder: tempfile::TempDir,
}

pub(crate) fn test_config(folder: &std::path::Path) -> ServerConfig {
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let mut config = ServerConfig {
        database_url: format!("sqlite://{}", folder.join("segsync.db").display()),
        encryption_key: Some(key.into()),
        ..ServerConfig::default()
    };
    // The tests read whole addresses in reports' samples; `privacy.rs` checks the masking.
    config.privacy.full_samples = true;
    config
}

/// A fresh database on the PostgreSQL server named by `POSTGRES_TEST_URL` (`./scripts/test`
/// starts one and sets it), for tests of several nodes on one store.
pub(crate) async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    let server = std::env::var("POSTGRES_TEST_URL").expect(
        "POSTGRES_TEST_URL names the PostgreSQL server for tests of several nodes; ./scripts/test starts one and sets it",
    );
    let name = format!("segsync_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(&server).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&name);
    url.to_string()
}

/// `spawn_app` on a fresh PostgreSQL database, with the sandbox's configuration and the
/// server's changed first.
pub(crate) async fn spawn_app_on_postgres(
    configure_sandbox: impl FnOnce(&mut cc_sandbox::SandboxConfig),
    configure: impl FnOnce(&mut ServerConfig),
) -> TestApp {
    let database_url = fresh_postgres_database().await;
    spawn_app_configured(configure_sandbox, move |config| {
        config.database_url = database_url;
        configure(config);
    })
    .await
}

/// Another server on the same store and sandbox, as another node would be.
pub(crate) async fn another_node(app: &TestApp) -> (segsync_server::Server, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = segsync_server::spawn(app.config().clone(), listener)
        .await
        .unwrap();
    (server, base)
}

/// A loopback port nothing listens on now, for a process the test starts.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// `spawn_app` with the configuration changed by `configure` first.
pub(crate) async fn spawn_app_with(configure: impl FnOnce(&mut ServerConfig)) -> TestApp {
    spawn_app_configured(|_| {}, configure).await
}

/// `spawn_app` with the sandbox's configuration and the server's changed first.
pub(crate) async fn spawn_app_configured(
    configure_sandbox: impl FnOnce(&mut cc_sandbox::SandboxConfig),
    configure: impl FnOnce(&mut ServerConfig),
) -> TestApp {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_test_writer()
        .try_init();
    let folder = tempfile::tempdir().unwrap();
    let sandbox_config = cc_sandbox::SandboxConfig {
        auto_approve: true,
        seed_lists: vec!["Newsletter".to_owned()],
        activity_queue_time: std::time::Duration::from_millis(10),
        activity_processing_time: std::time::Duration::from_millis(10),
        ..cc_sandbox::SandboxConfig::default()
    }
    .with_client(CLIENT_ID, Some(CLIENT_SECRET), &[]);
    let mut sandbox_config = sandbox_config;
    configure_sandbox(&mut sandbox_config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Every application the sandbox knows has this server's callback registered, as an admin
    // registers it in Constant Contact's developer portal.
    for client in &mut sandbox_config.clients {
        client.redirect_uris.push(format!("{base}/oauth/callback"));
    }
    let sandbox = cc_sandbox::spawn(
        sandbox_config,
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap();
    let mut config = test_config(folder.path());
    let profiles = folder.path().join("profiles.csv");
    std::fs::write(&profiles, PROFILES_CSV).unwrap();
    config.profiles = Some(segsync_engine::ProfileSource::new(
        profiles.to_string_lossy(),
    ));
    config.public_url = url::Url::parse(&format!("{base}/")).unwrap();
    let endpoints =
        constant_contact::Endpoints::under(&url::Url::parse(&sandbox.base_url()).unwrap());
    config.constant_contact.client_id = CLIENT_ID.to_owned();
    config.constant_contact.client_secret = Some(CLIENT_SECRET.into());
    config.constant_contact.api_base_url = endpoints.api_base_url;
    config.constant_contact.auth_base_url = endpoints.auth_base_url;
    configure(&mut config);
    let server = segsync_server::spawn(config.clone(), listener)
        .await
        .unwrap();
    let state = server.state.clone();
    let mut tokens = Vec::new();
    for role in [Role::Admin, Role::Contributor, Role::Viewer] {
        let user = state
            .store
            .create_user(&NewUser {
                username: role.as_str().to_owned(),
                display_name: format!("The {role}"),
                role,
                password_hash: hash_password(PASSWORD).unwrap(),
            })
            .await
            .unwrap();
        let token = new_token("sgs_");
        state
            .store
            .create_api_token(user.id, "tests", &hash_token(&token))
            .await
            .unwrap();
        tokens.push((role, token));
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        base,
        sandbox,
        state,
        server: Some(server),
        config,
        http,
        tokens,
        _folder: folder,
    }
}

impl TestApp {
    /// The configuration the server runs with.
    pub(crate) fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Stops the server gracefully and starts a new one on the same store, as a restart does.
    pub(crate) async fn restart(&mut self) {
        self.stop().await;
        self.start_again().await;
    }

    /// Stops the server gracefully; `start_again` brings it back.
    pub(crate) async fn stop(&mut self) {
        self.server.take().expect("the server runs").stop().await;
    }

    /// Starts a server on the store the stopped one used, at a new address.
    pub(crate) async fn start_again(&mut self) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.base = format!("http://{}", listener.local_addr().unwrap());
        let server = segsync_server::spawn(self.config.clone(), listener)
            .await
            .unwrap();
        self.state = server.state.clone();
        self.server = Some(server);
    }

    /// The emails on the sandbox's list `list_id`.
    pub(crate) fn list_members(&self, list_id: &str) -> Vec<String> {
        self.sandbox.state().list_members(list_id.parse().unwrap())
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs `username` in as a browser does; the session cookie and its CSRF token.
    pub(crate) async fn browser_session(&self, username: &str) -> (String, String) {
        let response = self
            .http
            .post(self.url("/api/v1/session"))
            .json(&serde_json::json!({ "username": username, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{username} signs in");
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let body: Value = response.json().await.unwrap();
        (cookie, body["csrf_token"].as_str().unwrap().to_owned())
    }

    /// The API token of `role`.
    pub(crate) fn token(&self, role: Role) -> &str {
        &self.tokens.iter().find(|(r, _)| *r == role).unwrap().1
    }

    /// A request as `role`, or without credentials.
    pub(crate) fn request(&self, role: Option<Role>, method: Method, path: &str) -> RequestBuilder {
        self.request_to(&self.base, role, method, path)
    }

    /// A request as `role` to the server at `base` (another node on the same store).
    pub(crate) fn request_to(
        &self,
        base: &str,
        role: Option<Role>,
        method: Method,
        path: &str,
    ) -> RequestBuilder {
        let request = self.http.request(method, format!("{base}{path}"));
        match role {
            Some(role) => {
                let token = &self.tokens.iter().find(|(r, _)| *r == role).unwrap().1;
                request.bearer_auth(token)
            }
            None => request,
        }
    }

    /// Sends a request as `role` (JSON body optional) and returns the status and the JSON
    /// answer (a string when the answer is not JSON).
    pub(crate) async fn call(
        &self,
        role: Option<Role>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (reqwest::StatusCode, Value) {
        let mut request = self.request(role, method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub(crate) async fn json(response: Response) -> Value {
        response.json().await.unwrap()
    }
}
