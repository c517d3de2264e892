//! `spawn_app()`: a fresh SQLite store and the server on port 0, with one user of each role
//! signed in through an API token.

use base64::Engine;
use reqwest::{Method, RequestBuilder, Response};
use segsync_server::auth::{hash_password, hash_token, new_token};
use segsync_server::{AppState, ServerConfig};
use segsync_store::{NewUser, Role};
use serde_json::Value;

pub(crate) const PASSWORD: &str = "a long enough password";

pub(crate) struct TestApp {
    pub(crate) base: String,
    pub(crate) state: AppState,
    pub(crate) http: reqwest::Client,
    /// API tokens of `admin`, `contributor` and `viewer`.
    tokens: Vec<(Role, String)>,
    _folder: tempfile::TempDir,
}

pub(crate) fn test_config(folder: &std::path::Path) -> ServerConfig {
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    ServerConfig {
        database_url: format!("sqlite://{}", folder.join("segsync.db").display()),
        encryption_key: Some(key.into()),
        ..ServerConfig::default()
    }
}

pub(crate) async fn spawn_app() -> TestApp {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let folder = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = segsync_server::spawn(test_config(folder.path()), listener)
        .await
        .unwrap();
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
        state,
        http,
        tokens,
        _folder: folder,
    }
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request as `role`, or without credentials.
    pub(crate) fn request(&self, role: Option<Role>, method: Method, path: &str) -> RequestBuilder {
        let request = self.http.request(method, self.url(path));
        match role {
            Some(role) => {
                let token = &self.tokens.iter().find(|(r, _)| *r == role).unwrap().1;
                request.bearer_auth(token)
            }
            None => request,
        }
    }

    pub(crate) async fn json(response: Response) -> Value {
        response.json().await.unwrap()
    }
}
