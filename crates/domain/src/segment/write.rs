//! A rule written back in the shape segment files and the API use, so that a `Rule` is stored
//! and sent as itself: reading what this writes gives the same rule (`parse.rs` reads it).

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::{Condition, PeriodUnit, RelatedCondition, Rule, Test};

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl Rule {
    /// The rule as JSON: `{"all": [...]}`, `{"attribute": "tier", "op": "in", ...}`.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        let names = |names: &[String]| Value::from(names.to_vec());
        match self {
            Self::All(rules) => {
                object.insert("all".into(), rules.iter().map(Rule::to_json).collect());
            }
            Self::Any(rules) => {
                object.insert("any".into(), rules.iter().map(Rule::to_json).collect());
            }
            Self::Not(rule) => {
                object.insert("not".into(), rule.to_json());
            }
            Self::Condition(condition) => write_condition(condition, &mut object),
            Self::Related(related) => write_related(related, &mut object),
            Self::Segment(name) => {
                object.insert("segment".into(), name.as_str().into());
            }
            Self::Union(others) => {
                object.insert("union".into(), names(others));
            }
            Self::Intersect(others) => {
                object.insert("intersect".into(), names(others));
            }
            Self::Except(others) => {
                object.insert("except".into(), names(others));
            }
        }
        Value::Object(object)
    }
}

fn write_condition(condition: &Condition, object: &mut Map<String, Value>) {
    object.insert("attribute".into(), condition.attribute.as_str().into());
    write_test(&condition.test, object);
    if condition.case_insensitive {
        object.insert("case_insensitive".into(), true.into());
    }
}

fn write_related(related: &RelatedCondition, object: &mut Map<String, Value>) {
    let has_bound = match &related.test {
        Test::GreaterOrEqual(count) => Some(("at_least", count)),
        Test::LessOrEqual(count) => Some(("at_most", count)),
        Test::Equals(count) => Some(("exactly", count)),
        _ => None,
    };
    match has_bound {
        Some((bound, count)) if related.written_as_has => {
            object.insert("has".into(), related.table.as_str().into());
            object.insert(bound.into(), count.clone());
        }
        _ => {
            object.insert("measure".into(), related.aggregate.name().into());
            if let Some(column) = &related.column {
                object.insert("of".into(), column.as_str().into());
            }
            object.insert("over".into(), related.table.as_str().into());
            write_test(&related.test, object);
        }
    }
    if let Some(rows) = &related.rows {
        object.insert("where".into(), rows.to_json());
    }
    if let Some(window) = &related.window {
        let mut test = Map::new();
        write_test(window, &mut test);
        object.insert("window".into(), Value::Object(test));
    }
}

/// `op` and the values it takes.
fn write_test(test: &Test, object: &mut Map<String, Value>) {
    object.insert("op".into(), test.operator().into());
    match test {
        Test::Equals(value)
        | Test::NotEquals(value)
        | Test::LessThan(value)
        | Test::LessOrEqual(value)
        | Test::GreaterThan(value)
        | Test::GreaterOrEqual(value)
        | Test::Before(value)
        | Test::After(value) => {
            object.insert("value".into(), value.clone());
        }
        Test::Contains(text) | Test::StartsWith(text) | Test::EndsWith(text) => {
            object.insert("value".into(), text.as_str().into());
        }
        Test::In(values) | Test::NotIn(values) => {
            object.insert("values".into(), values.clone().into());
        }
        Test::Between(min, max) => {
            object.insert("min".into(), min.clone());
            object.insert("max".into(), max.clone());
        }
        Test::WithinLast(period) | Test::MoreThanAgo(period) => {
            object.insert("amount".into(), period.amount.into());
            let unit = match period.unit {
                PeriodUnit::Days => "days",
                PeriodUnit::Weeks => "weeks",
                PeriodUnit::Months => "months",
            };
            object.insert("unit".into(), unit.into());
        }
        Test::IsEmpty
        | Test::IsNotEmpty
        | Test::IsTrue
        | Test::IsFalse
        | Test::IsNull
        | Test::IsNotNull => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::segment::{SegmentFormat, parse_segments};

    use super::*;

    /// Every kind of rule, operator and related condition.
    const EVERY_KIND: &str = r#"
segments:
  - name: everything
    rule:
      all:
        - { attribute: tier, op: in, values: [gold, platinum], case_insensitive: true }
        - { attribute: tier, op: not_in, values: [bronze] }
        - { attribute: country, op: equals, value: US }
        - { attribute: country, op: not_equals, value: FR }
        - { attribute: city, op: contains, value: "ville" }
        - { attribute: city, op: starts_with, value: "San", case_insensitive: true }
        - { attribute: city, op: ends_with, value: "burg" }
        - { attribute: city, op: is_empty }
        - { attribute: city, op: is_not_empty }
        - { attribute: age, op: less_than, value: 30 }
        - { attribute: age, op: less_or_equal, value: 30.5 }
        - { attribute: age, op: greater_than, value: 18 }
        - { attribute: age, op: greater_or_equal, value: 18 }
        - { attribute: age, op: between, min: 18, max: 65 }
        - { attribute: born, op: before, value: "2000-01-01" }
        - { attribute: born, op: after, value: "1950-01-01" }
        - { attribute: last_purchase_at, op: within_last, amount: 90, unit: days }
        - { attribute: last_purchase_at, op: more_than_ago, amount: 2, unit: weeks }
        - { attribute: last_purchase_at, op: within_last, amount: 6, unit: months }
        - { attribute: subscribed, op: is_true }
        - { attribute: subscribed, op: is_false }
        - { attribute: phone, op: is_null }
        - { attribute: email, op: is_not_null }
        - any:
            - not: { segment: other }
            - { union: [a, b] }
            - { intersect: [a, b, c] }
            - { except: [a, b] }
        - { has: orders }
        - { has: orders, at_most: 0, window: { op: within_last, amount: 180, unit: days } }
        - has: orders
          exactly: 2
          where: { any: [ { attribute: status, op: equals, value: paid }, { attribute: total, op: greater_than, value: 10 } ] }
        - measure: sum
          of: amount
          over: orders
          where: { attribute: status, op: equals, value: paid }
          window: { op: between, min: "2026-01-01", max: "2026-06-30" }
          op: greater_than
          value: 500
        - { measure: count, over: orders, op: less_than, value: 3 }
        - { measure: avg, of: amount, over: orders, op: between, min: 1, max: 2, window: { op: before, value: "2026-01-01" } }
"#;

    #[test]
    fn a_rule_written_as_json_reads_back_as_the_same_rule() {
        let written = parse_segments(EVERY_KIND, SegmentFormat::Yaml, "test").unwrap();
        let rule = &written[0].rule;
        let json = serde_json::to_string(rule).unwrap();
        let read: Rule = serde_json::from_str(&json).unwrap();
        assert_eq!(&read, rule, "{json}");
    }

    #[test]
    fn a_rule_that_does_not_read_says_where_and_why() {
        let error = serde_json::from_str::<Rule>(
            r#"{"all": [{"attribute": "tier", "op": "in", "values": ["gold"]}, {"attribute": "age", "op": "older_than", "value": 3}]}"#,
        )
        .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("rule.all[1]: unknown operator \"older_than\""),
            "{error}"
        );
    }
}
