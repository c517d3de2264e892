//! Checking a segment against the profiles' schema and the other segments: attributes exist,
//! operators suit their types, literals parse, references resolve and never loop.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use chrono::Utc;

use super::{
    Aggregate, Condition, RelatedCondition, Rule, RunClock, SegmentDefinition, SegmentError, Test,
    typed_literal,
};
use crate::schema::{AttributeType, ProfileSchema, RelatedSchema};

/// Where segments referred to by name are looked up.
pub trait SegmentCatalogue {
    fn segment(&self, name: &str) -> Option<&SegmentDefinition>;
}

impl SegmentCatalogue for [SegmentDefinition] {
    fn segment(&self, name: &str) -> Option<&SegmentDefinition> {
        self.iter().find(|segment| segment.name == name)
    }
}

impl SegmentCatalogue for Vec<SegmentDefinition> {
    fn segment(&self, name: &str) -> Option<&SegmentDefinition> {
        self.as_slice().segment(name)
    }
}

impl SegmentCatalogue for HashMap<String, SegmentDefinition> {
    fn segment(&self, name: &str) -> Option<&SegmentDefinition> {
        self.get(name)
    }
}

/// The most conditions a segment may hold once the segments it refers to are expanded (a
/// segment referred to twice counts twice): the bound on the expression a run evaluates.
pub const MAX_EXPANDED_CONDITIONS: u64 = 10_000;

/// Every problem of `segment`, or none.
pub fn validate(
    segment: &SegmentDefinition,
    schema: &ProfileSchema,
    catalogue: &dyn SegmentCatalogue,
) -> Result<(), Vec<SegmentError>> {
    let explored = RefCell::new(HashSet::new());
    let mut checker = Checker {
        segment: &segment.name,
        schema,
        catalogue,
        clock: RunClock::new(Utc::now(), chrono_tz::UTC),
        errors: Vec::new(),
        explored: &explored,
        inside: None,
    };
    checker.rule(&segment.rule, "rule", &mut vec![segment.name.clone()]);
    if checker.errors.is_empty() {
        let conditions = expanded_conditions(&segment.rule, catalogue, &mut HashMap::new());
        if conditions > MAX_EXPANDED_CONDITIONS {
            checker.error(
                "rule",
                format!(
                    "with the segments it refers to expanded, this segment holds more than {MAX_EXPANDED_CONDITIONS} conditions; refer to fewer segments, or to each fewer times"
                ),
            );
        }
    }
    if checker.errors.is_empty() {
        Ok(())
    } else {
        Err(checker.errors)
    }
}

/// How many conditions `rule` holds with every reference expanded, saturating; each referred
/// segment is counted once and remembered in `counted`. Only for rules whose references
/// resolve and never loop.
fn expanded_conditions(
    rule: &Rule,
    catalogue: &dyn SegmentCatalogue,
    counted: &mut HashMap<String, u64>,
) -> u64 {
    let of_segment = |name: &String, counted: &mut HashMap<String, u64>| -> u64 {
        if let Some(conditions) = counted.get(name) {
            return *conditions;
        }
        let conditions = catalogue.segment(name).map_or(0, |referred| {
            expanded_conditions(&referred.rule, catalogue, counted)
        });
        counted.insert(name.clone(), conditions);
        conditions
    };
    match rule {
        Rule::All(children) | Rule::Any(children) => children.iter().fold(0, |total, child| {
            total.saturating_add(expanded_conditions(child, catalogue, counted))
        }),
        Rule::Not(child) => expanded_conditions(child, catalogue, counted),
        Rule::Condition(_) => 1,
        Rule::Related(related) => related.rows.as_ref().map_or(1, |rows| {
            1u64.saturating_add(expanded_conditions(rows, catalogue, counted))
        }),
        Rule::Segment(name) => of_segment(name, counted),
        Rule::Union(names) | Rule::Intersect(names) | Rule::Except(names) => {
            names.iter().fold(0, |total, name| {
                total.saturating_add(of_segment(name, counted))
            })
        }
    }
}

struct Checker<'a> {
    segment: &'a str,
    schema: &'a ProfileSchema,
    catalogue: &'a dyn SegmentCatalogue,
    clock: RunClock,
    errors: Vec<SegmentError>,
    /// Segments whose references were followed to their end already: a loop through one was
    /// reported then, so each is followed once however often it is referred to.
    explored: &'a RefCell<HashSet<String>>,
    /// The related table whose rows this checker's rule tests (the `where` of `has` or
    /// `measure`), where only conditions and groups of them belong.
    inside: Option<&'a str>,
}

