//! The settings of a profile source beside its location: format options (`format`,
//! `csv_delimiter`, `version`, `table`) and the storage's own (`endpoint`, `region`,
//! `access_key_id`, …). Any value can instead be read from a file (`<key>_file`) or an
//! environment variable (`<key>_env`), which is how secrets are meant to be given; the value of
//! a secret key is never shown, whatever way it came.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Where one option's value comes from.
#[derive(Clone, PartialEq, Eq)]
enum OptionValue {
    Inline(String),
    File(PathBuf),
    Environment(String),
}

/// A source's options, as configured: keys in lower case, values not yet read.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SourceOptions {
    values: BTreeMap<String, OptionValue>,
}

/// An option whose value could not be read or does not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("option {key}: {problem}")]
pub struct OptionError {
    pub key: String,
    pub problem: String,
}

impl SourceOptions {
    /// Adds `key = value`; a key ending in `_file` or `_env` names where the value of the key
    /// before it is read from.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let key = key.trim().to_ascii_lowercase();
        let value = value.into();
        let (key, value) = if let Some(base) = key.strip_suffix("_file") {
            (base.to_owned(), OptionValue::File(PathBuf::from(value)))
        } else if let Some(base) = key.strip_suffix("_env") {
            (base.to_owned(), OptionValue::Environment(value))
        } else {
            (key, OptionValue::Inline(value))
        };
        self.values.insert(key, value);
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.set(key, value);
        self
    }

    /// Parses `key=value`, as the command line gives options.
    pub fn set_pair(&mut self, pair: &str) -> Result<(), OptionError> {
        let (key, value) = pair.split_once('=').ok_or_else(|| OptionError {
            key: pair.to_owned(),
            problem: "write it as key=value".to_owned(),
        })?;
        self.set(key, value);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// The value of `key`, read from its file or environment variable if that is where it
    /// lives; a file's trailing line break is not part of the value.
    pub fn get(&self, key: &str) -> Result<Option<String>, OptionError> {
        let Some(value) = self.values.get(key) else {
            return Ok(None);
        };
        let problem = |problem: String| OptionError {
            key: key.to_owned(),
            problem,
        };
        match value {
            OptionValue::Inline(value) => Ok(Some(value.clone())),
            OptionValue::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned())),
                Err(error) => Err(problem(format!("reading {}: {error}", path.display()))),
            },
            OptionValue::Environment(variable) => match std::env::var(variable) {
                Ok(value) => Ok(Some(value)),
                Err(_) => Err(problem(format!(
                    "the environment variable {variable} is not set"
                ))),
            },
        }
    }

    /// Every option but those the source's format reads itself, with its value read.
    pub fn resolved_except(
        &self,
        format_keys: &[&str],
    ) -> Result<Vec<(String, String)>, OptionError> {
        let mut resolved = Vec::new();
        for key in self.keys().filter(|key| !format_keys.contains(key)) {
            if let Some(value) = self.get(key)? {
                resolved.push((key.to_owned(), value));
            }
        }
        Ok(resolved)
    }
}

impl SourceOptions {
    /// Each option as it may be shown: `key = value`, `key_file = path` or `key_env = VARIABLE`,
    /// a secret key's inline value replaced by `(secret)`.
    pub fn shown(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .map(|(key, value)| match value {
                OptionValue::Inline(_) if is_secret(key) => (key.clone(), "(secret)".to_owned()),
                OptionValue::Inline(value) => (key.clone(), value.clone()),
                OptionValue::File(path) => (format!("{key}_file"), path.display().to_string()),
                OptionValue::Environment(variable) => (format!("{key}_env"), variable.clone()),
            })
            .collect()
    }
}

/// Whether a key's value must never be shown: passwords, secret and master keys, tokens,
/// signatures, customer encryption keys, and proxy URLs (which may carry credentials). Every
/// alias of every secret key of the object stores' builders is covered (see the tests); the
/// S3 access key *id* is not a secret and is shown.
fn is_secret(key: &str) -> bool {
    const SECRET_WORDS: [&str; 8] = [
        "secret",
        "password",
        "token",
        "sas",
        "master_key",
        "account_key",
        "customer_key",
        "proxy_url",
    ];
    SECRET_WORDS.iter().any(|word| key.contains(word)) || key.ends_with("access_key")
}

