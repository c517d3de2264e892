//! The server's configuration, layered: defaults, then `segsync.toml`, then `SEGSYNC_*`
//! environment variables (`__` separates sections: `SEGSYNC_CONSTANT_CONTACT__CLIENT_ID`), then
//! the command line. A secret can also come from a file named by the same variable with `_FILE`
//! appended (`SEGSYNC_ENCRYPTION_KEY_FILE`), as container secrets are mounted.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use segsync_app::alerts::{AlertEvent, AlertsConfig, WebhookConfig};
use segsync_app::alerts::{redacted, url_text};
pub use segsync_runs::RunsConfig;
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Where the server listens.
    pub listen: SocketAddr,
    /// The address people reach the server at; OAuth callbacks and cookies follow it (an
    /// `https` URL makes cookies Secure).
    #[serde(with = "url_text")]
    pub public_url: Url,
    /// `sqlite://PATH` (the default, an embedded file) or `postgres://…`.
    pub database_url: String,
    /// The unified customer profiles: a path or URL (`profiles = "s3://lake/profiles/"`), or a
    /// table of its location, format and options (see `ProfileSource`). Segments are checked
    /// against its schema and evaluated over it.
    pub profiles: Option<segsync_engine::ProfileSource>,
    /// Tables of rows related to profiles, each under its name (`[related.orders]`): a
    /// `source` like `profiles`, the `key` column that holds the profile's key, the
    /// `profile_key` it matches and, optionally, the `dated_by` column windows test.
    pub related: BTreeMap<String, segsync_engine::RelatedTable>,
    /// Opt-outs brought home: `write_to`, a location like `profiles` (a Parquet folder, a Delta
    /// table or an existing PostgreSQL table), gets every opt-out runs learn from Constant
    /// Contact appended (email, contact_id, opted_out_at, opt_out_source, reason,
    /// connection_id, learned_at).
    pub opt_outs: OptOutsConfig,
    /// Addresses no export may send, read from a source at each run: `source` like `profiles`
    /// and `email_column` (`email` unless told). Admins also keep exclusions in the console.
    pub exclusions: Option<segsync_runs::ExclusionsSource>,
    /// How long what ages out is kept, in days: `run_details_days` (run reports' samples and
    /// skipped-members lists, 30), `runs_days` (400), `audit_days` (400).
    pub retention: segsync_app::privacy::retention::RetentionConfig,
    /// `full_samples = true` keeps whole addresses in run reports' samples; they are masked
    /// (`a••@example.com`) otherwise.
    pub privacy: PrivacyConfig,
    /// Runs that follow the data (`on_change` schedules): `watch_seconds` (60; 0 watches
    /// nothing, pipelines still trigger), `settle_seconds` (120), `max_runs_per_day` (24) and
    /// `min_minutes_between` (15) per export.
    pub schedule: segsync_runs::follow::WatchConfig,
    /// Webhooks that say a source changed: `dbt_cloud_secret`, the secret of a dbt Cloud
    /// webhook (its requests to `/api/v1/triggers/dbt-cloud` are checked against it), and
    /// `dbt_cloud_source`, the source its job builds (`profiles` unless told).
    pub triggers: TriggersConfig,
    /// The most members one export may send.
    pub member_limit: u64,
    /// How much memory evaluating segments may hold (`memory_limit`) and where it spills
    /// (`spill_directory`), per run, count or preview.
    pub engine: segsync_engine::EngineSettings,
    /// 32 bytes in base64 (`openssl rand -base64 32`): the key that seals Constant Contact
    /// tokens in the store.
    #[serde(serialize_with = "redacted")]
    pub encryption_key: Option<SecretString>,
    /// Earlier keys, still accepted for opening what they sealed (see the key rotation notes
    /// in ARCHITECTURE.md).
    #[serde(serialize_with = "redacted_list")]
    pub previous_encryption_keys: Vec<SecretString>,
    /// How long a sign-in lasts, in hours.
    pub session_hours: u32,
    /// Failed sign-ins before a username is locked, and for how many minutes.
    pub login_max_failures: u32,
    pub login_lock_minutes: u32,
    /// Failed sign-ins from one client address, whatever the usernames, before the address
    /// is refused for `login_lock_minutes`.
    pub login_max_failures_per_address: u32,
    /// The reverse proxies in front of the server, as CIDRs (`["10.0.0.0/8", "::1/128"]`). A
    /// request from one of them comes from the address it names in `forwarded_header`, read
    /// from the right past every trusted proxy; sign-in limits key on that address. Empty (the
    /// default): every request comes from its peer, and forwarding headers are ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The header the trusted proxies set: `x-forwarded-for` (the default) or `forwarded`
    /// (RFC 7239). Only one is read, so a client cannot slip an address into the other.
    pub forwarded_header: crate::client_address::ForwardedHeader,
    /// Seconds a connection has to send a request's headers before it is closed.
    pub request_header_seconds: u64,
    /// Seconds a request has to be handled, its body included, before it is answered 408
    /// `request_timeout` (what streams after the answer began, a CSV download, is not limited).
    pub request_seconds: u64,
    pub constant_contact: ConstantContactConfig,
    pub runs: RunsConfig,
    pub alerts: AlertsConfig,
    pub log: LogConfig,
}

