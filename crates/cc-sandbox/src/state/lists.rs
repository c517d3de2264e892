//! Contact lists: at most 1,000 per account, names unique.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest list name and description Constant Contact accepts.
pub const MAX_LIST_NAME: usize = 255;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ListRecord {
    pub(crate) list_id: Uuid,
    /// Position in creation order; contacts refer to lists by it.
    pub(crate) index: u32,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) favorite: bool,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CreateListError {
    NameTaken,
    TooManyLists,
    InvalidName(String),
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct ListStore {
    lists: Vec<ListRecord>,
    by_id: HashMap<Uuid, u32>,
}

impl ListStore {
    pub(crate) fn create(
        &mut self,
        name: &str,
        description: Option<String>,
        favorite: bool,
        max_lists: usize,
        now: DateTime<Utc>,
    ) -> Result<&ListRecord, CreateListError> {
        let trimmed = name.trim();
        if trimmed.is_empty() {
            return Err(CreateListError::InvalidName(
                "The list name is required.".to_owned(),
            ));
        }
        if name.chars().count() > MAX_LIST_NAME {
            return Err(CreateListError::InvalidName(format!(
                "The list name must be at most {MAX_LIST_NAME} characters."
            )));
        }
        // Names are compared without regard to case: the stricter reading of "unique".
        if self
            .lists
            .iter()
            .any(|list| list.name.eq_ignore_ascii_case(name))
        {
            return Err(CreateListError::NameTaken);
        }
        if self.lists.len() >= max_lists {
            return Err(CreateListError::TooManyLists);
        }
        let index = u32::try_from(self.lists.len()).expect("at most max_lists lists");
        let list = ListRecord {
            list_id: Uuid::new_v4(),
            index,
            name: name.to_owned(),
            description,
            favorite,
            created_at: now,
            updated_at: now,
        };
        self.by_id.insert(list.list_id, index);
        self.lists.push(list);
        Ok(&self.lists[index as usize])
    }

    pub(crate) fn get(&self, list_id: Uuid) -> Option<&ListRecord> {
        self.by_id
            .get(&list_id)
            .map(|index| &self.lists[*index as usize])
    }

    pub(crate) fn id_of(&self, index: u32) -> Option<Uuid> {
        self.lists.get(index as usize).map(|list| list.list_id)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &ListRecord> {
        self.lists.iter()
    }
}
