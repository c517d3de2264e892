//! A segment's first members, every attribute as text, as a preview shows them.

use segsync_engine::datafusion::arrow::array::Array;
use segsync_engine::datafusion::arrow::record_batch::RecordBatch;
use segsync_engine::datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::Serialize;

use crate::error::{AppError, Code};

/// Members shown by a preview.
pub(crate) const PREVIEW_ROWS: usize = 100;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub members: u64,
    /// The first members, every attribute as text (null when missing).
    pub sample: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// Each row of `batches` as attribute → text (null when missing).
pub(crate) fn rows_as_text(
    batches: &[RecordBatch],
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, AppError> {
    let mut sample = Vec::new();
    let options = FormatOptions::default();
    for batch in batches {
        let schema = batch.schema();
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
            .collect::<Result<_, _>>()
            .map_err(|error| AppError::new(Code::Internal, error.to_string()))?;
        for row in 0..batch.num_rows() {
            let mut member = serde_json::Map::new();
            for (i, field) in schema.fields().iter().enumerate() {
                let value = if batch.column(i).is_null(row) {
                    serde_json::Value::Null
                } else {
                    serde_json::Value::String(formatters[i].value(row).to_string())
                };
                member.insert(field.name().clone(), value);
            }
            sample.push(member);
        }
    }
    Ok(sample)
}
