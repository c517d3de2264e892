//! The configuration of a one-shot export (`segsync export --config FILE`), in TOML.
//!
//! ```toml
//! [profiles]
//! location = "profiles/*.parquet"
//!
//! [related.orders]              # optional: rows segments may count and measure
//! source = "orders/*.parquet"
//! key = "customer_id"
//! profile_key = "profile_id"
//! dated_by = "ordered_at"
//!
//! [engine]                      # optional
//! memory_limit = "1 GiB"        # what evaluating the segments may hold; grouping spills past it
//! spill_directory = "/var/tmp"  # the system's temporary folder by default
//!
//! [constant_contact]
//! client_id = "your API key"
//! client_secret_file = "/run/secrets/cc_client_secret"   # or SEGSYNC_CLIENT_SECRET
//! token_file = "segsync-tokens.json"                       # device flow when absent
//! # api_base_url and auth_base_url default to Constant Contact's
//!
//! [export]
//! list_id = "06526938-56dd-11e9-932a-fa163ea075fa"
//! segments_files = ["segments.yaml"]
//! segments = ["gold-us-recent"]
//! time_zone = "America/New_York"
//!
//! [export.mapping]
//! email = "email"
//! first_name = "first_name"
//! last_name = "last_name"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use constant_contact::config::{DEFAULT_API_BASE_URL, DEFAULT_AUTH_BASE_URL};
use constant_contact::{ApiConfig, Endpoints};
use secrecy::SecretString;
use segsync_domain::FieldMapping;
use segsync_engine::{EngineSettings, ProfileSource, RelatedTable};
use segsync_export::SyncMode;
use serde::Deserialize;
use url::Url;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportConfig {
    /// A path or URL, or a table of `location`, `format` and the source's options.
    pub(crate) profiles: ProfileSource,
    /// Tables of rows related to profiles, each under its name.
    #[serde(default)]
    pub(crate) related: BTreeMap<String, RelatedTable>,
    /// How much memory evaluating the segments may hold, and where it spills.
    #[serde(default)]
    pub(crate) engine: EngineSettings,
    pub(crate) constant_contact: ConstantContactSection,
    pub(crate) export: ExportSection,
    /// Addresses never sent, read from a source at each run: `source` and `email_column`.
    #[serde(default)]
    pub(crate) exclusions: Option<segsync_runs::ExclusionsSource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConstantContactSection {
    #[serde(default = "default_api")]
    pub(crate) api_base_url: String,
    #[serde(default = "default_auth")]
    pub(crate) auth_base_url: String,
    pub(crate) client_id: String,
    #[serde(default)]
    pub(crate) client_secret_file: Option<PathBuf>,
    pub(crate) token_file: PathBuf,
    #[serde(default)]
    pub(crate) requests_per_second: Option<u32>,
    #[serde(default)]
    pub(crate) daily_quota: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportSection {
    pub(crate) list_id: Uuid,
    pub(crate) segments_files: Vec<PathBuf>,
    pub(crate) segments: Vec<String>,
    #[serde(default = "default_zone")]
    pub(crate) time_zone: String,
    #[serde(default)]
    pub(crate) member_limit: Option<u64>,
    /// What the export sent, kept between runs (SQLite): later runs send only new and changed
    /// members. Without it every run sends everyone.
    #[serde(default)]
    pub(crate) state_file: Option<PathBuf>,
    #[serde(default)]
    pub(crate) sync_mode: SyncMode,
    /// Mirror mode: how much a run may remove, and the members drop, before it needs
    /// `--confirm-removals`.
    #[serde(default)]
    pub(crate) guards: segsync_domain::RemovalGuards,
    /// `after_run`: every run reads the list back once it has sent (as `--verify` does);
    /// `off` (the default) or `daily` (a server's setting; here the same as `off`).
    #[serde(default)]
    pub(crate) verify: segsync_domain::VerifySchedule,
    pub(crate) mapping: BTreeMap<String, String>,
}

fn default_api() -> String {
    DEFAULT_API_BASE_URL.to_owned()
}

fn default_auth() -> String {
    DEFAULT_AUTH_BASE_URL.to_owned()
}

fn default_zone() -> String {
    "UTC".to_owned()
}

impl ExportConfig {
    pub(crate) fn load(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut config: Self =
            toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
        // Relative paths are relative to the configuration file.
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        config.constant_contact.token_file = resolve(&config.constant_contact.token_file);
        config.constant_contact.client_secret_file = config
            .constant_contact
            .client_secret_file
            .as_deref()
            .map(resolve);
        config.export.state_file = config.export.state_file.as_deref().map(resolve);
        config.export.segments_files = config
            .export
            .segments_files
            .iter()
            .map(|p| resolve(p))
            .collect();
        config.profiles = config.profiles.relative_to(base);
        if let Some(exclusions) = &mut config.exclusions {
            exclusions.source = exclusions.source.clone().relative_to(base);
        }
        for table in config.related.values_mut() {
            table.source = table.source.clone().relative_to(base);
        }
        Ok(config)
    }

    /// The related tables, each with its name.
    pub(crate) fn related_tables(&self) -> Vec<RelatedTable> {
        segsync_engine::related_tables(self.related.clone())
    }

    pub(crate) fn api_config(&self) -> anyhow::Result<ApiConfig> {
        let section = &self.constant_contact;
        let endpoints = Endpoints {
            api_base_url: Url::parse(&section.api_base_url)
                .context("constant_contact.api_base_url")?,
            auth_base_url: Url::parse(&section.auth_base_url)
                .context("constant_contact.auth_base_url")?,
        };
        let mut config = ApiConfig::new(&section.client_id).with_endpoints(endpoints);
        let secret = match (
            &section.client_secret_file,
            std::env::var("SEGSYNC_CLIENT_SECRET"),
        ) {
            (_, Ok(secret)) => Some(secret),
            (Some(file), Err(_)) => Some(
                std::fs::read_to_string(file)
                    .with_context(|| format!("reading the client secret from {}", file.display()))?
                    .trim()
                    .to_owned(),
            ),
            (None, Err(_)) => None,
        };
        if let Some(secret) = secret {
            config = config.with_client_secret(SecretString::from(secret));
        }
        if let Some(rate) = section.requests_per_second {
            config = config.with_requests_per_second(rate);
        }
        if let Some(quota) = section.daily_quota {
            config = config.with_daily_quota(quota);
        }
        Ok(config)
    }

    pub(crate) fn mapping(&self) -> anyhow::Result<FieldMapping> {
        FieldMapping::from_names(&self.export.mapping).context("export")
    }
}
