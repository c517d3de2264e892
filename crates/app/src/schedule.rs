//! The system refresh schedule: everyone reads it with its next run; admins change it. Exports
//! without a schedule of their own run on it.

use chrono::{DateTime, Utc};
use segsync_domain::schedule::RefreshSchedule;
use segsync_runs::schedule::{SETTING, system_schedule};
use serde::Serialize;

use crate::App;
use crate::audit::{Subject, record};
use crate::caller::Admin;
use crate::error::AppError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ScheduleView {
    pub schedule: RefreshSchedule,
    /// When the schedule runs next; none while it is off.
    pub next_run: Option<DateTime<Utc>>,
}

impl ScheduleView {
    fn of(schedule: RefreshSchedule) -> Self {
        let next_run = schedule.next_after(Utc::now());
        Self { schedule, next_run }
    }
}

impl App {
    /// The system's refresh schedule, with its next run: every signed-in caller.
    pub async fn schedule(&self) -> Result<ScheduleView, AppError> {
        Ok(ScheduleView::of(system_schedule(self.store()).await?))
    }

    /// Changes the system's refresh schedule: admins.
    pub async fn change_schedule(
        &self,
        by: Admin<'_>,
        schedule: RefreshSchedule,
    ) -> Result<ScheduleView, AppError> {
        schedule
            .check()
            .map_err(|problem| AppError::invalid("schedule", problem))?;
        let value = serde_json::to_value(&schedule).expect("a schedule serialises");
        self.store().set_setting(SETTING, &value).await?;
        let subject = Subject {
            kind: "schedule",
            id: SETTING.to_owned(),
            name: "refresh schedule",
        };
        record(
            self.store(),
            Some(by.caller().user.id),
            "changed",
            subject,
            Some(value),
        )
        .await?;
        Ok(ScheduleView::of(schedule))
    }
}