/// How the server writes its log (to standard error; `RUST_LOG` sets the level).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
}

/// Webhooks that say a source changed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TriggersConfig {
    #[serde(serialize_with = "redacted")]
    pub dbt_cloud_secret: Option<SecretString>,
    pub dbt_cloud_source: Option<String>,
}

/// How much of an address reports keep.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Whole addresses in run reports' samples, instead of masked ones.
    pub full_samples: bool,
}

/// Where the opt-outs runs learn are written back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptOutsConfig {
    pub write_to: Option<segsync_engine::ProfileSource>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object per event, with the fields of the spans it happened in (the request's
    /// id and caller, the run's id, export and connection).
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConstantContactConfig {
    /// The API key of this installation's application in Constant Contact's developer portal.
    pub client_id: String,
    #[serde(serialize_with = "redacted")]
    pub client_secret: Option<SecretString>,
    #[serde(with = "url_text")]
    pub api_base_url: Url,
    #[serde(with = "url_text")]
    pub auth_base_url: Url,
    /// Requests per second and per day for each API key.
    pub requests_per_second: u32,
    pub requests_per_day: u32,
    /// How long a connection's contact lists and custom fields are kept once looked up, in
    /// seconds: a page opened again within it asks Constant Contact nothing.
    pub look_ups_kept_seconds: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            opt_outs: OptOutsConfig::default(),
            exclusions: None,
            retention: Default::default(),
            privacy: PrivacyConfig::default(),
            schedule: Default::default(),
            triggers: TriggersConfig::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8910)),
            public_url: Url::parse("http://127.0.0.1:8910/").expect("a valid URL"),
            database_url: "sqlite://segsync.db".to_owned(),
            profiles: None,
            related: BTreeMap::new(),
            member_limit: 1_000_000,
            engine: segsync_engine::EngineSettings::default(),
            encryption_key: None,
            previous_encryption_keys: Vec::new(),
            session_hours: 12,
            login_max_failures: 5,
            login_lock_minutes: 15,
            login_max_failures_per_address: 30,
            trusted_proxies: Vec::new(),
            forwarded_header: crate::client_address::ForwardedHeader::default(),
            request_header_seconds: 30,
            request_seconds: 300,
            constant_contact: ConstantContactConfig::default(),
            runs: RunsConfig::default(),
            alerts: AlertsConfig::default(),
            log: LogConfig::default(),
        }
    }
}

impl Default for ConstantContactConfig {
    fn default() -> Self {
        Self {
            client_id: String::new(),
            client_secret: None,
            api_base_url: Url::parse(constant_contact::config::DEFAULT_API_BASE_URL)
                .expect("a valid URL"),
            auth_base_url: Url::parse(constant_contact::config::DEFAULT_AUTH_BASE_URL)
                .expect("a valid URL"),
            requests_per_second: 4,
            requests_per_day: 10_000,
            look_ups_kept_seconds: 60,
        }
    }
}

