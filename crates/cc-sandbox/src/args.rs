//! The sandbox's command-line options, one definition for the standalone `cc-sandbox` binary
//! and for `segsync sandbox`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::config::SandboxConfig;

/// Where segsync's server, on its defaults, takes the browser back after consent.
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:8910/oauth/callback";

#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8911, env = "CC_SANDBOX_PORT")]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// The API key (client id) registered with the sandbox.
    #[arg(long, default_value = "sandbox-client")]
    pub client_id: String,
    /// The client secret; empty registers a public client that must use PKCE.
    #[arg(long, default_value = "sandbox-secret")]
    pub client_secret: String,
    /// A redirect URI registered for the client (repeatable); an authorisation request with any
    /// other is refused, as Constant Contact refuses it.
    #[arg(long = "redirect-uri", default_values_t = [DEFAULT_REDIRECT_URI.to_owned()])]
    pub redirect_uris: Vec<String>,
    /// Lists that exist from the start (repeatable).
    #[arg(long = "list", default_values_t = ["Newsletter".to_owned(), "VIP customers".to_owned()])]
    pub lists: Vec<String>,
    /// Custom fields the account has from the start, by label (repeatable); imports may set
    /// only fields that exist.
    #[arg(long = "custom-field", default_values_t = ["tier".to_owned()])]
    pub custom_fields: Vec<String>,
    /// Approve authorisation requests without showing the consent page.
    #[arg(long)]
    pub auto_approve: bool,
    /// Requests per second per client id.
    #[arg(long, default_value_t = 4)]
    pub requests_per_second: u32,
    /// Requests per UTC day per client id.
    #[arg(long, default_value_t = 10_000)]
    pub daily_quota: u32,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, default_value_t = 86_400)]
    pub token_lifetime_seconds: u64,
}

impl SandboxArgs {
    /// The client secret, or none for a public client.
    pub fn secret(&self) -> Option<&str> {
        (!self.client_secret.is_empty()).then_some(self.client_secret.as_str())
    }

    pub fn address(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    pub fn config(&self) -> SandboxConfig {
        let redirect_uris: Vec<&str> = self.redirect_uris.iter().map(String::as_str).collect();
        SandboxConfig {
            auto_approve: self.auto_approve,
            requests_per_second: self.requests_per_second,
            daily_quota: self.daily_quota,
            access_token_lifetime: Duration::from_secs(self.token_lifetime_seconds),
            seed_lists: self.lists.clone(),
            seed_custom_fields: self.custom_fields.clone(),
            ..SandboxConfig::default()
        }
        .with_client(&self.client_id, self.secret(), &redirect_uris)
    }
}
