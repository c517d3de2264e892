//! Object stores for profiles in S3 (and S3-compatible stores), Google Cloud Storage and Azure
//! Blob. Credentials come from the source's options, else from the platform's usual chain
//! (environment variables, the instance's or pod's identity) as `object_store` reads it.

use std::str::FromStr;
use std::sync::Arc;

use datafusion::error::DataFusionError;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, ObjectStoreScheme};
use url::Url;

use super::options::SourceOptions;
use crate::error::SourcePart;

/// A location in an object store: the store, the URL of its root (scheme and bucket) and the
/// path inside it.
#[derive(Debug, Clone)]
pub(crate) struct StoreLocation {
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) root: Url,
    pub(crate) path: StorePath,
}

/// What went wrong, and in which part of the source.
pub(crate) type Failure = (SourcePart, String);

/// Builds the object store a `scheme://bucket/path` URL names, from the options that are not
/// the format's own.
pub(crate) fn store_for(
    url: &Url,
    options: &SourceOptions,
    format_keys: &[&str],
) -> Result<StoreLocation, Failure> {
    let (scheme, path) =
        ObjectStoreScheme::parse(url).map_err(|error| (SourcePart::Path, error.to_string()))?;
    let settings = options
        .resolved_except(format_keys)
        .map_err(|error| (SourcePart::Options, error.to_string()))?;
    let store: Arc<dyn ObjectStore> = match scheme {
        ObjectStoreScheme::AmazonS3 => {
            let builder = AmazonS3Builder::from_env().with_url(url.as_str());
            let builder = configured(
                builder,
                settings,
                "S3",
                |builder, key: AmazonS3ConfigKey, value| builder.with_config(key, value),
            )?;
            Arc::new(
                builder
                    .build()
                    .map_err(|error| configuration_failure(&error))?,
            )
        }
        ObjectStoreScheme::GoogleCloudStorage => {
            let builder = GoogleCloudStorageBuilder::from_env().with_url(url.as_str());
            let builder = configured(
                builder,
                settings,
                "Google Cloud Storage",
                |builder, key: GoogleConfigKey, value| builder.with_config(key, value),
            )?;
            Arc::new(
                builder
                    .build()
                    .map_err(|error| configuration_failure(&error))?,
            )
        }
        ObjectStoreScheme::MicrosoftAzure => {
            let builder = MicrosoftAzureBuilder::from_env().with_url(url.as_str());
            let builder = configured(
                builder,
                settings,
                "Azure Blob Storage",
                |builder, key: AzureConfigKey, value| builder.with_config(key, value),
            )?;
            Arc::new(
                builder
                    .build()
                    .map_err(|error| configuration_failure(&error))?,
            )
        }
        _ => {
            return Err((
                SourcePart::Path,
                format!(
                    "{}:// is not a location profiles can be read from: use a path, s3://, gs:// or az://",
                    url.scheme()
                ),
            ));
        }
    };
    let root = Url::parse(&format!(
        "{}://{}",
        url.scheme(),
        url.host_str().unwrap_or_default()
    ))
    .map_err(|error| (SourcePart::Path, error.to_string()))?;
    Ok(StoreLocation { store, root, path })
}

/// A store's builder with every setting applied; a key the store does not know is refused.
fn configured<B, K: FromStr>(
    builder: B,
    settings: Vec<(String, String)>,
    store: &str,
    with_config: impl Fn(B, K, String) -> B,
) -> Result<B, Failure> {
    settings
        .into_iter()
        .try_fold(builder, |builder, (key, value)| match K::from_str(&key) {
            Ok(parsed) => Ok(with_config(builder, parsed, value)),
            Err(_) => Err((
                SourcePart::Options,
                format!("{key:?} is not an option of {store} nor of the source's format"),
            )),
        })
}

fn configuration_failure(error: &object_store::Error) -> Failure {
    (SourcePart::Options, error.to_string())
}

/// What a location holds, from its first entries: whether it is a Delta table, and the first
/// file name, for guessing the format. Fails when nothing is there or the store refuses.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) delta_log: bool,
    pub(crate) first_file: Option<String>,
}

pub(crate) async fn look_at(location: &StoreLocation) -> Result<Listing, Failure> {
    if location.path.extension().is_some() && !location.path.as_ref().contains(['*', '?', '[']) {
        return match location.store.head(&location.path).await {
            Ok(_) => Ok(Listing {
                delta_log: false,
                first_file: Some(location.path.to_string()),
            }),
            Err(error) => Err(store_failure(&error)),
        };
    }
    let prefix = glob_free_prefix(&location.path);
    let mut entries = location.store.list(Some(&prefix));
    let mut listing = Listing::default();
    let mut seen = 0;
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(|error| store_failure(&error))?;
        seen += 1;
        let name = entry.location.as_ref();
        if name.contains("_delta_log/") {
            listing.delta_log = true;
        } else if listing.first_file.is_none() {
            listing.first_file = Some(name.to_owned());
        }
        if seen >= 100 || (listing.delta_log && listing.first_file.is_some()) {
            break;
        }
    }
    if seen == 0 {
        return Err((
            SourcePart::Path,
            "nothing is stored at this location".to_owned(),
        ));
    }
    Ok(listing)
}

/// The folder a glob such as `profiles/part-*.parquet` lists.
fn glob_free_prefix(path: &StorePath) -> StorePath {
    let parts: Vec<_> = path
        .parts()
        .take_while(|part| !part.as_ref().contains(['*', '?', '[']))
        .collect();
    StorePath::from_iter(parts)
}

/// Which part of the source a store's error points at.
pub(crate) fn store_failure(error: &object_store::Error) -> Failure {
    let part = match error {
        object_store::Error::NotFound { .. } | object_store::Error::InvalidPath { .. } => {
            SourcePart::Path
        }
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => SourcePart::Credentials,
        object_store::Error::UnknownConfigurationKey { .. } => SourcePart::Options,
        other => {
            let text = other.to_string();
            if mentions_credentials(&text) {
                SourcePart::Credentials
            } else {
                SourcePart::Connection
            }
        }
    };
    (part, error.to_string())
}

fn mentions_credentials(text: &str) -> bool {
    [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "AuthenticationFailed",
        "credential",
        "Credential",
    ]
    .iter()
    .any(|word| text.contains(word))
}

/// The part a DataFusion error points at, when an object store's error is inside it.
pub(crate) fn query_failure(error: &DataFusionError) -> Option<Failure> {
    match error.find_root() {
        DataFusionError::ObjectStore(error) => Some(store_failure(error)),
        _ => None,
    }
}