impl<'a> Checker<'a> {
    fn error(&mut self, path: &str, problem: String) {
        self.errors.push(SegmentError {
            segment: self.segment.to_owned(),
            path: path.to_owned(),
            problem,
        });
    }

    /// `trail` holds the segments being expanded, to catch a segment that includes itself.
    fn rule(&mut self, rule: &Rule, path: &str, trail: &mut Vec<String>) {
        if let Some(table) = self.inside {
            let misplaced = match rule {
                Rule::Segment(_) | Rule::Union(_) | Rule::Intersect(_) | Rule::Except(_) => {
                    Some("segments are referred to outside it")
                }
                Rule::Related(_) => Some("has and measure do not nest"),
                _ => None,
            };
            if let Some(reason) = misplaced {
                self.error(
                    path,
                    format!("the rule in where tests the columns of {table:?}; {reason}"),
                );
                return;
            }
        }
        match rule {
            Rule::All(children) | Rule::Any(children) => {
                let kind = if matches!(rule, Rule::All(_)) {
                    "all"
                } else {
                    "any"
                };
                for (i, child) in children.iter().enumerate() {
                    self.rule(child, &format!("{path}.{kind}[{i}]"), trail);
                }
            }
            Rule::Not(child) => self.rule(child, &format!("{path}.not"), trail),
            Rule::Condition(condition) => self.condition(condition, path),
            Rule::Related(related) => self.related(related, path, trail),
            Rule::Segment(name) => self.reference(name, &format!("{path}.segment"), trail),
            Rule::Union(names) | Rule::Intersect(names) | Rule::Except(names) => {
                let kind = match rule {
                    Rule::Union(_) => "union",
                    Rule::Intersect(_) => "intersect",
                    _ => "except",
                };
                for (i, name) in names.iter().enumerate() {
                    self.reference(name, &format!("{path}.{kind}[{i}]"), trail);
                }
            }
        }
    }

    fn reference(&mut self, name: &str, path: &str, trail: &mut Vec<String>) {
        if trail.iter().any(|seen| seen == name) {
            trail.push(name.to_owned());
            self.error(
                path,
                format!(
                    "segments refer to each other in a loop: {}",
                    trail.join(" → ")
                ),
            );
            trail.pop();
            return;
        }
        let Some(referred) = self.catalogue.segment(name) else {
            self.error(path, format!("there is no segment named {name:?}"));
            return;
        };
        if self.explored.borrow().contains(name) {
            return;
        }
        // Problems inside the referred segment are its own; only loops through it matter here.
        let mut inner = Checker {
            segment: self.segment,
            schema: self.schema,
            catalogue: self.catalogue,
            clock: self.clock,
            errors: Vec::new(),
            explored: self.explored,
            inside: None,
        };
        trail.push(name.to_owned());
        inner.rule(&referred.rule, path, trail);
        trail.pop();
        self.explored.borrow_mut().insert(name.to_owned());
        let loops = inner
            .errors
            .into_iter()
            .filter(|error| error.problem.starts_with("segments refer to each other"));
        self.errors.extend(loops);
    }