impl fmt::Debug for SourceOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (key, value) in self.shown() {
            map.entry(&key, &value);
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_come_from_files_and_the_environment_and_are_never_shown() {
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join("secret");
        std::fs::write(&file, "s3cr3t\n").unwrap();
        let mut options = SourceOptions::default()
            .with("Region", "eu-west-1")
            .with("secret_access_key_file", file.to_string_lossy())
            .with("password", "hunter2");
        options
            .set_pair("session_token_env=SEGSYNC_TEST_UNSET_VARIABLE")
            .unwrap();
        assert_eq!(options.get("region").unwrap().as_deref(), Some("eu-west-1"));
        assert_eq!(
            options.get("secret_access_key").unwrap().as_deref(),
            Some("s3cr3t")
        );
        let missing = options.get("session_token").unwrap_err();
        assert!(
            missing.to_string().contains("SEGSYNC_TEST_UNSET_VARIABLE"),
            "{missing}"
        );
        let shown = format!("{options:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        assert!(
            shown.contains("eu-west-1") && shown.contains("(secret)"),
            "{shown}"
        );
        assert!(options.set_pair("no-equals-sign").is_err());
    }

    /// Every alias each object store's builder takes, as its `FromStr` lists them (client
    /// options with the builder's prefix and without).
    const AMAZON_KEYS: &[&str] = &[
        "aws_access_key_id",
        "access_key_id",
        "aws_secret_access_key",
        "secret_access_key",
        "aws_default_region",
        "default_region",
        "aws_region",
        "region",
        "aws_bucket",
        "aws_bucket_name",
        "bucket_name",
        "bucket",
        "aws_endpoint_url",
        "aws_endpoint",
        "endpoint_url",
        "endpoint",
        "aws_endpoint_url_s3",
        "aws_session_token",
        "aws_token",
        "session_token",
        "token",
        "aws_virtual_hosted_style_request",
        "virtual_hosted_style_request",
        "aws_s3_express",
        "s3_express",
        "aws_imdsv1_fallback",
        "imdsv1_fallback",
        "aws_metadata_endpoint",
        "metadata_endpoint",
        "aws_unsigned_payload",
        "unsigned_payload",
        "aws_checksum_algorithm",
        "checksum_algorithm",
        "aws_container_credentials_relative_uri",
        "container_credentials_relative_uri",
        "aws_container_credentials_full_uri",
        "container_credentials_full_uri",
        "aws_role_arn",
        "role_arn",
        "aws_role_session_name",
        "role_session_name",
        "aws_endpoint_url_sts",
        "endpoint_url_sts",
        "aws_skip_signature",
        "skip_signature",
        "aws_copy_if_not_exists",
        "copy_if_not_exists",
        "aws_conditional_put",
        "conditional_put",
        "aws_disable_tagging",
        "disable_tagging",
        "aws_request_payer",
        "request_payer",
        "aws_allow_http",
        "aws_server_side_encryption",
        "server_side_encryption",
        "aws_sse_kms_key_id",
        "sse_kms_key_id",
        "aws_sse_bucket_key_enabled",
        "sse_bucket_key_enabled",
        "aws_sse_customer_key_base64",
        "sse_customer_key_base64",
    ];
    const AZURE_KEYS: &[&str] = &[
        "azure_storage_account_key",
        "azure_storage_access_key",
        "azure_storage_master_key",
        "master_key",
        "account_key",
        "access_key",
        "azure_storage_account_name",
        "account_name",
        "azure_storage_client_id",
        "azure_client_id",
        "client_id",
        "azure_storage_client_secret",
        "azure_client_secret",
        "client_secret",
        "azure_storage_tenant_id",
        "azure_storage_authority_id",
        "azure_tenant_id",
        "azure_authority_id",
        "tenant_id",
        "authority_id",
        "azure_storage_authority_host",
        "azure_authority_host",
        "authority_host",
        "azure_storage_sas_key",
        "azure_storage_sas_token",
        "sas_key",
        "sas_token",
        "azure_storage_token",
        "bearer_token",
        "token",
        "azure_storage_use_emulator",
        "use_emulator",
        "azure_storage_endpoint",
        "azure_endpoint",
        "endpoint",
        "azure_msi_endpoint",
        "azure_identity_endpoint",
        "identity_endpoint",
        "msi_endpoint",
        "azure_object_id",
        "object_id",
        "azure_msi_resource_id",
        "msi_resource_id",
        "azure_use_fabric_endpoint",
        "use_fabric_endpoint",
        "azure_use_azure_cli",
        "use_azure_cli",
        "azure_skip_signature",
        "skip_signature",
        "azure_container_name",
        "container_name",
        "azure_disable_tagging",
        "disable_tagging",
        "azure_fabric_token_service_url",
        "fabric_token_service_url",
        "azure_fabric_workload_host",
        "fabric_workload_host",
        "azure_fabric_session_token",
        "fabric_session_token",
        "azure_fabric_cluster_identifier",
        "fabric_cluster_identifier",
        "azure_allow_http",
    ];
    const GOOGLE_KEYS: &[&str] = &[
        "google_service_account",
        "service_account",
        "google_service_account_path",
        "service_account_path",
        "google_service_account_key",
        "service_account_key",
        "google_bucket",
        "google_bucket_name",
        "bucket",
        "bucket_name",
        "google_base_url",
        "base_url",
        "google_application_credentials",
        "application_credentials",
        "google_skip_signature",
        "skip_signature",
    ];
    const CLIENT_KEYS: &[&str] = &[
        "allow_http",
        "allow_invalid_certificates",
        "connect_timeout",
        "default_content_type",
        "http1_only",
        "http2_only",
        "http2_keep_alive_interval",
        "http2_keep_alive_timeout",
        "http2_keep_alive_while_idle",
        "http2_max_frame_size",
        "pool_idle_timeout",
        "pool_max_idle_per_host",
        "proxy_url",
        "proxy_ca_certificate",
        "proxy_excludes",
        "randomize_addresses",
        "timeout",
        "user_agent",
    ];

