//! What the export form holds, and its conversions: from a stored export, from the submitted
//! fields, and to the API's form.

use segsync_domain::{RemovalGuards, Share, VerifySchedule};
use segsync_export::SyncMode;
use uuid::Uuid;

use crate::console::fields::Fields;
use crate::console::page::Problems;
use crate::console::schedule_form::{self, ScheduleFields};
use segsync_app::exports::{ExportForm, ExportView};

/// A row of data matching: a Constant Contact field and the attribute that fills it.
pub(super) struct MatchRow {
    pub(super) field: String,
    pub(super) attribute: String,
}

/// What the form holds, whether from a stored export or as submitted.
pub(super) struct Draft {
    pub(super) name: String,
    pub(super) connection_id: String,
    pub(super) list_id: String,
    pub(super) email: String,
    pub(super) rows: Vec<MatchRow>,
    pub(super) segment_ids: Vec<Uuid>,
    pub(super) schedule: ScheduleFields,
    pub(super) sync_mode: String,
    /// The guards as percentages, as written.
    pub(super) max_removal_percent: String,
    pub(super) max_member_drop_percent: String,
    /// When the list is read back: `after_run`, `daily` or `off`.
    pub(super) verify: String,
}

/// A share as the percentage the form shows: `20`, `12.5`.
fn percent(share: Share) -> String {
    (share.fraction() * 100.0).to_string()
}

/// A percentage from the form as a share, or the problem with it.
fn share_of(percent: &str) -> Result<Share, &'static str> {
    percent
        .trim()
        .trim_end_matches('%')
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(|percent| Share::from_fraction(percent / 100.0))
        .ok_or("a percentage from 0 to 100")
}

impl Draft {
    pub(super) fn empty() -> Self {
        Self {
            name: String::new(),
            connection_id: String::new(),
            list_id: String::new(),
            email: String::new(),
            rows: vec![
                MatchRow {
                    field: "first_name".to_owned(),
                    attribute: String::new(),
                },
                MatchRow {
                    field: "last_name".to_owned(),
                    attribute: String::new(),
                },
            ],
            segment_ids: Vec::new(),
            schedule: ScheduleFields::of(None, true),
            sync_mode: SyncMode::default().as_str().to_owned(),
            max_removal_percent: percent(RemovalGuards::default().max_removal_share),
            max_member_drop_percent: percent(RemovalGuards::default().max_member_drop),
            verify: VerifySchedule::default().as_str().to_owned(),
        }
    }

    pub(super) fn of(view: &ExportView) -> Self {
        let mapping: Vec<(String, String)> = view
            .mapping
            .iter()
            .map(|(field, attribute)| (field.clone(), attribute.clone()))
            .collect();
        let schedule = view.schedule_override.clone();
        Self {
            name: view.name.clone(),
            connection_id: view
                .connection_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            list_id: view.list_id.to_string(),
            email: mapping
                .iter()
                .find(|(field, _)| field == "email")
                .map(|(_, attribute)| attribute.clone())
                .unwrap_or_default(),
            rows: mapping
                .into_iter()
                .filter(|(field, _)| field != "email")
                .map(|(field, attribute)| MatchRow { field, attribute })
                .chain(std::iter::once(MatchRow {
                    field: String::new(),
                    attribute: String::new(),
                }))
                .collect(),
            segment_ids: view.segment_ids.clone(),
            schedule: ScheduleFields::of(schedule.as_ref(), true),
            sync_mode: view.sync_mode.as_str().to_owned(),
            max_removal_percent: percent(view.guards.max_removal_share),
            max_member_drop_percent: percent(view.guards.max_member_drop),
            verify: view.verify.as_str().to_owned(),
        }
    }

    pub(super) fn submitted(fields: &Fields) -> Self {
        let mut rows = Vec::new();
        let mut index = 0;
        while fields.has(&format!("field.{index}")) {
            rows.push(MatchRow {
                field: fields.get(&format!("field.{index}")).to_owned(),
                attribute: fields.get(&format!("attribute.{index}")).to_owned(),
            });
            index += 1;
        }
        Self {
            name: fields.get("name").to_owned(),
            connection_id: fields.get("connection_id").to_owned(),
            list_id: fields.get("list_id").trim().to_owned(),
            email: fields.get("email").to_owned(),
            rows,
            segment_ids: fields
                .all("segment")
                .into_iter()
                .filter_map(|id| id.parse().ok())
                .collect(),
            schedule: ScheduleFields::as_typed(fields, true),
            sync_mode: fields.get("sync_mode").to_owned(),
            max_removal_percent: fields.get("max_removal_percent").to_owned(),
            max_member_drop_percent: fields.get("max_member_drop_percent").to_owned(),
            verify: fields.get("verify").to_owned(),
        }
    }

    /// The API's form, or the problems that stop it being one.
    pub(super) fn form(&self, fields: &Fields) -> Result<ExportForm, Problems> {
        let mut problems = Problems::default();
        let connection_id = self.connection_id.parse().map_err(|_| {
            problems.at("connection_id", "choose a connection");
        });
        let list_id = self.list_id.parse().map_err(|_| {
            problems.at(
                "list_id",
                "a List ID looks like 8-4-4-4-12 hexadecimal digits",
            );
        });
        let schedule_override = schedule_form::read(fields).map_err(|problem| {
            problems.at("schedule_override", problem);
        });
        let sync_mode = self.sync_mode.parse::<SyncMode>().map_err(|problem| {
            problems.at("sync_mode", problem);
        });
        let max_removal_share = share_of(&self.max_removal_percent).map_err(|problem| {
            problems.at("max_removal_percent", problem);
        });
        let max_member_drop = share_of(&self.max_member_drop_percent).map_err(|problem| {
            problems.at("max_member_drop_percent", problem);
        });
        let verify = self.verify.parse::<VerifySchedule>().map_err(|problem| {
            problems.at("verify", problem);
        });
        let (
            Ok(connection_id),
            Ok(list_id),
            Ok(schedule_override),
            Ok(sync_mode),
            Ok(max_removal_share),
            Ok(max_member_drop),
            Ok(verify),
        ) = (
            connection_id,
            list_id,
            schedule_override,
            sync_mode,
            max_removal_share,
            max_member_drop,
            verify,
        )
        else {
            return Err(problems);
        };
        let mut mapping = std::collections::BTreeMap::new();
        if !self.email.is_empty() {
            mapping.insert("email".to_owned(), self.email.clone());
        }
        for row in &self.rows {
            if !row.field.is_empty() && !row.attribute.is_empty() {
                mapping.insert(row.field.clone(), row.attribute.clone());
            }
        }
        Ok(ExportForm {
            name: self.name.clone(),
            connection_id,
            list_id,
            mapping,
            segment_ids: self.segment_ids.clone(),
            schedule_override,
            sync_mode,
            guards: RemovalGuards {
                max_removal_share,
                max_member_drop,
            },
            verify,
        })
    }
}
