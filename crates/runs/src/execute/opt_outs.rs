//! Opt-outs brought home before a run sends: the connection's contacts that unsubscribed since
//! its watermark, paged from `GET /contacts?status=unsubscribed&updated_after=`, each page's
//! request reserved from the quota first. They are kept per connection, and the ledger every run
//! loads marks them unsubscribed, so no export of the connection sends them again — a full
//! resync included. Constant Contact has no webhooks for contact changes: asking is the way.

use chrono::{DateTime, Utc};
use constant_contact::budget::next_utc_midnight;
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use segsync_domain::ChainExt;
use segsync_export::{ExportError, ExportFailure, Step, first_opt_outs_page, next_opt_outs_page};
use segsync_store::OptOut;
use std::sync::Arc;
use tracing::{info, warn};

use super::{Prepared, RunContext, client_failure};
use crate::failure::RunFailure;
use crate::quota::SharedQuota;

/// Opt-outs written back per append.
const WRITE_BACK_CHUNK: u32 = 50_000;

/// Appends every opt-out not yet written back to the location `[opt_outs] write_to` names, in
/// chunks; each chunk is marked written once it is. A failure is logged and the opt-outs wait
/// for the next run: learning them (and never sending them) does not depend on it. With several
/// processes a chunk may be appended twice, never lost.
pub(super) async fn write_back(context: &RunContext) {
    let Some(target) = &context.opt_outs_write_to else {
        return;
    };
    loop {
        let pending = match context.store.opt_outs_to_write_back(WRITE_BACK_CHUNK).await {
            Ok(pending) if pending.is_empty() => return,
            Ok(pending) => pending,
            Err(error) => {
                warn!(error = %error.chain(), "The opt-outs to write back could not be read.");
                return;
            }
        };
        if let Err(error) = target.append(opt_outs_batch(&pending), "opt-outs").await {
            warn!(error = %error.chain(), target = %target.display_location(), "Opt-outs could not be written back; the next run tries again.");
            return;
        }
        if let Err(error) = context.store.opt_outs_written_back(&pending).await {
            warn!(error = %error.chain(), "Opt-outs written back could not be marked so.");
            return;
        }
        info!(opt_outs = pending.len(), target = %target.display_location(), "Opt-outs were written back.");
        if pending.len() < WRITE_BACK_CHUNK as usize {
            return;
        }
    }
}

/// The columns written back: email, contact_id, opted_out_at, opt_out_source, reason,
/// connection_id, learned_at (times in UTC, microseconds).
fn opt_outs_batch(opt_outs: &[OptOut]) -> RecordBatch {
    let text = |each: &dyn Fn(&OptOut) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(
            opt_outs.iter().map(each).collect::<Vec<Option<String>>>(),
        ))
    };
    let time = |each: &dyn Fn(&OptOut) -> Option<i64>| -> ArrayRef {
        Arc::new(
            TimestampMicrosecondArray::from(opt_outs.iter().map(each).collect::<Vec<_>>())
                .with_timezone("UTC"),
        )
    };
    let utc = Some(Arc::from("UTC"));
    let schema = Arc::new(Schema::new(vec![
        Field::new("email", DataType::Utf8, false),
        Field::new("contact_id", DataType::Utf8, true),
        Field::new(
            "opted_out_at",
            DataType::Timestamp(TimeUnit::Microsecond, utc.clone()),
            true,
        ),
        Field::new("opt_out_source", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, true),
        Field::new("connection_id", DataType::Utf8, false),
        Field::new(
            "learned_at",
            DataType::Timestamp(TimeUnit::Microsecond, utc),
            false,
        ),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            text(&|o| Some(o.email.clone())),
            text(&|o| o.contact_id.map(|id| id.to_string())),
            time(&|o| {
                o.opted_out_at
                    .as_deref()
                    .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
                    .map(|at| at.timestamp_micros())
            }),
            text(&|o| o.opt_out_source.clone()),
            text(&|o| o.reason.clone()),
            text(&|o| Some(o.connection_id.to_string())),
            time(&|o| Some(o.learned_at.timestamp_micros())),
        ],
    )
    .expect("the columns match the schema")
}

/// Learns the connection's opt-outs since its watermark; returns how many were new.
pub(super) async fn learn(
    context: &RunContext,
    prepared: &Prepared,
    quota: &SharedQuota,
) -> Result<u64, RunFailure> {
    let connection_id = prepared.connection.id;
    let watermark = context.store.opt_outs_watermark(connection_id).await?;
    let client = &prepared.client;
    let mut found = Vec::new();
    let mut latest: Option<(DateTime<Utc>, String)> = None;
    reserve_one(context, quota).await?;
    let mut page = first_opt_outs_page(client, watermark.as_deref())
        .await
        .map_err(|error| poll_failure(prepared, error))?;
    loop {
        found.extend(page.opt_outs.drain(..).map(|learned| OptOut {
            connection_id,
            email: learned.email,
            email_key: learned.email_key,
            contact_id: Some(learned.contact_id),
            opted_out_at: learned.opted_out_at,
            opt_out_source: learned.opt_out_source,
            reason: learned.reason,
            learned_at: Utc::now(),
        }));
        if let Some(update) = page.latest_update.take()
            && latest.as_ref().is_none_or(|(seen, _)| update.0 > *seen)
        {
            latest = Some(update);
        }
        let Some(next) = page.next.take() else { break };
        reserve_one(context, quota).await?;
        page = next_opt_outs_page(client, &next)
            .await
            .map_err(|error| poll_failure(prepared, error))?;
    }
    let new = context
        .store
        .record_opt_outs(
            connection_id,
            &found,
            latest.as_ref().map(|(_, text)| text.as_str()),
        )
        .await?;
    if new > 0 {
        info!(connection = %connection_id, new, "Opt-outs were learned from Constant Contact.");
    }
    Ok(new)
}

/// What a failed poll of the opt-outs means for the run: a quota Constant Contact says is used
/// up makes it wait for the reset (and pauses the key, as a run's send does); anything else fails
/// it before anything is sent.
fn poll_failure(prepared: &Prepared, error: constant_contact::Error) -> RunFailure {
    match error {
        constant_contact::Error::QuotaExceeded { resets_at } => RunFailure::QuotaExceeded {
            resets_at,
            sent: 0,
            source: ExportFailure::ConstantContact {
                step: Step::ReadingOptOuts,
                source: Arc::new(error),
            },
        },
        other => client_failure(&prepared.connection, other),
    }
}

/// Reserves one request of the day's quota, or says the run must wait for the reset.
async fn reserve_one(context: &RunContext, quota: &SharedQuota) -> Result<(), RunFailure> {
    match context
        .store
        .reserve_requests(&quota.api_key, quota.day, 1, quota.requests_per_day)
        .await?
    {
        Ok(()) => {
            quota.note_reserved(1);
            Ok(())
        }
        Err(left) => Err(RunFailure::OverQuotaToday {
            until: next_utc_midnight(Utc::now()),
            source: ExportError::OverQuota {
                members: 0,
                needed: 1,
                left,
            },
        }),
    }
}