    /// A checker of the rules over `table`'s columns, whose problems the caller takes over.
    fn inside_table<'t>(&self, table: &'t RelatedSchema) -> Checker<'t>
    where
        'a: 't,
    {
        Checker {
            segment: self.segment,
            schema: &table.columns,
            catalogue: self.catalogue,
            clock: self.clock,
            errors: Vec::new(),
            explored: self.explored,
            inside: Some(&table.name),
        }
    }

    fn related(&mut self, related: &RelatedCondition, path: &str, trail: &mut Vec<String>) {
        let Some(table) = self.schema.related(&related.table) else {
            let hint = match self.schema.nearest_related(&related.table) {
                Some(nearest) => format!(" (did you mean {nearest:?}?)"),
                None => String::new(),
            };
            let configured: Vec<&str> = self
                .schema
                .related_tables()
                .iter()
                .map(|table| table.name.as_str())
                .collect();
            let known = if configured.is_empty() {
                "no related table is configured".to_owned()
            } else {
                format!("the related tables are {}", configured.join(", "))
            };
            self.error(
                path,
                format!("unknown related table {:?}{hint}; {known}", related.table),
            );
            return;
        };
        if let Some(rows) = &related.rows {
            let mut inner = self.inside_table(table);
            inner.rule(rows, &format!("{path}.where"), trail);
            self.errors.append(&mut inner.errors);
        }
        if let Some(window) = &related.window {
            let window_path = format!("{path}.window");
            match &table.dated_by {
                None => self.error(
                    &window_path,
                    format!(
                        "{:?} has no date column for a window: set dated_by in its configuration",
                        table.name
                    ),
                ),
                Some(dated_by) => {
                    let mut inner = self.inside_table(table);
                    let condition = Condition {
                        attribute: dated_by.clone(),
                        test: window.clone(),
                        case_insensitive: false,
                    };
                    inner.condition(&condition, &window_path);
                    self.errors.append(&mut inner.errors);
                }
            }
        }
        let measured = match &related.column {
            None => None,
            Some(column) => match table.columns.get(column) {
                Some(attribute) => Some(attribute.kind),
                None => {
                    let hint = match table.columns.nearest(column) {
                        Some(nearest) => format!(" (did you mean {nearest:?}?)"),
                        None => String::new(),
                    };
                    self.error(
                        path,
                        format!("{:?} has no column {column:?}{hint}", table.name),
                    );
                    return;
                }
            },
        };
        let Some(kind) = measure_type(related.aggregate, measured) else {
            self.error(
                path,
                format!(
                    "{} does not apply to {:?}, which is {}",
                    related.aggregate.name(),
                    related.column.as_deref().unwrap_or_default(),
                    measured.map_or("nothing".to_owned(), |kind| kind.to_string())
                ),
            );
            return;
        };
        let what = match &related.column {
            Some(column) => format!("the {} of {column:?}", related.aggregate.name()),
            None => format!("the count of {:?}", table.name),
        };
        if !operator_applies(&related.test, kind) {
            self.error(
                path,
                format!(
                    "{} does not apply to {what}, which is {kind}",
                    related.test.operator()
                ),
            );
            return;
        }
        for literal in literals(&related.test) {
            if let Err(problem) = typed_literal(literal, kind, &self.clock) {
                self.error(path, format!("bad literal for {what}: {problem}"));
            }
        }
    }

    fn condition(&mut self, condition: &Condition, path: &str) {
        let Some(attribute) = self.schema.get(&condition.attribute) else {
            let hint = match self.schema.nearest(&condition.attribute) {
                Some(nearest) => format!(" (did you mean {nearest:?}?)"),
                None => String::new(),
            };
            self.error(
                path,
                format!("unknown attribute {:?}{hint}", condition.attribute),
            );
            return;
        };
        let kind = attribute.kind;
        if !operator_applies(&condition.test, kind) {
            self.error(
                path,
                format!(
                    "{} does not apply to {:?}, which is {kind}",
                    condition.test.operator(),
                    condition.attribute
                ),
            );
            return;
        }
        if condition.case_insensitive && kind != AttributeType::Text {
            self.error(
                path,
                format!(
                    "case_insensitive applies to text, and {:?} is {kind}",
                    condition.attribute
                ),
            );
        }
        for literal in literals(&condition.test) {
            if let Err(problem) = typed_literal(literal, kind, &self.clock) {
                self.error(
                    path,
                    format!("bad literal for {:?}: {problem}", condition.attribute),
                );
            }
        }
    }
}

fn literals(test: &Test) -> Vec<&serde_json::Value> {
    match test {
        Test::Equals(v)
        | Test::NotEquals(v)
        | Test::LessThan(v)
        | Test::LessOrEqual(v)
        | Test::GreaterThan(v)
        | Test::GreaterOrEqual(v)
        | Test::Before(v)
        | Test::After(v) => vec![v],
        Test::In(values) | Test::NotIn(values) => values.iter().collect(),
        Test::Between(min, max) => vec![min, max],
        _ => Vec::new(),
    }
}

/// The type of a measure, or `None` when the aggregate does not apply to the column's type:
/// a count is an integer; a sum keeps a number's type; an average is a number; the least and
/// greatest value keep the column's type (numbers, dates, instants, text).
pub fn measure_type(aggregate: Aggregate, column: Option<AttributeType>) -> Option<AttributeType> {
    use AttributeType as T;
    match (aggregate, column) {
        (Aggregate::Count, _) => Some(T::Integer),
        (Aggregate::Sum, Some(kind)) if kind.is_numeric() => Some(kind),
        (Aggregate::Avg, Some(kind)) if kind.is_numeric() => Some(T::Number),
        (Aggregate::Min | Aggregate::Max, Some(kind))
            if kind.is_numeric() || kind.is_temporal() || kind == T::Text =>
        {
            Some(kind)
        }
        _ => None,
    }
}