    fn client_secret(key: object_store::ClientConfigKey) -> bool {
        // A proxy URL may carry a user name and password.
        matches!(key, object_store::ClientConfigKey::ProxyUrl)
    }

    /// `keys` and the builder's client options under `prefix`, each with whether the builder
    /// takes it as a secret.
    fn judged<K: std::str::FromStr>(
        keys: &[&str],
        prefix: &str,
        names_a_secret: impl Fn(K) -> bool,
    ) -> Vec<(String, bool)>
    where
        K::Err: std::fmt::Debug,
    {
        let client = CLIENT_KEYS
            .iter()
            .flat_map(|key| [(*key).to_owned(), format!("{prefix}{key}")]);
        keys.iter()
            .map(|key| (*key).to_owned())
            .chain(client)
            .map(|key| {
                let parsed: K = key
                    .parse()
                    .unwrap_or_else(|problem| panic!("{key}: {problem:?}"));
                let secret = names_a_secret(parsed);
                (key, secret)
            })
            .collect()
    }

    #[test]
    fn every_key_the_object_stores_take_as_a_secret_is_hidden_and_no_other() {
        use object_store::aws::AmazonS3ConfigKey as S3;
        use object_store::azure::AzureConfigKey as Azure;
        use object_store::gcp::GoogleConfigKey as Google;

        let mut every = judged::<S3>(AMAZON_KEYS, "aws_", |key| match key {
            S3::SecretAccessKey | S3::Token => true,
            // The encryption keys' type is not exported; its canonical names are.
            S3::Encryption(encryption) => encryption.as_ref() == "aws_sse_customer_key_base64",
            S3::Client(client) => client_secret(client),
            _ => false,
        });
        every.extend(judged::<Azure>(AZURE_KEYS, "azure_", |key| match key {
            Azure::AccessKey
            | Azure::ClientSecret
            | Azure::SasKey
            | Azure::Token
            | Azure::FabricSessionToken => true,
            Azure::Client(client) => client_secret(client),
            _ => false,
        }));
        every.extend(judged::<Google>(GOOGLE_KEYS, "google_", |key| match key {
            Google::ServiceAccountKey => true,
            Google::Client(client) => client_secret(client),
            _ => false,
        }));
        let shown_secrets: Vec<_> = every
            .iter()
            .filter(|(key, secret)| *secret && !is_secret(key))
            .collect();
        assert!(shown_secrets.is_empty(), "secrets shown: {shown_secrets:?}");
        // No secret, but named like one: hidden all the same.
        let hidden_more = ["azure_fabric_token_service_url", "fabric_token_service_url"];
        let hidden: Vec<_> = every
            .iter()
            .filter(|(key, secret)| !*secret && is_secret(key))
            .map(|(key, _)| key.as_str())
            .collect();
        assert_eq!(hidden, hidden_more);
        assert!(every.len() > 200, "{} keys", every.len());
        let shown = format!(
            "{:?}",
            SourceOptions::default()
                .with("access_key", "azure-key")
                .with("sse_customer_key_base64", "c3NlLWM=")
                .with("proxy_url", "http://user:hunter2@proxy:3128")
                .with("access_key_id", "AKIDEXAMPLE")
        );
        assert!(
            !shown.contains("azure-key")
                && !shown.contains("c3NlLWM=")
                && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(
            shown.contains("AKIDEXAMPLE"),
            "an access key id is no secret: {shown}"
        );
    }
}
