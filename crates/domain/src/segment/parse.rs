//! Reading segment definitions from YAML or JSON, with errors that name the segment and the
//! place in its rule.
//!
//! ```yaml
//! name: gold-us-recent
//! description: Gold and platinum customers in the US who bought in the last 90 days
//! rule:
//!   all:
//!     - { attribute: tier, op: in, values: [gold, platinum], case_insensitive: true }
//!     - { attribute: country, op: equals, value: US }
//!     - { attribute: last_purchase_at, op: within_last, amount: 90, unit: days }
//! ```
//!
//! What customers did is tested over a related table (configured by name, such as `orders`):
//!
//! ```yaml
//! rule:
//!   all:
//!     # at least 3 orders in the last 90 days (at_least, at_most or exactly; at_least 1 alone)
//!     - has: orders
//!       at_least: 3
//!       window: { op: within_last, amount: 90, unit: days }
//!     # more than 500 spent on paid orders this year
//!     - measure: sum
//!       of: amount
//!       over: orders
//!       where: { attribute: status, op: equals, value: paid }
//!       window: { op: within_last, amount: 365, unit: days }
//!       op: greater_than
//!       value: 500
//!     # no order in 180 days
//!     - not: { has: orders, window: { op: within_last, amount: 180, unit: days } }
//! ```
//!
//! A file holds one segment, or several under `segments:`.

use serde::Deserialize;
use serde_json::Value as Literal;

