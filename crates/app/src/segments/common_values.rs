//! The common values of attributes, as the segment builder offers them for "is one of", kept
//! between page views: evaluated again only when the profile source changed (its files' sizes
//! and modification times; at most once a minute for a source whose files cannot be looked at).
//! A page view never waits for an evaluation: while another is reading values, or every place
//! of the evaluation pool is taken, the attributes not read yet take typed values.

use std::collections::HashMap;

use segsync_engine::CommonValue;

use super::member_counts::sources_state;
use crate::App;

/// The most values offered.
pub const CHOICES: usize = 25;

/// Each attribute's common values, with the state of the source they were read in.
#[derive(Default)]
pub(crate) struct CommonValues {
    read: std::sync::Mutex<HashMap<String, (u64, Vec<CommonValue>)>>,
    /// Held while values are read, so that page views at once read them once.
    reading: tokio::sync::Mutex<()>,
}

impl CommonValues {
    /// The common values of each of `attributes` that can be read; an attribute that cannot
    /// is left out (its row then takes typed values).
    pub(crate) async fn of(
        &self,
        app: &App,
        attributes: &[String],
    ) -> Vec<(String, Vec<CommonValue>)> {
        let settings = app.engine().settings();
        let Some(source) = settings.profiles.as_ref() else {
            return Vec::new();
        };
        let source = sources_state(source, &settings.related);
        let mut found: Vec<(String, Vec<CommonValue>)> = Vec::new();
        let mut unread = Vec::new();
        {
            let read = self.read();
            for attribute in attributes {
                if found.iter().any(|(known, _)| known == attribute) || unread.contains(attribute) {
                    continue;
                }
                match read.get(attribute) {
                    Some((read_in, values)) if *read_in == source => {
                        found.push((attribute.clone(), values.clone()));
                    }
                    _ => unread.push(attribute.clone()),
                }
            }
        }
        if unread.is_empty() {
            return found;
        }
        // Another page view is reading: this one does not wait.
        let Ok(_reading) = self.reading.try_lock() else {
            return found;
        };
        // Every place of the pool taken, or the profiles unreadable: typed values.
        let Ok(opened) = app.profiles_to_evaluate().await else {
            return found;
        };
        for attribute in unread {
            if let Ok(values) = opened.common_values(&attribute, CHOICES).await {
                self.read()
                    .insert(attribute.clone(), (source, values.clone()));
                found.push((attribute, values));
            }
        }
        found
    }

    fn read(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u64, Vec<CommonValue>)>> {
        self.read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
