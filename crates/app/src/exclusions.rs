//! Exclusions: addresses no export may ever send, whatever the segments hold. Admins add and
//! remove them (typed, pasted or uploaded as a CSV of emails); the store keeps only their keyed
//! hashes (HMAC-SHA-256 with the installation's own key), and the audit log only how many
//! changed. The exclusions source of the configuration adds its addresses at every run.

use chrono::{DateTime, Utc};
use segsync_domain::Email;
use segsync_export::keyed_hash;
use segsync_runs::installation_hash_key;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::App;
use crate::audit::{Subject, record};
use crate::caller::Admin;
use crate::error::{AppError, Code};
use crate::secrets::to_hex;

/// Addresses to add or remove: one per line, or a CSV whose header names an `email` column.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ExclusionsForm {
    pub emails: Vec<String>,
}

/// A value that is not an address, by its place in what was given.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RefusedAddress {
    /// 1-based.
    pub line: usize,
    pub value: String,
    pub problem: String,
}

/// What a change did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExclusionsChange {
    /// Added (or removed) now.
    pub changed: u64,
    /// Valid addresses that were excluded already (or, removing, were not).
    pub unchanged: u64,
    pub refused: Vec<RefusedAddress>,
}

/// One stored exclusion: its keyed hash, never the address.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExclusionView {
    pub hash: String,
    pub added_by: Option<Uuid>,
    pub added_at: DateTime<Utc>,
}

/// The exclusions: those stored, and where the configured source is.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExclusionsView {
    pub stored: Vec<ExclusionView>,
    /// The exclusions source every run also reads, when one is configured.
    pub source: Option<String>,
}

/// Reads addresses one per line, or from the `email` column of a CSV with a header.
pub fn addresses_in(text: &str) -> Vec<(usize, String)> {
    let mut lines = text.lines().enumerate().peekable();
    let header = lines.peek().map(|(_, line)| line.to_owned());
    let column = header.and_then(|header| {
        csv_fields(header)
            .iter()
            .position(|field| field.trim().eq_ignore_ascii_case("email"))
    });
    if column.is_some() {
        lines.next();
    }
    lines
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let value = match column {
                Some(column) => csv_fields(line).get(column).cloned().unwrap_or_default(),
                None => line.to_owned(),
            };
            (index + 1, value.trim().to_owned())
        })
        .collect()
}

/// The addresses in what was given (each entry one per line, or a CSV's `email` column), and
/// the values refused by their line counted across the entries; an error when there is nothing.
pub(crate) fn parse_addresses(
    entries: &[String],
) -> Result<(Vec<Email>, Vec<RefusedAddress>), AppError> {
    let mut emails = Vec::new();
    let mut refused = Vec::new();
    let mut line_offset = 0;
    for entry in entries {
        for (line, value) in addresses_in(entry) {
            match Email::parse(&value) {
                Ok(email) => emails.push(email),
                Err(problem) => refused.push(RefusedAddress {
                    line: line_offset + line,
                    value,
                    problem: problem.to_string(),
                }),
            }
        }
        line_offset += entry.lines().count();
    }
    if emails.is_empty() && refused.is_empty() {
        return Err(AppError::new(
            Code::Invalid,
            "emails: give at least one address, one per line or as a CSV with an email column",
        ));
    }
    Ok((emails, refused))
}

fn csv_fields(line: &str) -> Vec<String> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes())
        .records()
        .next()
        .and_then(Result::ok)
        .map(|record| record.iter().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Keeping exclusions: admins.
pub struct ExclusionAdmin<'a> {
    app: &'a App,
    by: Admin<'a>,
}

impl<'a> ExclusionAdmin<'a> {
    pub(crate) fn new(app: &'a App, by: Admin<'a>) -> Self {
        Self { app, by }
    }

    pub async fn list(&self) -> Result<ExclusionsView, AppError> {
        let stored = self
            .app
            .store()
            .exclusions()
            .await?
            .into_iter()
            .map(|exclusion| ExclusionView {
                hash: exclusion.hash,
                added_by: exclusion.added_by,
                added_at: exclusion.added_at,
            })
            .collect();
        let source = self
            .app
            .engine()
            .settings()
            .exclusions_source
            .as_ref()
            .map(|source| source.source.display_location());
        Ok(ExclusionsView { stored, source })
    }

    /// Excludes the addresses given (each line of each entry is one, or a CSV's `email`
    /// column); values that are not addresses are refused by line, the rest kept.
    pub async fn add(&self, form: &ExclusionsForm) -> Result<ExclusionsChange, AppError> {
        let (hashes, refused) = self.hashes_of(form).await?;
        let changed = self
            .app
            .store()
            .add_exclusions(&hashes, self.by.caller().user.id)
            .await?;
        self.audit("excluded", changed).await?;
        Ok(ExclusionsChange {
            changed,
            unchanged: hashes.len() as u64 - changed,
            refused,
        })
    }

    /// Lets exports send the addresses given again.
    pub async fn remove(&self, form: &ExclusionsForm) -> Result<ExclusionsChange, AppError> {
        let (hashes, refused) = self.hashes_of(form).await?;
        let changed = self.app.store().remove_exclusions(&hashes).await?;
        self.audit("unexcluded", changed).await?;
        Ok(ExclusionsChange {
            changed,
            unchanged: hashes.len() as u64 - changed,
            refused,
        })
    }

    async fn hashes_of(
        &self,
        form: &ExclusionsForm,
    ) -> Result<(Vec<String>, Vec<RefusedAddress>), AppError> {
        let key = installation_hash_key(self.app.store(), self.app.engine().clients().sealer())
            .await
            .map_err(AppError::internal)?;
        let (emails, refused) = parse_addresses(&form.emails)?;
        let mut hashes = Vec::new();
        for email in &emails {
            let hash = to_hex(&keyed_hash(&key, email.as_str()));
            if !hashes.contains(&hash) {
                hashes.push(hash);
            }
        }
        Ok((hashes, refused))
    }

    /// Audited by how many changed, never which.
    async fn audit(&self, action: &str, changed: u64) -> Result<(), AppError> {
        let subject = Subject {
            kind: "exclusions",
            id: "exclusions".to_owned(),
            name: "exclusions",
        };
        record(
            self.app.store(),
            Some(self.by.caller().user.id),
            action,
            subject,
            Some(serde_json::json!({ "addresses": changed })),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_come_one_per_line_or_from_a_csv_email_column() {
        assert_eq!(
            addresses_in("a@example.com\n\n b@example.com \n"),
            [
                (1, "a@example.com".to_owned()),
                (3, "b@example.com".to_owned())
            ]
        );
        assert_eq!(
            addresses_in("id,Email,name\n1,c@example.com,C\n2,\"d@example.com\",\"D, d\"\n"),
            [
                (2, "c@example.com".to_owned()),
                (3, "d@example.com".to_owned())
            ]
        );
    }
}
