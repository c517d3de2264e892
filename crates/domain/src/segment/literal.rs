//! Literals of a definition, checked against the type of the attribute they are compared with.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value as Literal;

use super::RunClock;
use crate::schema::AttributeType;

/// A literal converted to the attribute's type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedValue {
    Text(String),
    Integer(i64),
    Number(f64),
    Date(NaiveDate),
    Timestamp(DateTime<Utc>),
    Boolean(bool),
}

/// Converts `literal` for an attribute of type `kind`. A date written for a timestamp
/// attribute means midnight of that date in the run's time zone. Errors are sentences that
/// name what was expected.
pub fn typed_literal(
    literal: &Literal,
    kind: AttributeType,
    clock: &RunClock,
) -> Result<TypedValue, String> {
    match (kind, literal) {
        (AttributeType::Text, Literal::String(text)) => Ok(TypedValue::Text(text.clone())),
        // YAML reads `zip: 02139` or `code: 7` as numbers; for text they mean their digits.
        (AttributeType::Text, Literal::Number(number)) => Ok(TypedValue::Text(number.to_string())),
        (AttributeType::Text, Literal::Bool(value)) => Ok(TypedValue::Text(value.to_string())),
        (AttributeType::Integer, Literal::Number(number)) => match number.as_i64() {
            Some(integer) => Ok(TypedValue::Integer(integer)),
            None => number
                .as_f64()
                .map(TypedValue::Number)
                .ok_or_else(|| format!("{number} is not a number")),
        },
        (AttributeType::Number, Literal::Number(number)) => number
            .as_f64()
            .map(TypedValue::Number)
            .ok_or_else(|| format!("{number} is not a number")),
        (AttributeType::Integer | AttributeType::Number, Literal::String(text)) => text
            .trim()
            .parse::<f64>()
            .map(TypedValue::Number)
            .map_err(|_| format!("{text:?} is not a number")),
        (AttributeType::Date, Literal::String(text)) => parse_date(text).map(TypedValue::Date),
        (AttributeType::Timestamp, Literal::String(text)) => {
            match DateTime::parse_from_rfc3339(text.trim()) {
                Ok(instant) => Ok(TypedValue::Timestamp(instant.with_timezone(&Utc))),
                Err(_) => parse_date(text).map(|date| TypedValue::Timestamp(clock.start_of(date))),
            }
        }
        (AttributeType::Boolean, Literal::Bool(value)) => Ok(TypedValue::Boolean(*value)),
        (kind, literal) => Err(format!("{literal} is not a {kind} value")),
    }
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{text:?} is not a date; write dates as YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    #[test]
    fn literals_follow_the_attribute_type() {
        let clock = RunClock::new(Utc::now(), chrono_tz::America::New_York);
        assert_eq!(
            typed_literal(&json!(2139), AttributeType::Text, &clock),
            Ok(TypedValue::Text("2139".into()))
        );
        assert_eq!(
            typed_literal(&json!(5), AttributeType::Integer, &clock),
            Ok(TypedValue::Integer(5))
        );
        assert_eq!(
            typed_literal(&json!("2.5"), AttributeType::Number, &clock),
            Ok(TypedValue::Number(2.5))
        );
        assert_eq!(
            typed_literal(&json!("2026-01-31"), AttributeType::Timestamp, &clock),
            Ok(TypedValue::Timestamp(
                Utc.with_ymd_and_hms(2026, 1, 31, 5, 0, 0).unwrap()
            ))
        );
        let error = typed_literal(&json!("31/01/2026"), AttributeType::Date, &clock).unwrap_err();
        assert!(error.contains("YYYY-MM-DD"), "{error}");
        assert!(typed_literal(&json!("yes"), AttributeType::Boolean, &clock).is_err());
    }
}
