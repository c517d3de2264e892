//! A profile source in a configuration file: a string (`profiles = "profiles/*.parquet"`) or a
//! table with `location`, `format` and the options beside them.
//!
//! ```toml
//! [profiles]
//! location = "s3://crm-lake/profiles/"
//! format = "parquet"                       # guessed when absent
//! endpoint = "https://minio.internal:9000" # an S3-compatible store
//! access_key_id = "segsync"
//! secret_access_key_file = "/run/secrets/s3_secret"
//! ```

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};

use super::{ProfileFormat, ProfileSource};

#[derive(Deserialize)]
#[serde(untagged)]
enum SourceConfig {
    Location(String),
    Table {
        location: String,
        #[serde(default)]
        format: Option<String>,
        #[serde(flatten)]
        options: BTreeMap<String, OptionText>,
    },
}

/// An option's value: TOML numbers and booleans are read as text.
#[derive(Deserialize)]
#[serde(untagged)]
enum OptionText {
    Text(String),
    Integer(i64),
    Boolean(bool),
}

impl TryFrom<SourceConfig> for ProfileSource {
    type Error = String;

    fn try_from(config: SourceConfig) -> Result<Self, Self::Error> {
        match config {
            SourceConfig::Location(location) => Ok(ProfileSource::new(location)),
            SourceConfig::Table {
                location,
                format,
                options,
            } => {
                let mut source = ProfileSource::new(location);
                if let Some(name) = format {
                    source.format = Some(ProfileFormat::from_name(&name).ok_or_else(|| {
                        format!("format is parquet, csv, json, delta or postgres, not {name:?}")
                    })?);
                }
                for (key, value) in options {
                    let value = match value {
                        OptionText::Text(text) => text,
                        OptionText::Integer(number) => number.to_string(),
                        OptionText::Boolean(flag) => flag.to_string(),
                    };
                    source.options.set(&key, value);
                }
                Ok(source)
            }
        }
    }
}

impl<'de> Deserialize<'de> for ProfileSource {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let config = SourceConfig::deserialize(deserializer)?;
        ProfileSource::try_from(config).map_err(serde::de::Error::custom)
    }
}

/// As it may be shown or written back: no secret value, no password in the location.
impl Serialize for ProfileSource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let shown = self.options.shown();
        let mut map = serializer.serialize_map(Some(shown.len() + 2))?;
        map.serialize_entry("location", &self.display_location())?;
        if let Some(format) = self.format {
            map.serialize_entry("format", format.name())?;
        }
        for (key, value) in &shown {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Serialize)]
    struct File {
        profiles: ProfileSource,
    }

    #[test]
    fn a_source_is_a_string_or_a_table_of_options() {
        let plain: File = toml::from_str(r#"profiles = "profiles/*.parquet""#).unwrap();
        assert_eq!(plain.profiles, ProfileSource::new("profiles/*.parquet"));

        let table: File = toml::from_str(
            r#"
            [profiles]
            location = "s3://lake/profiles/"
            format = "delta"
            version = 3
            allow_http = true
            secret_access_key_env = "LAKE_SECRET"
            "#,
        )
        .unwrap();
        let source = table.profiles;
        assert_eq!(source.format, Some(ProfileFormat::Delta));
        assert_eq!(source.options.get("version").unwrap().as_deref(), Some("3"));
        assert_eq!(
            source.options.get("allow_http").unwrap().as_deref(),
            Some("true")
        );
        assert!(source.options.contains("secret_access_key"));

        let written = toml::to_string(&File { profiles: source }).unwrap();
        assert!(
            written.contains("secret_access_key_env = \"LAKE_SECRET\""),
            "{written}"
        );

        let wrong = toml::from_str::<File>("[profiles]\nlocation = \"p\"\nformat = \"xlsx\"\n");
        assert!(wrong.is_err_and(|e| e.to_string().contains("xlsx")));
    }
}