/// Secrets that may come from a file: (the key in the configuration, its environment variable).
const FILE_SECRETS: [(&str, &str); 2] = [
    ("encryption_key", "SEGSYNC_ENCRYPTION_KEY_FILE"),
    (
        "constant_contact.client_secret",
        "SEGSYNC_CONSTANT_CONTACT__CLIENT_SECRET_FILE",
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the configuration: {0}")]
    Invalid(Box<figment::Error>),
    #[error("reading the secret file {path} (from {variable})")]
    SecretFile {
        variable: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("encryption_key: {0}")]
    EncryptionKey(String),
    #[error("{key}: {problem}")]
    Value { key: &'static str, problem: String },
}

impl ServerConfig {
    /// The related tables, each with its name.
    pub fn related_tables(&self) -> Vec<segsync_engine::RelatedTable> {
        segsync_engine::related_tables(self.related.clone())
    }

    /// Reads the layers under the command line's: `file` if given (else `segsync.toml` when it
    /// exists), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Figment, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(ServerConfig::default()));
        figment = match file {
            Some(path) => figment.merge(Toml::file_exact(path)),
            None => figment.merge(Toml::file("segsync.toml")),
        };
        figment = figment.merge(
            Env::prefixed("SEGSYNC_")
                .split("__")
                .filter(|key| !key.as_str().to_ascii_lowercase().ends_with("_file")),
        );
        for (key, variable) in FILE_SECRETS {
            if let Ok(path) = std::env::var(variable) {
                let secret =
                    std::fs::read_to_string(&path).map_err(|source| ConfigError::SecretFile {
                        variable,
                        path: path.clone(),
                        source,
                    })?;
                figment = figment.merge(Serialized::default(key, secret.trim().to_owned()));
            }
        }
        Ok(figment)
    }

    /// The configuration from its layers.
    pub fn extract(figment: &Figment) -> Result<Self, ConfigError> {
        figment
            .extract()
            .map_err(|error| ConfigError::Invalid(Box::new(error)))
    }

    /// The key that seals secrets in the store; refuses to start without a good one.
    pub fn encryption_key(&self) -> Result<[u8; 32], ConfigError> {
        let Some(key) = &self.encryption_key else {
            return Err(ConfigError::EncryptionKey(
                "not set: give 32 random bytes in base64 (openssl rand -base64 32) in segsync.toml, SEGSYNC_ENCRYPTION_KEY or SEGSYNC_ENCRYPTION_KEY_FILE".into(),
            ));
        };
        decode_key(key).map_err(ConfigError::EncryptionKey)
    }

    pub fn previous_encryption_keys(&self) -> Result<Vec<[u8; 32]>, ConfigError> {
        self.previous_encryption_keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                decode_key(key).map_err(|problem| {
                    ConfigError::EncryptionKey(format!("previous_encryption_keys[{i}] {problem}"))
                })
            })
            .collect()
    }

    /// The Constant Contact application of this installation, with its callback here.
    pub fn api_config(&self) -> constant_contact::ApiConfig {
        let cc = &self.constant_contact;
        let mut api = constant_contact::ApiConfig::new(cc.client_id.clone())
            .with_endpoints(constant_contact::Endpoints {
                api_base_url: cc.api_base_url.clone(),
                auth_base_url: cc.auth_base_url.clone(),
            })
            .with_redirect_uri(self.oauth_callback_url())
            .with_requests_per_second(cc.requests_per_second)
            .with_daily_quota(cc.requests_per_day);
        if let Some(secret) = &cc.client_secret {
            api = api.with_client_secret(secret.clone());
        }
        api
    }

    /// Where Constant Contact sends the browser back after consent.
    pub fn oauth_callback_url(&self) -> Url {
        self.public_url
            .join("oauth/callback")
            .expect("a path joins any base URL")
    }

    /// Checks what can be checked before the server starts.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.encryption_key()?;
        self.previous_encryption_keys()?;
        self.retention
            .check()
            .map_err(|problem| ConfigError::Value {
                key: "retention",
                problem,
            })?;
        self.engine.check().map_err(|error| ConfigError::Value {
            key: "engine.cluster",
            problem: error.to_string(),
        })?;
        if self.runs.max_run_seconds == 0 {
            return Err(ConfigError::Value {
                key: "runs.max_run_seconds",
                problem: "a run needs some time: give at least 1 second".to_owned(),
            });
        }
        if self.runs.silent_run_seconds < 2 {
            return Err(ConfigError::Value {
                key: "runs.silent_run_seconds",
                problem: "a worker writes its progress every second: give at least 2 seconds"
                    .to_owned(),
            });
        }
        if self.runs.workers == 0 {
            return Err(ConfigError::Value {
                key: "runs.workers",
                problem: "at least 1 worker is needed to run exports".to_owned(),
            });
        }
        if self.alerts.check_seconds == 0 {
            return Err(ConfigError::Value {
                key: "alerts.check_seconds",
                problem: "give at least 1 second between looks for alerts".to_owned(),
            });
        }
        if let Some(webhook) = self
            .alerts
            .webhooks
            .iter()
            .find(|webhook| !matches!(webhook.url.scheme(), "http" | "https"))
        {
            return Err(ConfigError::Value {
                key: "alerts.webhooks.url",
                problem: format!("{} is not an http or https URL", webhook.url),
            });
        }
        Ok(())
    }

    /// Whether cookies must only travel over TLS.
    /// Cookies are `Secure` unless the console is served over plain http on this machine
    /// itself (a trial or a test): a browser then sends them over TLS only.
    pub fn secure_cookies(&self) -> bool {
        let loopback = match self.public_url.host() {
            Some(url::Host::Ipv4(address)) => address.is_loopback(),
            Some(url::Host::Ipv6(address)) => address.is_loopback(),
            Some(url::Host::Domain(name)) => name == "localhost",
            None => false,
        };
        !(self.public_url.scheme() == "http" && loopback)
    }
}

fn decode_key(key: &SecretString) -> Result<[u8; 32], String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key.expose_secret().trim())
        .map_err(|_| "is not base64".to_owned())?;
    bytes
        .try_into()
        .map_err(|bytes: Vec<u8>| format!("is {} bytes; it must be 32", bytes.len()))
}

fn redacted_list<S: serde::Serializer>(
    secrets: &[SecretString],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(secrets.iter().map(|_| "[REDACTED]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_secure_unless_served_over_plain_http_on_loopback() {
        let secure = |url: &str| {
            ServerConfig {
                public_url: Url::parse(url).unwrap(),
                ..ServerConfig::default()
            }
            .secure_cookies()
        };
        assert!(secure("https://segsync.example.com/"));
        assert!(secure("https://127.0.0.1:8910/"));
        assert!(
            secure("http://segsync.example.com/"),
            "plain http elsewhere"
        );
        assert!(secure("http://10.0.0.5:8910/"));
        assert!(!secure("http://127.0.0.1:8910/"));
        assert!(!secure("http://localhost:8910/"));
        assert!(!secure("http://[::1]:8910/"));
    }
}
