//! The audit log (admins): who did what to what, newest first, filtered by user, action, kind
//! and days, a page at a time. The page calls the API's handler as the visitor.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::page::{Nav, Problems, failure, invalid, render};
use super::visitor::Visitor;
use crate::error::AppError;
use crate::state::AppState;
use segsync_app::users::{AuditEntryView, AuditQuery};

/// Entries on one page.
const PAGE: u32 = 50;

/// The filter as the form sends it: every field text, blank for any.
#[derive(Deserialize, Default, Clone)]
pub(crate) struct AuditForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    before: Option<i64>,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    nav: Nav,
    form: AuditForm,
    problems: Problems,
    entries: Vec<AuditEntryView>,
    /// Every user by id, for names and the filter.
    users: Vec<(Uuid, String)>,
    actions: Vec<String>,
    kinds: Vec<String>,
    /// The query of the next (older) page, when there is one.
    older: Option<String>,
}

impl AuditPage {
    fn actor(&self, entry: &AuditEntryView) -> String {
        match entry.actor_id {
            None => "command line or server".to_owned(),
            Some(id) => self
                .users
                .iter()
                .find(|(user, _)| *user == id)
                .map_or_else(|| id.to_string(), |(_, name)| name.clone()),
        }
    }

    /// The console page of the entry's object, when it has one.
    fn link(&self, entry: &AuditEntryView) -> Option<String> {
        let section = match entry.object_kind.as_str() {
            "export" => "exports",
            "segment" => "segments",
            "connection" => "connections",
            "run" => "runs",
            _ => return None,
        };
        entry
            .object_id
            .parse::<Uuid>()
            .ok()
            .map(|id| format!("/{section}/{id}"))
    }

    fn detail(&self, entry: &AuditEntryView) -> String {
        entry
            .detail
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(form): Query<AuditForm>,
) -> Response {
    let mut problems = Problems::default();
    let query = to_query(&form, &mut problems);
    match load(state, &visitor, form, query, problems).await {
        Ok(page) if page.problems.is_empty() => render(&page),
        Ok(page) => invalid(&page),
        Err(error) => failure(error),
    }
}

/// The API's query for the form, with each field that does not read noted in `problems`.
fn to_query(form: &AuditForm, problems: &mut Problems) -> AuditQuery {
    let mut day = |field: &str, text: &str| {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| problems.at(field, "a day as YYYY-MM-DD"))
            .ok()
    };
    let since = day("since", &form.since);
    let until = day("until", &form.until);
    let actor_id = match form.user.trim() {
        "" => None,
        id => match id.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                problems.at("user", "choose a user from the list");
                None
            }
        },
    };
    AuditQuery {
        before: form.before,
        // One more than shown tells whether an older page exists.
        limit: Some(PAGE + 1),
        actor_id,
        action: Some(form.action.trim().to_owned()),
        kind: Some(form.kind.trim().to_owned()),
        since,
        until,
    }
}

async fn load(
    state: AppState,
    visitor: &Visitor,
    form: AuditForm,
    query: AuditQuery,
    mut problems: Problems,
) -> Result<AuditPage, AppError> {
    let admin = state
        .app
        .user_admin(&visitor.caller, "read the audit log")?;
    let users = admin
        .all()
        .await?
        .into_iter()
        .map(|user| (user.id, user.username))
        .collect();
    let (actions, kinds) = admin.audit_vocabulary().await?;
    let mut entries = if problems.is_empty() {
        match admin.audit_log(&query).await {
            Ok(entries) => entries,
            Err(error) if error.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
                problems = Problems::from_error(&error);
                Vec::new()
            }
            Err(error) => return Err(error),
        }
    } else {
        Vec::new()
    };
    let older = (entries.len() > PAGE as usize).then(|| {
        entries.truncate(PAGE as usize);
        let last = entries.last().map_or(0, |entry| entry.id);
        older_query(&form, last)
    });
    Ok(AuditPage {
        nav: Nav::new(visitor, "audit"),
        form,
        problems,
        entries,
        users,
        actions,
        kinds,
        older,
    })
}

/// The query string of the page after the entry `last`, with the same filter.
fn older_query(form: &AuditForm, last: i64) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("user", &form.user),
        ("action", &form.action),
        ("kind", &form.kind),
        ("since", &form.since),
        ("until", &form.until),
    ] {
        if !value.is_empty() {
            query.append_pair(name, value);
        }
    }
    query.append_pair("before", &last.to_string());
    query.finish()
}
