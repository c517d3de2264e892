//! The values an attribute takes most often, with how many profiles have each: what a segment
//! builder offers for "is one of".

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{cast, col, ident, lit};

use crate::error::EngineError;
use crate::profiles::Profiles;

/// One value of an attribute and how many profiles have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommonValue {
    /// The value as text, as a segment's literal writes it.
    pub value: String,
    pub profiles: u64,
}

impl Profiles {
    /// The `limit` values of `attribute` that most profiles have, most first (ties by value);
    /// missing values and blank text are left out. One grouping pass over the profiles.
    pub async fn common_values(
        &self,
        attribute: &str,
        limit: usize,
    ) -> Result<Vec<CommonValue>, EngineError> {
        let field = self
            .arrow_schema()
            .field_with_name(attribute)
            .map_err(|_| {
                EngineError::Query(DataFusionError::Plan(format!(
                    "there is no attribute {attribute:?}"
                )))
            })?;
        let mut present = ident(attribute).is_not_null();
        if matches!(
            field.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            present = present.and(
                datafusion::functions::string::expr_fn::btrim(vec![cast(
                    ident(attribute),
                    DataType::Utf8,
                )])
                .not_eq(lit("")),
            );
        }
        let grouped = self
            .frame()
            .filter(present)?
            .aggregate(
                vec![cast(ident(attribute), DataType::Utf8).alias("value")],
                vec![count(lit(1i64)).alias("profiles")],
            )?
            .sort(vec![
                col("profiles").sort(false, false),
                col("value").sort(true, false),
            ])?
            .limit(0, Some(limit))?;
        let batches = match grouped.collect().await {
            Ok(batches) => batches,
            Err(error) => return Err(self.read_error(error).await),
        };
        let options = FormatOptions::default();
        let mut values = Vec::new();
        for batch in &batches {
            let text =
                ArrayFormatter::try_new(batch.column(0).as_ref(), &options).map_err(|error| {
                    EngineError::Query(DataFusionError::ArrowError(Box::new(error), None))
                })?;
            let counts = batch
                .column(1)
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(|| {
                    EngineError::Query(DataFusionError::Internal("a count not of Int64".into()))
                })?;
            for row in 0..batch.num_rows() {
                values.push(CommonValue {
                    value: text.value(row).to_string(),
                    profiles: counts.value(row).unsigned_abs(),
                });
            }
        }
        Ok(values)
    }
}
