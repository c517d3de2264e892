//! Arrow schemas as segments see them.

use datafusion::arrow::datatypes::{DataType, Schema};
use segsync_domain::{Attribute, AttributeType, ProfileSchema};

/// The attributes of an Arrow schema with the type segments compare them as.
pub fn profile_schema(schema: &Schema) -> ProfileSchema {
    ProfileSchema::new(
        schema
            .fields()
            .iter()
            .map(|field| Attribute {
                name: field.name().clone(),
                kind: attribute_type(field.data_type()),
            })
            .collect(),
    )
}

pub(crate) fn attribute_type(data_type: &DataType) -> AttributeType {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => AttributeType::Text,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => AttributeType::Integer,
        DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _) => AttributeType::Number,
        DataType::Date32 | DataType::Date64 => AttributeType::Date,
        DataType::Timestamp(_, _) => AttributeType::Timestamp,
        DataType::Boolean => AttributeType::Boolean,
        DataType::Dictionary(_, value) => attribute_type(value),
        _ => AttributeType::Other,
    }
}