use super::{
    Aggregate, Condition, Period, PeriodUnit, RelatedCondition, Rule, SegmentDefinition,
    SegmentError, Test,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentFormat {
    Yaml,
    Json,
}

impl SegmentFormat {
    /// From a file name's extension; YAML unless it ends in `.json`.
    pub fn from_path(path: &str) -> Self {
        if path.to_lowercase().ends_with(".json") {
            Self::Json
        } else {
            Self::Yaml
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawFile {
    Many { segments: Vec<RawSegment> },
    One(Box<RawSegment>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSegment {
    name: String,
    #[serde(default)]
    description: Option<String>,
    rule: RawRule,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRule {
    all: Option<Vec<RawRule>>,
    any: Option<Vec<RawRule>>,
    not: Option<Box<RawRule>>,
    segment: Option<String>,
    union: Option<Vec<String>>,
    intersect: Option<Vec<String>>,
    except: Option<Vec<String>>,
    attribute: Option<String>,
    op: Option<String>,
    value: Option<Literal>,
    values: Option<Vec<Literal>>,
    min: Option<Literal>,
    max: Option<Literal>,
    amount: Option<Literal>,
    unit: Option<String>,
    case_insensitive: Option<bool>,
    has: Option<String>,
    measure: Option<String>,
    of: Option<String>,
    over: Option<String>,
    #[serde(rename = "where")]
    rows: Option<Box<RawRule>>,
    window: Option<Box<RawRule>>,
    at_least: Option<Literal>,
    at_most: Option<Literal>,
    exactly: Option<Literal>,
}

impl RawRule {
    /// The keys present that only `has` and `measure` take.
    fn related_keys(&self) -> Vec<&'static str> {
        [
            ("of", self.of.is_some()),
            ("over", self.over.is_some()),
            ("where", self.rows.is_some()),
            ("window", self.window.is_some()),
            ("at_least", self.at_least.is_some()),
            ("at_most", self.at_most.is_some()),
            ("exactly", self.exactly.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, present)| present.then_some(key))
        .collect()
    }
}

/// Parses every segment of a file. `source` names the file in errors.
pub fn parse_segments(
    text: &str,
    format: SegmentFormat,
    source: &str,
) -> Result<Vec<SegmentDefinition>, Vec<SegmentError>> {
    let raw: RawFile = match format {
        SegmentFormat::Yaml => serde_saphyr::from_str(text)
            .map_err(|error| syntax_error(source, &error.to_string()))?,
        SegmentFormat::Json => {
            serde_json::from_str(text).map_err(|error| syntax_error(source, &error.to_string()))?
        }
    };
    let raw_segments = match raw {
        RawFile::Many { segments } => segments,
        RawFile::One(segment) => vec![*segment],
    };
    let mut segments = Vec::new();
    let mut errors = Vec::new();
    let mut names = std::collections::HashSet::new();
    for raw in raw_segments {
        let mut context = Context {
            segment: raw.name.clone(),
            errors: Vec::new(),
        };
        if raw.name.trim().is_empty() {
            context.error("name", "a segment needs a name");
        } else if !names.insert(raw.name.trim().to_owned()) {
            context.error(
                "name",
                "the file defines a segment of this name more than once; each name is one segment",
            );
        }
        let rule = context.rule(raw.rule, "rule");
        errors.append(&mut context.errors);
        if let Some(rule) = rule {
            segments.push(SegmentDefinition {
                name: raw.name,
                description: raw.description,
                rule,
            });
        }
    }
    if errors.is_empty() {
        Ok(segments)
    } else {
        Err(errors)
    }
}

/// A rule read from JSON (as stored), with the same checks and rule paths as a segment
/// file's; `Rule::to_json` writes what this reads.
impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawRule::deserialize(deserializer)?;
        read_rule(raw, "").map_err(|errors| {
            serde::de::Error::custom(
                errors
                    .iter()
                    .map(|error| format!("{}: {}", error.path, error.problem))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })
    }
}

fn read_rule(raw: RawRule, segment: &str) -> Result<Rule, Vec<SegmentError>> {
    let mut context = Context {
        segment: segment.to_owned(),
        errors: Vec::new(),
    };
    context.rule(raw, "rule").ok_or(context.errors)
}

/// A segment as the API takes it — a name, a description and the rule as JSON — read into its
/// definition, or every problem with it, each naming the segment and the rule path.
pub fn parse_definition(
    name: &str,
    description: Option<&str>,
    rule: &Literal,
) -> Result<SegmentDefinition, Vec<SegmentError>> {
    let mut errors = Vec::new();
    if name.trim().is_empty() {
        errors.push(SegmentError {
            segment: name.to_owned(),
            path: "name".to_owned(),
            problem: "a segment needs a name".to_owned(),
        });
    }
    let rule = match RawRule::deserialize(rule) {
        Ok(raw) => read_rule(raw, name),
        Err(error) => Err(vec![SegmentError {
            segment: name.to_owned(),
            path: "rule".to_owned(),
            problem: error.to_string(),
        }]),
    };
    match rule {
        Ok(rule) if errors.is_empty() => Ok(SegmentDefinition {
            name: name.to_owned(),
            description: description.map(str::to_owned),
            rule,
        }),
        Ok(_) => Err(errors),
        Err(mut problems) => {
            errors.append(&mut problems);
            Err(errors)
        }
    }
}

fn syntax_error(source: &str, message: &str) -> Vec<SegmentError> {
    vec![SegmentError {
        segment: String::new(),
        path: source.to_owned(),
        problem: message.to_owned(),
    }]
}

struct Context {
    segment: String,
    errors: Vec<SegmentError>,
}

impl Context {
    fn error(&mut self, path: &str, problem: impl Into<String>) {
        self.errors.push(SegmentError {
            segment: self.segment.clone(),
            path: path.to_owned(),
            problem: problem.into(),
        });
    }

    fn rule(&mut self, mut raw: RawRule, path: &str) -> Option<Rule> {
        let kinds = [
            raw.all.is_some(),
            raw.any.is_some(),
            raw.not.is_some(),
            raw.segment.is_some(),
            raw.union.is_some(),
            raw.intersect.is_some(),
            raw.except.is_some(),
            raw.attribute.is_some(),
            raw.has.is_some(),
            raw.measure.is_some(),
        ];
        if kinds.iter().filter(|present| **present).count() != 1 {
            self.error(path, "a rule is exactly one of all, any, not, segment, union, intersect, except, has, measure, or a condition with attribute and op");
            return None;
        }
        if raw.has.is_some() || raw.measure.is_some() {
            return self.related(raw, path).map(Rule::Related);
        }
        let misplaced = raw.related_keys();
        if !misplaced.is_empty() {
            self.error(
                path,
                format!(
                    "{} {} to has and measure, not to this rule",
                    misplaced.join(", "),
                    if misplaced.len() == 1 {
                        "belongs"
                    } else {
                        "belong"
                    }
                ),
            );
            return None;
        }
        if let Some(children) = raw.all {
            return self.group(children, path, "all").map(Rule::All);
        }
        if let Some(children) = raw.any {
            return self.group(children, path, "any").map(Rule::Any);
        }
        if let Some(child) = raw.not {
            return self
                .rule(*child, &format!("{path}.not"))
                .map(|rule| Rule::Not(Box::new(rule)));
        }
        if let Some(name) = raw.segment {
            return Some(Rule::Segment(name));
        }
        for (names, operation, minimum) in [
            (raw.union.take(), "union", 2),
            (raw.intersect.take(), "intersect", 2),
            (raw.except.take(), "except", 2),
        ] {
            if let Some(names) = names {
                if names.len() < minimum {
                    self.error(
                        &format!("{path}.{operation}"),
                        format!("{operation} takes at least {minimum} segment names"),
                    );
                    return None;
                }
                return Some(match operation {
                    "union" => Rule::Union(names),
                    "intersect" => Rule::Intersect(names),
                    _ => Rule::Except(names),
                });
            }
        }
        self.condition(raw, path).map(Rule::Condition)
    }

    fn group(&mut self, children: Vec<RawRule>, path: &str, kind: &str) -> Option<Vec<Rule>> {
        if children.is_empty() {
            self.error(
                &format!("{path}.{kind}"),
                format!("{kind} needs at least one rule"),
            );
            return None;
        }
        let rules: Vec<Option<Rule>> = children
            .into_iter()
            .enumerate()
            .map(|(i, child)| self.rule(child, &format!("{path}.{kind}[{i}]")))
            .collect();
        rules.into_iter().collect()
    }

    fn condition(&mut self, raw: RawRule, path: &str) -> Option<Condition> {
        let attribute = raw.attribute.clone().expect("checked by the caller");
        let Some(op) = raw.op.clone() else {
            self.error(path, format!("the condition on {attribute:?} has no op"));
            return None;
        };
        let case_insensitive = raw.case_insensitive.unwrap_or(false);
        let test = self.test(&op, raw, path)?;
        Some(Condition {
            attribute,
            test,
            case_insensitive,
        })
    }

    /// The test an `op` names, with the values it takes from `raw`.
    fn test(&mut self, op: &str, raw: RawRule, path: &str) -> Option<Test> {
        let need = |value: Option<Literal>, key: &str, this: &mut Self| -> Option<Literal> {
            if value.is_none() {
                this.error(path, format!("{op} needs {key}"));
            }
            value
        };
        let text = |literal: Literal, this: &mut Self| -> Option<String> {
            match literal {
                Literal::String(text) => Some(text),
                other => {
                    this.error(path, format!("{op} compares with text, not {other}"));
                    None
                }
            }
        };
        Some(match op {
            "equals" => Test::Equals(need(raw.value, "value", self)?),
            "not_equals" => Test::NotEquals(need(raw.value, "value", self)?),
            "in" | "not_in" => {
                let Some(values) = raw.values.filter(|values| !values.is_empty()) else {
                    self.error(path, format!("{op} needs a non-empty list of values"));
                    return None;
                };
                if op == "in" {
                    Test::In(values)
                } else {
                    Test::NotIn(values)
                }
            }
            "contains" => Test::Contains(text(need(raw.value, "value", self)?, self)?),
            "starts_with" => Test::StartsWith(text(need(raw.value, "value", self)?, self)?),
            "ends_with" => Test::EndsWith(text(need(raw.value, "value", self)?, self)?),
            "is_empty" => Test::IsEmpty,
            "is_not_empty" => Test::IsNotEmpty,
            "less_than" | "lt" => Test::LessThan(need(raw.value, "value", self)?),
            "less_or_equal" | "le" => Test::LessOrEqual(need(raw.value, "value", self)?),
            "greater_than" | "gt" => Test::GreaterThan(need(raw.value, "value", self)?),
            "greater_or_equal" | "ge" => Test::GreaterOrEqual(need(raw.value, "value", self)?),
            "between" => Test::Between(need(raw.min, "min", self)?, need(raw.max, "max", self)?),
            "before" => Test::Before(need(raw.value, "value", self)?),
            "after" => Test::After(need(raw.value, "value", self)?),
            "within_last" | "more_than_ago" => {
                let period = self.period(raw.amount.as_ref(), raw.unit.as_deref(), path, op)?;
                if op == "within_last" {
                    Test::WithinLast(period)
                } else {
                    Test::MoreThanAgo(period)
                }
            }
            "is_true" => Test::IsTrue,
            "is_false" => Test::IsFalse,
            "is_null" => Test::IsNull,
            "is_not_null" => Test::IsNotNull,
            unknown => {
                self.error(path, format!("unknown operator {unknown:?}"));
                return None;
            }
        })
    }

    /// `has` (a count bounded by at_least, at_most or exactly) or `measure` (an aggregate
    /// compared by op), with the rows they take (`where`) and when (`window`).
    fn related(&mut self, mut raw: RawRule, path: &str) -> Option<RelatedCondition> {
        let rows = match raw.rows.take() {
            Some(rows) => Some(Box::new(self.rule(*rows, &format!("{path}.where"))?)),
            None => None,
        };
        let window = match raw.window.take() {
            Some(window) => Some(self.window(*window, &format!("{path}.window"))?),
            None => None,
        };
        if let Some(table) = raw.has.take() {
            return self.has(table, raw, rows, window, path);
        }
        let aggregate_name = raw.measure.take().expect("checked by the caller");
        let Some(aggregate) = Aggregate::from_name(&aggregate_name) else {
            self.error(
                path,
                format!("measure is count, sum, min, max or avg, not {aggregate_name:?}"),
            );
            return None;
        };
        for (key, present) in [
            ("at_least", raw.at_least.is_some()),
            ("at_most", raw.at_most.is_some()),
            ("exactly", raw.exactly.is_some()),
        ] {
            if present {
                self.error(
                    path,
                    format!("{key} belongs to has; a measure is compared with op and value"),
                );
                return None;
            }
        }
        let Some(table) = raw.over.take() else {
            self.error(
                path,
                format!("measure {aggregate_name} needs over, the related table it measures"),
            );
            return None;
        };
        let column = raw.of.take();
        if column.is_none() && aggregate != Aggregate::Count {
            self.error(
                path,
                format!("measure {aggregate_name} needs of, the column it measures"),
            );
            return None;
        }
        let Some(op) = raw.op.clone() else {
            self.error(
                path,
                format!("measure {aggregate_name} needs op and a value to compare with"),
            );
            return None;
        };
        let test = self.test(&op, raw, path)?;
        Some(RelatedCondition {
            table,
            rows,
            window,
            aggregate,
            column,
            test,
            written_as_has: false,
        })
    }

    fn has(
        &mut self,
        table: String,
        raw: RawRule,
        rows: Option<Box<Rule>>,
        window: Option<Test>,
        path: &str,
    ) -> Option<RelatedCondition> {
        let stray = [
            ("over", raw.over.is_some()),
            ("of", raw.of.is_some()),
            ("op", raw.op.is_some()),
            ("value", raw.value.is_some()),
        ];
        if let Some((key, _)) = stray.iter().find(|(_, present)| *present) {
            self.error(
                path,
                format!(
                    "has counts rows with at_least, at_most or exactly; {key} belongs to measure"
                ),
            );
            return None;
        }
        let bounds = [
            ("at_least", raw.at_least),
            ("at_most", raw.at_most),
            ("exactly", raw.exactly),
        ];
        let given: Vec<(&str, Literal)> = bounds
            .into_iter()
            .filter_map(|(key, value)| value.map(|value| (key, value)))
            .collect();
        let (bound, value) = match given.as_slice() {
            [] => ("at_least", Literal::from(1)),
            [(bound, value)] => (*bound, value.clone()),
            _ => {
                self.error(path, "has takes one of at_least, at_most and exactly");
                return None;
            }
        };
        let lowest = if bound == "at_least" { 1 } else { 0 };
        match value.as_u64() {
            Some(count) if count >= lowest => {}
            _ => {
                self.error(
                    path,
                    format!("{bound} is a whole number of at least {lowest}, not {value}"),
                );
                return None;
            }
        }
        let test = match bound {
            "at_least" => Test::GreaterOrEqual(value),
            "at_most" => Test::LessOrEqual(value),
            _ => Test::Equals(value),
        };
        Some(RelatedCondition {
            table,
            rows,
            window,
            aggregate: Aggregate::Count,
            column: None,
            test,
            written_as_has: true,
        })
    }

    /// A window: a date test without an attribute (the table's date column is implied).
    fn window(&mut self, raw: RawRule, path: &str) -> Option<Test> {
        let Some(op) = raw.op.clone() else {
            self.error(
                path,
                "a window is an op (within_last, more_than_ago, between, before, after) with its values",
            );
            return None;
        };
        if raw.attribute.is_some() {
            self.error(
                path,
                "a window tests the related table's date column (dated_by); it names no attribute",
            );
            return None;
        }
        let test = self.test(&op, raw, path)?;
        if !matches!(
            test,
            Test::WithinLast(_)
                | Test::MoreThanAgo(_)
                | Test::Between(_, _)
                | Test::Before(_)
                | Test::After(_)
        ) {
            self.error(
                path,
                format!(
                    "a window is within_last, more_than_ago, between, before or after, not {op}"
                ),
            );
            return None;
        }
        Some(test)
    }

    fn period(
        &mut self,
        amount: Option<&Literal>,
        unit: Option<&str>,
        path: &str,
        op: &str,
    ) -> Option<Period> {
        let amount = match amount.and_then(Literal::as_u64) {
            Some(amount) if amount > 0 && amount <= 100_000 => amount as u32,
            _ => {
                self.error(
                    path,
                    format!("{op} needs amount, a whole number of at least 1"),
                );
                return None;
            }
        };
        let unit = match unit {
            Some("day" | "days") => PeriodUnit::Days,
            Some("week" | "weeks") => PeriodUnit::Weeks,
            Some("month" | "months") => PeriodUnit::Months,
            other => {
                self.error(
                    path,
                    format!("{op} needs unit days, weeks or months, not {other:?}"),
                );
                return None;
            }
        };
        Some(Period { amount, unit })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_know_the_segments_they_use() {
        let yaml = "segments:\n  - name: a\n    rule: { all: [ { not: { segment: b } }, { attribute: x, op: is_null } ] }\n  - name: c\n    rule: { except: [a, d] }\n";
        let segments = parse_segments(yaml, SegmentFormat::Yaml, "t.yaml").unwrap();
        assert!(segments[0].rule.refers_to("b"));
        assert!(!segments[0].rule.refers_to("x"));
        assert!(segments[1].rule.refers_to("d"));
        assert!(!segments[1].rule.refers_to("b"), "only direct use counts");
    }

    #[test]
    fn a_file_names_each_segment_once() {
        let yaml = "segments:\n  - name: a\n    rule: { attribute: tier, op: is_null }\n  - name: ' a '\n    rule: { attribute: country, op: is_null }\n";
        let errors = parse_segments(yaml, SegmentFormat::Yaml, "t.yaml").unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            (errors[0].path.as_str(), errors[0].segment.as_str()),
            ("name", " a "),
            "{errors:?}"
        );
        assert!(errors[0].problem.contains("more than once"));
    }

    #[test]
    fn reads_nested_rules_and_set_operations() {
        let yaml = r#"
segments:
  - name: gold-us
    description: Gold customers in the US
    rule:
      all:
        - { attribute: tier, op: in, values: [gold, platinum], case_insensitive: true }
        - any:
            - { attribute: country, op: equals, value: US }
            - not: { attribute: state, op: is_empty }
        - { attribute: last_purchase_at, op: within_last, amount: 90, unit: days }
  - name: gold-not-opted-out
    rule:
      except: [gold-us, opted-out]
"#;
        let segments = parse_segments(yaml, SegmentFormat::Yaml, "segments.yaml").unwrap();
        assert_eq!(segments.len(), 2);
        let Rule::All(children) = &segments[0].rule else {
            panic!("all expected")
        };
        assert_eq!(children.len(), 3);
        assert!(matches!(&children[1], Rule::Any(any) if matches!(any[1], Rule::Not(_))));
        assert_eq!(
            segments[1].rule,
            Rule::Except(vec!["gold-us".into(), "opted-out".into()])
        );
    }

    #[test]
    fn errors_name_the_segment_and_the_rule_path() {
        let yaml = r#"
name: broken
rule:
  all:
    - { attribute: tier, op: in, values: [] }
    - any:
        - { attribute: seen, op: within_last, amount: 3, unit: fortnights }
        - { attribute: country, op: resembles, value: US }
"#;
        let errors = parse_segments(yaml, SegmentFormat::Yaml, "broken.yaml").unwrap_err();
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 3, "{shown:?}");
        assert!(
            shown[0].starts_with("segment \"broken\", rule.all[0]: in needs a non-empty list"),
            "{shown:?}"
        );
        assert!(
            shown[1].contains("rule.all[1].any[0]") && shown[1].contains("fortnights"),
            "{shown:?}"
        );
        assert!(
            shown[2].contains("rule.all[1].any[1]") && shown[2].contains("resembles"),
            "{shown:?}"
        );
    }

    #[test]
    fn json_works_too_and_syntax_errors_name_the_file() {
        let json = r#"{"name":"vip","rule":{"attribute":"vip","op":"is_true"}}"#;
        assert_eq!(
            parse_segments(json, SegmentFormat::Json, "vip.json").unwrap()[0].name,
            "vip"
        );
        let errors = parse_segments("name: [", SegmentFormat::Yaml, "bad.yaml").unwrap_err();
        assert_eq!(errors[0].path, "bad.yaml");
    }

    #[test]
    fn reads_has_and_measure() {
        let yaml = r#"
name: behaviour
rule:
  all:
    - { has: orders, at_least: 3, window: { op: within_last, amount: 90, unit: days } }
    - { not: { has: orders } }
    - measure: sum
      of: amount
      over: orders
      where: { attribute: status, op: equals, value: paid }
      op: greater_than
      value: 500
    - { has: orders, exactly: 0 }
"#;
        let segments = parse_segments(yaml, SegmentFormat::Yaml, "b.yaml").unwrap();
        let Rule::All(children) = &segments[0].rule else {
            panic!("all expected")
        };
        let Rule::Related(recent) = &children[0] else {
            panic!("has expected: {children:?}")
        };
        assert_eq!(recent.table, "orders");
        assert_eq!(recent.aggregate, Aggregate::Count);
        assert_eq!(recent.test, Test::GreaterOrEqual(3.into()));
        assert!(matches!(
            recent.window,
            Some(Test::WithinLast(Period { amount: 90, .. }))
        ));
        assert!(recent.written_as_has && recent.rows.is_none());
        let Rule::Not(none) = &children[1] else {
            panic!("not expected")
        };
        assert!(
            matches!(&**none, Rule::Related(any) if any.test == Test::GreaterOrEqual(1.into())),
            "has alone means at least one: {none:?}"
        );
        let Rule::Related(spent) = &children[2] else {
            panic!("measure expected")
        };
        assert_eq!(
            (spent.aggregate, spent.column.as_deref(), &spent.test),
            (
                Aggregate::Sum,
                Some("amount"),
                &Test::GreaterThan(500.into())
            )
        );
        assert!(matches!(spent.rows.as_deref(), Some(Rule::Condition(_))));
        assert!(!spent.written_as_has);
        assert!(matches!(&children[3], Rule::Related(none) if none.test == Test::Equals(0.into())));
    }

    #[test]
    fn related_conditions_say_what_they_lack() {
        let yaml = r#"
name: broken
rule:
  any:
    - { has: orders, op: greater_than, value: 3 }
    - { has: orders, at_least: 0 }
    - { has: orders, at_least: 1, at_most: 5 }
    - { measure: sum, over: orders, op: greater_than, value: 3 }
    - { measure: median, of: amount, over: orders, op: greater_than, value: 3 }
    - { measure: count, of: amount, op: greater_than, value: 3 }
    - { measure: count, over: orders }
    - { attribute: tier, op: is_null, window: { op: within_last, amount: 3, unit: days } }
    - { has: orders, window: { op: equals, value: 3 } }
    - { has: orders, where: { attribute: status, op: resembles } }
"#;
        let errors = parse_segments(yaml, SegmentFormat::Yaml, "broken.yaml").unwrap_err();
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let expected = [
            "rule.any[0]: has counts rows with at_least, at_most or exactly; op belongs to measure",
            "rule.any[1]: at_least is a whole number of at least 1, not 0",
            "rule.any[2]: has takes one of at_least, at_most and exactly",
            "rule.any[3]: measure sum needs of, the column it measures",
            "rule.any[4]: measure is count, sum, min, max or avg, not \"median\"",
            "rule.any[5]: measure count needs over, the related table it measures",
            "rule.any[6]: measure count needs op and a value to compare with",
            "rule.any[7]: window belongs to has and measure, not to this rule",
            "rule.any[8].window: a window is within_last, more_than_ago, between, before or after, not equals",
            "rule.any[9].where: unknown operator \"resembles\"",
        ];
        assert_eq!(shown.len(), expected.len(), "{shown:#?}");
        for (shown, expected) in shown.iter().zip(expected) {
            assert!(
                shown.ends_with(expected),
                "{shown:?} should end with {expected:?}"
            );
        }
    }
}
