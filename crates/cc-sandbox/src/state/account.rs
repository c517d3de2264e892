//! The account's lasting part — its lists, custom fields and contacts, and the tokens it granted
//! — saved to a file and read back, so that a sandbox started again from the file is the same
//! Constant Contact account: the lists hold their contacts, and connections stay authorised.
//! What passes (activities, export files, the request log, the day's quota) is not kept.

use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SandboxState;
use super::contacts::ContactStore;
use super::custom_fields::CustomFieldStore;
use super::lists::ListStore;
use super::oauth::Grants;

/// The account as it is written.
#[derive(Serialize)]
struct AccountRef<'a> {
    lists: &'a ListStore,
    custom_fields: &'a CustomFieldStore,
    contacts: &'a ContactStore,
    grants: &'a Grants,
}

/// The account as it is read back.
#[derive(Deserialize)]
struct Account {
    lists: ListStore,
    custom_fields: CustomFieldStore,
    contacts: ContactStore,
    grants: Grants,
}

/// An account file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum AccountFileError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a sandbox account: {source}")]
    Format {
        path: String,
        source: serde_json::Error,
    },
}

impl SandboxState {
    /// Writes the account to `path`, whole or not at all: into a file beside it, then renamed
    /// over it.
    pub fn save_account(&self, path: &Path) -> Result<(), AccountFileError> {
        let io = |source| AccountFileError::Io {
            path: path.display().to_string(),
            source,
        };
        let partial = path.with_extension("partial");
        let mut writer = BufWriter::new(std::fs::File::create(&partial).map_err(io)?);
        {
            let inner = self.lock();
            let account = AccountRef {
                lists: &inner.lists,
                custom_fields: &inner.custom_fields,
                contacts: &inner.contacts,
                grants: inner.oauth.grants(),
            };
            serde_json::to_writer(&mut writer, &account).map_err(|source| {
                AccountFileError::Format {
                    path: path.display().to_string(),
                    source,
                }
            })?;
        }
        writer.flush().map_err(io)?;
        writer
            .into_inner()
            .map_err(|error| io(error.into_error()))?
            .sync_all()
            .map_err(io)?;
        std::fs::rename(&partial, path).map_err(io)
    }

    /// Replaces the account — lists, custom fields, contacts and tokens — with the one saved in
    /// `path`.
    pub fn load_account(&self, path: &Path) -> Result<(), AccountFileError> {
        let file = std::fs::File::open(path).map_err(|source| AccountFileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let account: Account = serde_json::from_reader(BufReader::new(file)).map_err(|source| {
            AccountFileError::Format {
                path: path.display().to_string(),
                source,
            }
        })?;
        let mut inner = self.lock();
        inner.lists = account.lists;
        inner.custom_fields = account.custom_fields;
        inner.contacts = account.contacts;
        inner.oauth.restore_grants(account.grants);
        Ok(())
    }
}
