//! Related tables: rows that belong to profiles (orders, events, email opens), read from any
//! source a profile source can be, linked to a profile by a key column.
//!
//! ```toml
//! [related.orders]
//! source = "/data/orders/*.parquet"   # or a table: { location = "s3://…", format = "parquet", … }
//! key = "customer_id"                 # the orders' column that holds the profile's key
//! profile_key = "profile_id"          # the profiles' column it matches
//! dated_by = "ordered_at"             # optional: the column windows test
//! ```

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::prelude::DataFrame;
use segsync_domain::{AttributeType, RelatedSchema};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::schema::{attribute_type, profile_schema};
use crate::source::{ProfileSource, SourceSnapshot};

/// A related table as configured. In a configuration file it is an entry of `[related]`,
/// named by its key there.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RelatedTable {
    /// The name segments use for it (`has: orders`); the key of its entry in `[related]`.
    #[serde(default, skip_serializing)]
    pub name: String,
    pub source: ProfileSource,
    /// The related table's column that holds the profile's key.
    pub key: String,
    /// The profiles' column that `key` matches.
    pub profile_key: String,
    /// The column that dates each row, which windows test; none means no windows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dated_by: Option<String>,
}

/// The entries of a `[related]` section, each named by its key.
pub fn related_tables(entries: BTreeMap<String, RelatedTable>) -> Vec<RelatedTable> {
    entries
        .into_iter()
        .map(|(name, table)| RelatedTable { name, ..table })
        .collect()
}

/// A related table opened beside the profiles and checked against them.
#[derive(Debug)]
pub(crate) struct OpenedRelated {
    pub(crate) table: RelatedTable,
    pub(crate) frame: DataFrame,
    pub(crate) schema: SchemaRef,
    pub(crate) snapshot: SourceSnapshot,
    /// The type the key is cast to before it is compared with the profiles' key.
    pub(crate) key_type: DataType,
}

impl OpenedRelated {
    /// Checks the table's columns against itself and the profiles: the key and the date
    /// column exist, the date column is a date or an instant, and the key is compared with a
    /// profile key of the same kind (integers with integers, text with text).
    pub(crate) fn check(
        table: RelatedTable,
        frame: DataFrame,
        snapshot: SourceSnapshot,
        profiles: &SchemaRef,
    ) -> Result<Self, EngineError> {
        let schema = SchemaRef::clone(frame.schema().inner());
        let problem = |problem: String| EngineError::Related {
            table: table.name.clone(),
            problem,
        };
        let column_type = |column: &str, role: &str| -> Result<DataType, EngineError> {
            match schema.field_with_name(column) {
                Ok(field) => Ok(field.data_type().clone()),
                Err(_) => Err(problem(format!(
                    "its {role} {column:?} is not one of its columns{}",
                    nearest(&profile_schema(&schema), column)
                ))),
            }
        };
        let key_type = column_type(&table.key, "key")?;
        let profile_key_type = match profiles.field_with_name(&table.profile_key) {
            Ok(field) => field.data_type().clone(),
            Err(_) => {
                return Err(problem(format!(
                    "its profile_key {:?} is not a profile attribute{}",
                    table.profile_key,
                    nearest(&profile_schema(profiles), &table.profile_key)
                )));
            }
        };
        let (kind, profile_kind) = (attribute_type(&key_type), attribute_type(&profile_key_type));
        let comparable =
            kind == profile_kind && matches!(kind, AttributeType::Integer | AttributeType::Text);
        if !comparable {
            return Err(problem(format!(
                "its key {:?} is {kind} and the profiles' {:?} is {profile_kind}: keys must both be integers or both text",
                table.key, table.profile_key
            )));
        }
        if let Some(dated_by) = &table.dated_by {
            let dated_kind = attribute_type(&column_type(dated_by, "dated_by column")?);
            if !dated_kind.is_temporal() {
                return Err(problem(format!(
                    "its dated_by column {dated_by:?} is {dated_kind}, not a date or timestamp"
                )));
            }
        }
        Ok(Self {
            table,
            frame,
            schema,
            snapshot,
            key_type: profile_key_type,
        })
    }

    /// The table as segments see it.
    pub(crate) fn segment_schema(&self) -> RelatedSchema {
        RelatedSchema {
            name: self.table.name.clone(),
            columns: profile_schema(&self.schema),
            dated_by: self.table.dated_by.clone(),
        }
    }
}

fn nearest(schema: &segsync_domain::ProfileSchema, name: &str) -> String {
    schema
        .nearest(name)
        .map(|nearest| format!(" (did you mean {nearest:?}?)"))
        .unwrap_or_default()
}
