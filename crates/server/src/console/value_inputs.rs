//! What the segment builder asks for a test's values, by the operator and the type of what it
//! tests: nothing for "is true" or "has a value", a number box for numbers, a date picker for
//! dates, two boxes for "between", an amount and a unit for "within the last", and for "is
//! one of" the attribute's most common values to choose from.

use segsync_domain::AttributeType;
use segsync_domain::segment::operator_suits;

use super::rule_tree::OPERATORS;

/// The operators that take no value.
const WITHOUT_VALUES: [&str; 6] = [
    "is_empty",
    "is_not_empty",
    "is_true",
    "is_false",
    "is_null",
    "is_not_null",
];

/// The units a period takes.
pub(crate) const PERIOD_UNITS: [&str; 3] = ["days", "weeks", "months"];

/// Whether `unit` is one a period takes (a row that says another shows it, with its problem).
pub(crate) fn is_unit(unit: &str) -> bool {
    PERIOD_UNITS.contains(&unit)
}

/// How a row's values are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ValueInput {
    /// `none`, `single`, `pair` (between), `period` (an amount and a unit), `list` (values
    /// typed, comma-separated) or `choices` (common values to pick, and others typed).
    pub(crate) shape: &'static str,
    /// The HTML input type of each value: `text`, `number` or `date`.
    pub(crate) html_type: &'static str,
    /// A number box's step: `1` for whole numbers, `any` for others.
    pub(crate) step: &'static str,
}

impl ValueInput {
    /// The inputs of a test of `op` on something of type `kind` (unknown: text), whose values
    /// are now `values`; `has_choices` when common values are known. A value that a typed box
    /// could not hold (a date box would drop "last week") keeps a text box, so that nothing
    /// typed is lost and its problem shows with it.
    pub(crate) fn of(
        op: &str,
        kind: Option<AttributeType>,
        values: [&str; 2],
        has_choices: bool,
    ) -> Self {
        let shape = match op {
            op if WITHOUT_VALUES.contains(&op) => "none",
            "in" | "not_in" if has_choices => "choices",
            "in" | "not_in" => "list",
            "between" => "pair",
            "within_last" | "more_than_ago" => "period",
            _ => "single",
        };
        let (html_type, step) = match kind {
            Some(AttributeType::Integer) => ("number", "1"),
            Some(AttributeType::Number) => ("number", "any"),
            Some(AttributeType::Date | AttributeType::Timestamp) => ("date", ""),
            _ => ("text", ""),
        };
        let fits = |value: &str| {
            let value = value.trim();
            value.is_empty()
                || match html_type {
                    "number" => value.parse::<f64>().is_ok_and(f64::is_finite),
                    "date" => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok(),
                    _ => true,
                }
        };
        let boxes = if shape == "pair" { 2 } else { 1 };
        let html_type = if values[..boxes].iter().all(|value| fits(value)) {
            html_type
        } else {
            "text"
        };
        Self {
            shape,
            html_type,
            step: if html_type == "number" { step } else { "" },
        }
    }
}

/// The operators that suit something of type `kind` (every one when it is not known), and
/// `current` whatever it is, so that a row keeps what it says and shows its problem.
pub(crate) fn operators_for(
    kind: Option<AttributeType>,
    current: &str,
) -> Vec<(&'static str, &'static str)> {
    OPERATORS
        .into_iter()
        .filter(|(op, _)| *op == current || kind.is_none_or(|kind| operator_suits(op, kind)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inputs_follow_the_operator_and_the_type() {
        let input = |op, kind, values| ValueInput::of(op, Some(kind), values, false);
        assert_eq!(
            input("is_true", AttributeType::Boolean, ["", ""]).shape,
            "none"
        );
        let number = input("greater_than", AttributeType::Number, ["12.5", ""]);
        assert_eq!(
            (number.shape, number.html_type, number.step),
            ("single", "number", "any")
        );
        let whole = input("between", AttributeType::Integer, ["1", "9"]);
        assert_eq!(
            (whole.shape, whole.html_type, whole.step),
            ("pair", "number", "1")
        );
        let date = input("before", AttributeType::Timestamp, ["2026-01-31", ""]);
        assert_eq!((date.shape, date.html_type), ("single", "date"));
        assert_eq!(
            input("within_last", AttributeType::Date, ["90", "days"]).shape,
            "period"
        );
        assert_eq!(input("in", AttributeType::Text, ["", ""]).shape, "list");
        assert_eq!(
            ValueInput::of("in", Some(AttributeType::Text), ["", ""], true).shape,
            "choices"
        );
    }

    #[test]
    fn a_value_a_typed_box_would_drop_keeps_a_text_box() {
        let date = ValueInput::of("after", Some(AttributeType::Date), ["last week", ""], false);
        assert_eq!(date.html_type, "text");
        let instant = ValueInput::of(
            "after",
            Some(AttributeType::Timestamp),
            ["2026-01-31T08:00:00Z", ""],
            false,
        );
        assert_eq!(instant.html_type, "text");
        let number = ValueInput::of("between", Some(AttributeType::Number), ["1", "lots"], false);
        assert_eq!(number.html_type, "text");
    }

    #[test]
    fn only_the_operators_that_suit_the_type_are_offered() {
        let boolean: Vec<&str> = operators_for(Some(AttributeType::Boolean), "is_true")
            .into_iter()
            .map(|(op, _)| op)
            .collect();
        assert_eq!(boolean, ["is_true", "is_false", "is_null", "is_not_null"]);
        let text = operators_for(Some(AttributeType::Text), "within_last");
        assert!(text.iter().any(|(op, _)| *op == "contains"));
        assert!(
            text.iter().any(|(op, _)| *op == "within_last"),
            "the row's own operator stays, to show its problem"
        );
        assert!(!text.iter().any(|(op, _)| *op == "before"));
        assert_eq!(operators_for(None, "equals").len(), OPERATORS.len());
    }
}
