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
//! A file holds one segment, or several under `segments:`.

use serde::Deserialize;
use serde_json::Value as Literal;

use super::{Condition, Period, PeriodUnit, Rule, SegmentDefinition, SegmentError, Test};

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
        ];
        if kinds.iter().filter(|present| **present).count() != 1 {
            self.error(path, "a rule is exactly one of all, any, not, segment, union, intersect, except, or a condition with attribute and op");
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
        let attribute = raw.attribute.expect("checked by the caller");
        let Some(op) = raw.op else {
            self.error(path, format!("the condition on {attribute:?} has no op"));
            return None;
        };
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
        let test = match op.as_str() {
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
                let period = self.period(raw.amount.as_ref(), raw.unit.as_deref(), path, &op)?;
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
        };
        Some(Condition {
            attribute,
            test,
            case_insensitive: raw.case_insensitive.unwrap_or(false),
        })
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
}
