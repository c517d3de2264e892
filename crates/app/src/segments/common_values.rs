//! The common values of attributes, as the segment builder offers them for "is one of", kept
//! between page views: evaluated again only when the profile source changed (its files' sizes
//! and modification times; at most once a minute for a source whose files cannot be looked at).

use std::collections::HashMap;

use segsync_engine::CommonValue;

use super::member_counts::source_state;
use crate::App;

/// The most values offered.
pub const CHOICES: usize = 25;

/// Each attribute's common values, with the state of the source they were read in.
#[derive(Default)]
pub(crate) struct CommonValues {
    read: tokio::sync::Mutex<HashMap<String, (u64, Vec<CommonValue>)>>,
}

impl CommonValues {
    /// The common values of each of `attributes` that can be read; an attribute that cannot
    /// is left out (its row then takes typed values).
    pub(crate) async fn of(
        &self,
        app: &App,
        attributes: &[String],
    ) -> Vec<(String, Vec<CommonValue>)> {
        let Some(source) = app.engine().settings().profiles.as_ref() else {
            return Vec::new();
        };
        let source = source_state(&source.location);
        let mut read = self.read.lock().await;
        let mut profiles_opened = None;
        let mut found = Vec::new();
        for attribute in attributes {
            if found.iter().any(|(known, _)| known == attribute) {
                continue;
            }
            if let Some((read_in, values)) = read.get(attribute)
                && *read_in == source
            {
                found.push((attribute.clone(), values.clone()));
                continue;
            }
            if profiles_opened.is_none() {
                match app.profiles().await {
                    Ok(opened) => profiles_opened = Some(opened),
                    Err(_) => return found,
                }
            }
            let Some(opened) = profiles_opened.as_ref() else {
                return found;
            };
            if let Ok(values) = opened.common_values(attribute, CHOICES).await {
                read.insert(attribute.clone(), (source, values.clone()));
                found.push((attribute.clone(), values));
            }
        }
        found
    }
}
