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

/// Whether a key's value must never be shown: passwords, secret keys, tokens, signatures.
fn is_secret(key: &str) -> bool {
    [
        "secret",
        "password",
        "token",
        "sas",
        "account_key",
        "service_account_key",
        "credential",
    ]
    .iter()
    .any(|word| key.contains(word))
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
}