/// Which operators each type of attribute takes.
pub(crate) fn operator_applies(test: &Test, kind: AttributeType) -> bool {
    operator_suits(test.operator(), kind)
}

/// Whether the operator named `op` (as a definition writes it: `equals`, `within_last`, …)
/// takes an attribute of type `kind`; an unknown operator takes none.
pub fn operator_suits(op: &str, kind: AttributeType) -> bool {
    use AttributeType as T;
    match op {
        "is_null" | "is_not_null" => true,
        "equals" | "not_equals" | "in" | "not_in" => {
            matches!(kind, T::Text | T::Integer | T::Number | T::Date)
        }
        "contains" | "starts_with" | "ends_with" | "is_empty" | "is_not_empty" => kind == T::Text,
        "less_than" | "less_or_equal" | "greater_than" | "greater_or_equal" => kind.is_numeric(),
        "between" => kind.is_numeric() || kind.is_temporal(),
        "before" | "after" | "within_last" | "more_than_ago" => kind.is_temporal(),
        "is_true" | "is_false" => kind == T::Boolean,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, RelatedSchema};
    use crate::segment::{SegmentFormat, parse_segments};

    fn schema() -> ProfileSchema {
        let attribute = |name: &str, kind| Attribute {
            name: name.into(),
            kind,
        };
        let orders = RelatedSchema {
            name: "orders".into(),
            columns: ProfileSchema::new(vec![
                attribute("status", AttributeType::Text),
                attribute("amount", AttributeType::Number),
                attribute("ordered_at", AttributeType::Timestamp),
            ]),
            dated_by: Some("ordered_at".into()),
        };
        let tickets = RelatedSchema {
            name: "tickets".into(),
            columns: ProfileSchema::new(vec![attribute("topic", AttributeType::Text)]),
            dated_by: None,
        };
        ProfileSchema::new(vec![
            attribute("country", AttributeType::Text),
            attribute("lifetime_value", AttributeType::Number),
            attribute("last_purchase_at", AttributeType::Timestamp),
            attribute("vip", AttributeType::Boolean),
        ])
        .with_related(vec![orders, tickets])
    }

    fn problems(yaml: &str) -> Vec<String> {
        let segments = parse_segments(yaml, SegmentFormat::Yaml, "test.yaml").unwrap();
        segments
            .iter()
            .flat_map(|segment| {
                validate(segment, &schema(), &segments)
                    .err()
                    .unwrap_or_default()
            })
            .map(|error| error.to_string())
            .collect()
    }

    #[test]
    fn a_valid_segment_has_no_problems() {
        let yaml = "name: ok\nrule: { all: [ { attribute: country, op: equals, value: US }, { attribute: vip, op: is_true } ] }";
        assert!(problems(yaml).is_empty());
    }

    #[test]
    fn unknown_attributes_get_the_nearest_match() {
        let found = problems("name: s\nrule: { attribute: contry, op: equals, value: US }");
        assert_eq!(
            found,
            [r#"segment "s", rule: unknown attribute "contry" (did you mean "country"?)"#]
        );
    }

    #[test]
    fn operators_must_suit_the_type_and_literals_must_parse() {
        let yaml = r#"
name: s
rule:
  any:
    - { attribute: vip, op: contains, value: "x" }
    - { attribute: lifetime_value, op: greater_than, value: "lots" }
    - { attribute: last_purchase_at, op: before, value: "yesterday" }
    - { attribute: lifetime_value, op: equals, value: 3, case_insensitive: true }
"#;
        let found = problems(yaml);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(
            found[0].contains("rule.any[0]: contains does not apply to \"vip\", which is boolean"),
            "{found:?}"
        );
        assert!(
            found[1].contains("rule.any[1]: bad literal")
                && found[1].contains("\"lots\" is not a number")
        );
        assert!(found[2].contains("rule.any[2]") && found[2].contains("YYYY-MM-DD"));
        assert!(found[3].contains("case_insensitive applies to text"));
    }

    #[test]
    fn references_must_exist_and_never_loop() {
        let yaml = r#"
segments:
  - { name: a, rule: { union: [b, c] } }
  - { name: b, rule: { segment: a } }
  - { name: c, rule: { attribute: vip, op: is_true } }
  - { name: d, rule: { intersect: [c, nowhere] } }
"#;
        let found = problems(yaml);
        assert!(
            found
                .iter()
                .any(|p| p.contains("segment \"a\"") && p.contains("a → b → a")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|p| p.contains(
                "segment \"d\", rule.intersect[1]: there is no segment named \"nowhere\""
            )),
            "{found:?}"
        );
    }

    /// Ten segments, each the union of ten copies of the one before: 10¹⁰ conditions expanded.
    fn doubling_segments(levels: usize) -> String {
        let mut yaml =
            String::from("segments:\n  - { name: s0, rule: { attribute: vip, op: is_true } }\n");
        for level in 1..=levels {
            let copies = vec![format!("s{}", level - 1); 10].join(", ");
            yaml.push_str(&format!(
                "  - {{ name: s{level}, rule: {{ union: [{copies}] }} }}\n"
            ));
        }
        yaml
    }

    #[test]
    fn references_are_followed_once_each_and_expansion_is_bounded() {
        // Followed path by path, this would take 10¹⁰ steps and never end.
        let found = problems(&doubling_segments(10));
        // s0 to s4 expand to at most 10,000 conditions; s5 and above to more.
        let too_big: Vec<&String> = found
            .iter()
            .filter(|problem| problem.contains("more than 10000 conditions"))
            .collect();
        assert_eq!(too_big.len(), 6, "{found:?}");
        assert!(too_big[0].starts_with("segment \"s5\", rule:"), "{found:?}");
        assert!(problems(&doubling_segments(4)).is_empty());
    }

    #[test]
    fn related_conditions_are_checked_against_their_table() {
        let valid = r#"
name: behaviour
rule:
  all:
    - { has: orders, at_least: 3, window: { op: within_last, amount: 90, unit: days } }
    - measure: sum
      of: amount
      over: orders
      where: { any: [ { attribute: status, op: equals, value: paid }, { not: { attribute: status, op: is_null } } ] }
      window: { op: between, min: "2026-01-01", max: "2026-06-30" }
      op: greater_than
      value: 500
    - not: { has: tickets, where: { attribute: topic, op: contains, value: refund } }
    - { measure: max, of: ordered_at, over: orders, op: after, value: "2026-01-01" }
"#;
        assert!(problems(valid).is_empty(), "{:?}", problems(valid));
        let broken = r#"
name: s
rule:
  all:
    - { has: order }
    - { has: orders, where: { attribute: stats, op: equals, value: paid } }
    - { has: tickets, window: { op: within_last, amount: 7, unit: days } }
    - { measure: sum, of: status, over: orders, op: greater_than, value: 1 }
    - { measure: count, over: orders, op: contains, value: "3" }
    - { has: orders, where: { segment: other } }
    - { measure: avg, of: amount, over: orders, op: greater_than, value: lots }
    - { has: orders, where: { has: tickets } }
"#;
        let found = problems(broken);
        assert_eq!(found.len(), 8, "{found:#?}");
        assert!(
            found[0].contains(
                "rule.all[0]: unknown related table \"order\" (did you mean \"orders\"?); the related tables are orders, tickets"
            ),
            "{found:#?}"
        );
        assert!(
            found[1].contains(
                "rule.all[1].where: unknown attribute \"stats\" (did you mean \"status\"?)"
            ),
            "{found:#?}"
        );
        assert!(
            found[2].contains("rule.all[2].window: \"tickets\" has no date column"),
            "{found:#?}"
        );
        assert!(
            found[3].contains("rule.all[3]: sum does not apply to \"status\", which is text"),
            "{found:#?}"
        );
        assert!(
            found[4]
                .contains("contains does not apply to the count of \"orders\", which is integer"),
            "{found:#?}"
        );
        assert!(
            found[5].contains("rule.all[5].where: the rule in where tests the columns of \"orders\"; segments are referred to outside it"),
            "{found:#?}"
        );
        assert!(
            found[6].contains("bad literal for the avg of \"amount\"")
                && found[6].contains("\"lots\" is not a number"),
            "{found:#?}"
        );
        assert!(
            found[7].contains("has and measure do not nest"),
            "{found:#?}"
        );
    }

    #[test]
    fn without_related_tables_the_error_says_none_is_configured() {
        let segments = parse_segments(
            "name: s\nrule: { has: orders }",
            SegmentFormat::Yaml,
            "t.yaml",
        )
        .unwrap();
        let plain = ProfileSchema::new(vec![]);
        let errors = validate(&segments[0], &plain, &segments).unwrap_err();
        assert!(
            errors[0]
                .problem
                .ends_with("no related table is configured"),
            "{errors:?}"
        );
    }
}
