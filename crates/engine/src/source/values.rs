//! The values of one column of a source as text, streamed: how an exclusions source's addresses
//! are read.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::{SessionContext, col};
use futures_util::StreamExt;

use super::ProfileSource;
use crate::error::{EngineError, SourcePart};

impl ProfileSource {
    /// Calls `each` with every non-null value of `column`, as text; returns how many there were.
    pub async fn each_text(
        &self,
        column: &str,
        mut each: impl FnMut(&str),
    ) -> Result<u64, EngineError> {
        let ctx = SessionContext::new();
        let (frame, _) = self.read(&ctx, super::Reader::Node).await?;
        if frame.schema().field_with_unqualified_name(column).is_err() {
            return Err(self.problem(SourcePart::Format, format!("there is no column {column:?}")));
        }
        let mut batches = frame
            .select(vec![col(format!("\"{column}\""))])
            .map_err(|error| self.problem(SourcePart::Format, error.to_string()))?
            .execute_stream()
            .await
            .map_err(|error| self.problem(SourcePart::Format, error.to_string()))?;
        let mut count = 0;
        while let Some(batch) = batches.next().await {
            let batch =
                batch.map_err(|error| self.problem(SourcePart::Format, error.to_string()))?;
            let texts = cast(batch.column(0), &DataType::Utf8)
                .map_err(|error| self.problem(SourcePart::Format, error.to_string()))?;
            let texts = texts.as_string::<i32>();
            for row in 0..texts.len() {
                if texts.is_valid(row) {
                    each(texts.value(row));
                    count += 1;
                }
            }
        }
        Ok(count)
    }
}
