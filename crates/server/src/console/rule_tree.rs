//! The segment builder's model: a rule tree as the rows a form shows — groups ("all of", "any
//! of", "none of") and conditions, each with its depth — and back. Every row knows its path in
//! the rule (`rule.all[1].any[0]`), so a validation problem is shown at its rule.

use segsync_domain::{AttributeType, ProfileSchema};
use serde_json::{Value, json};

use super::fields::Fields;

/// Operators as the builder offers them, with what they need.
pub(crate) const OPERATORS: [(&str, &str); 22] = [
    ("equals", "equals"),
    ("not_equals", "does not equal"),
    ("in", "is one of (comma-separated)"),
    ("not_in", "is none of (comma-separated)"),
    ("contains", "contains"),
    ("starts_with", "starts with"),
    ("ends_with", "ends with"),
    ("is_empty", "is empty"),
    ("is_not_empty", "is not empty"),
    ("less_than", "is less than"),
    ("less_or_equal", "is at most"),
    ("greater_than", "is greater than"),
    ("greater_or_equal", "is at least"),
    ("between", "is between (value and second value)"),
    ("before", "is before"),
    ("after", "is after"),
    ("within_last", "is within the last (amount and unit)"),
    ("more_than_ago", "is more than … ago (amount and unit)"),
    ("is_true", "is true"),
    ("is_false", "is false"),
    ("is_null", "has no value"),
    ("is_not_null", "has a value"),
];

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) depth: usize,
    /// `all`, `any`, `none` or `condition`.
    pub(crate) kind: String,
    pub(crate) attribute: String,
    pub(crate) op: String,
    pub(crate) value: String,
    pub(crate) value2: String,
    /// Where this row is in the rule, as validation problems name it.
    pub(crate) path: String,
    pub(crate) problem: Option<String>,
}

impl Row {
    fn group(depth: usize, kind: &str) -> Self {
        Self {
            depth,
            kind: kind.to_owned(),
            attribute: String::new(),
            op: String::new(),
            value: String::new(),
            value2: String::new(),
            path: String::new(),
            problem: None,
        }
    }

    fn condition(depth: usize) -> Self {
        Self {
            op: "equals".to_owned(),
            ..Self::group(depth, "condition")
        }
    }

    pub(crate) fn is_group(&self) -> bool {
        self.kind != "condition"
    }

    /// The indentation of the row, as the stylesheet's `depth-N` class: the depth, up to the
    /// deepest the builder takes (a deeper rule entered as JSON is shown no further in).
    pub(crate) fn indent_level(&self) -> usize {
        self.depth.min(MAX_DEPTH)
    }
}

/// A rule the builder cannot show as rows (segment references, set operations): it is edited
/// as JSON instead.
pub(crate) struct NotRows;

/// The rows of a rule, in order, each child after its group.
pub(crate) fn rows_of(rule: &Value) -> Result<Vec<Row>, NotRows> {
    let mut rows = Vec::new();
    push_rows(rule, 0, &mut rows)?;
    if rows.first().is_none_or(|row| !row.is_group()) {
        // A lone condition becomes the only child of an "all of" group.
        for row in &mut rows {
            row.depth += 1;
        }
        rows.insert(0, Row::group(0, "all"));
    }
    number(&mut rows);
    Ok(rows)
}

fn push_rows(rule: &Value, depth: usize, rows: &mut Vec<Row>) -> Result<(), NotRows> {
    let text = |value: &Value| match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    if let Some(children) = rule["all"].as_array().or_else(|| rule["any"].as_array()) {
        let kind = if rule["all"].is_array() { "all" } else { "any" };
        rows.push(Row::group(depth, kind));
        for child in children {
            push_rows(child, depth + 1, rows)?;
        }
        return Ok(());
    }
    if rule["not"].is_object() {
        rows.push(Row::group(depth, "none"));
        match rule["not"]["any"].as_array() {
            Some(children) => {
                for child in children {
                    push_rows(child, depth + 1, rows)?;
                }
            }
            None => push_rows(&rule["not"], depth + 1, rows)?,
        }
        return Ok(());
    }
    let Some(attribute) = rule["attribute"].as_str() else {
        return Err(NotRows);
    };
    let op = rule["op"].as_str().unwrap_or_default().to_owned();
    let (value, value2) = match op.as_str() {
        "in" | "not_in" => (
            rule["values"]
                .as_array()
                .map(|values| values.iter().map(text).collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
            String::new(),
        ),
        "between" => (text(&rule["min"]), text(&rule["max"])),
        "within_last" | "more_than_ago" => (text(&rule["amount"]), text(&rule["unit"])),
        _ => (text(&rule["value"]), String::new()),
    };
    rows.push(Row {
        attribute: attribute.to_owned(),
        op,
        value,
        value2,
        ..Row::condition(depth)
    });
    Ok(())
}

/// Gives each row its path in the rule.
fn number(rows: &mut [Row]) {
    // The path of each open group and how many children it has had so far.
    let mut open: Vec<(String, String, usize)> = Vec::new();
    for row in rows.iter_mut() {
        open.truncate(row.depth);
        let path = match open.last_mut() {
            None => "rule".to_owned(),
            Some((path, kind, count)) => {
                let child = match kind.as_str() {
                    "none" => format!("{path}.not.any[{count}]"),
                    other => format!("{path}.{other}[{count}]"),
                };
                *count += 1;
                child
            }
        };
        row.path = path.clone();
        if row.is_group() {
            open.push((path, row.kind.clone(), 0));
        }
    }
}

/// The most rows the builder takes; a larger rule is edited as JSON.
pub(crate) const MAX_ROWS: usize = 500;

/// The deepest a row of the builder may be nested.
pub(crate) const MAX_DEPTH: usize = 12;

/// Why the builder does not take a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BuilderLimit {
    #[error("the builder holds at most {MAX_ROWS} rules; edit a larger rule as JSON")]
    TooManyRows,
    #[error("the builder nests groups at most {MAX_DEPTH} deep; edit a deeper rule as JSON")]
    TooDeep,
}

/// The rows a submitted builder form holds (`n.0.kind`, `n.0.depth`, … numbered from 0), read
/// in one pass over the form. Past [`MAX_ROWS`] rows or [`MAX_DEPTH`] levels, which limit.
pub(crate) fn rows_submitted(fields: &Fields) -> Result<Vec<Row>, BuilderLimit> {
    let mut rows: Vec<Option<Row>> = Vec::new();
    for (name, value) in fields.pairs() {
        let Some((index, part)) = name
            .strip_prefix("n.")
            .and_then(|rest| rest.split_once('.'))
        else {
            continue;
        };
        let Ok(index) = index.parse::<usize>() else {
            continue;
        };
        if index >= MAX_ROWS {
            return Err(BuilderLimit::TooManyRows);
        }
        if rows.len() <= index {
            rows.resize(index + 1, None);
        }
        let row = rows[index].get_or_insert_with(|| Row::group(1, ""));
        let value = value.to_owned();
        match part {
            "kind" => row.kind = value,
            "depth" => row.depth = value.parse().unwrap_or(1),
            "attribute" => row.attribute = value,
            "op" => row.op = value,
            "value" => row.value = value,
            "value2" => row.value2 = value,
            _ => {}
        }
    }
    // The rows run from 0 to the first one missing its kind, as the form numbers them.
    let mut rows: Vec<Row> = rows
        .into_iter()
        .map_while(|row| row.filter(|row| !row.kind.is_empty()))
        .collect();
    if rows.is_empty() {
        rows.push(Row::group(0, "all"));
    }
    rows[0].depth = 0;
    for index in 1..rows.len() {
        // A row nests at most one level below the row before it, and only below a group.
        let before = &rows[index - 1];
        let deepest = if before.is_group() {
            before.depth + 1
        } else {
            before.depth
        };
        rows[index].depth = rows[index].depth.clamp(1, deepest);
        if rows[index].depth > MAX_DEPTH {
            return Err(BuilderLimit::TooDeep);
        }
    }
    number(&mut rows);
    Ok(rows)
}

/// Where a row's subtree ends: the index after its last descendant.
fn subtree_end(rows: &[Row], index: usize) -> usize {
    let depth = rows[index].depth;
    rows[index + 1..]
        .iter()
        .position(|row| row.depth <= depth)
        .map_or(rows.len(), |offset| index + 1 + offset)
}

/// Applies a builder button: `add_condition.N`, `add_group.N` (inside group N) or `remove.N`.
pub(crate) fn apply(rows: &mut Vec<Row>, action: &str) {
    let Some((verb, index)) = action.split_once('.') else {
        return;
    };
    let Ok(index) = index.parse::<usize>() else {
        return;
    };
    if index >= rows.len() {
        return;
    }
    let end = subtree_end(rows, index);
    let depth = rows[index].depth + 1;
    match verb {
        "add_condition" if rows[index].is_group() => rows.insert(end, Row::condition(depth)),
        "add_group" if rows[index].is_group() => {
            rows.insert(end, Row::condition(depth + 1));
            rows.insert(end, Row::group(depth, "any"));
        }
        "remove" if index > 0 => {
            rows.drain(index..end);
        }
        _ => {}
    }
    number(rows);
}

/// The rule the rows say, with literals typed by the attribute they compare with.
pub(crate) fn rule_of(rows: &[Row], schema: &ProfileSchema) -> Value {
    build(rows, 0, schema).0
}

fn build(rows: &[Row], index: usize, schema: &ProfileSchema) -> (Value, usize) {
    let row = &rows[index];
    if !row.is_group() {
        return (condition(row, schema), index + 1);
    }
    let mut children = Vec::new();
    let mut next = index + 1;
    while next < rows.len() && rows[next].depth > row.depth {
        let (child, after) = build(rows, next, schema);
        children.push(child);
        next = after;
    }
    let group = match row.kind.as_str() {
        "any" => json!({ "any": children }),
        "none" => json!({ "not": { "any": children } }),
        _ => json!({ "all": children }),
    };
    (group, next)
}

fn condition(row: &Row, schema: &ProfileSchema) -> Value {
    let kind = schema.get(&row.attribute).map(|attribute| attribute.kind);
    let literal = |text: &str| -> Value {
        let text = text.trim();
        match kind {
            Some(AttributeType::Integer | AttributeType::Number) => {
                serde_json::from_str::<serde_json::Number>(text)
                    .map_or_else(|_| Value::String(text.to_owned()), Value::Number)
            }
            Some(AttributeType::Boolean) if text == "true" || text == "false" => {
                Value::Bool(text == "true")
            }
            _ => Value::String(text.to_owned()),
        }
    };
    let mut condition = json!({ "attribute": row.attribute, "op": row.op });
    match row.op.as_str() {
        "is_empty" | "is_not_empty" | "is_true" | "is_false" | "is_null" | "is_not_null" => {}
        "in" | "not_in" => {
            condition["values"] = row
                .value
                .split(',')
                .filter(|value| !value.trim().is_empty())
                .map(literal)
                .collect();
        }
        "between" => {
            condition["min"] = literal(&row.value);
            condition["max"] = literal(&row.value2);
        }
        "within_last" | "more_than_ago" => {
            condition["amount"] = serde_json::from_str::<serde_json::Number>(row.value.trim())
                .map_or_else(|_| Value::String(row.value.clone()), Value::Number);
            condition["unit"] = Value::String(row.value2.trim().to_owned());
        }
        _ => condition["value"] = literal(&row.value),
    }
    condition
}

/// Places each problem at the deepest row whose path begins it; returns those no row took.
pub(crate) fn place(rows: &mut [Row], problems: Vec<(String, String)>) -> Vec<String> {
    let mut unplaced = Vec::new();
    for (path, problem) in problems {
        let best = rows
            .iter_mut()
            .filter(|row| {
                path == row.path
                    || path.starts_with(&format!("{}.", row.path))
                    || path.starts_with(&format!("{}[", row.path))
            })
            .max_by_key(|row| row.path.len());
        match best {
            Some(row) => {
                row.problem = Some(match row.problem.take() {
                    Some(earlier) => format!("{earlier}; {problem}"),
                    None => problem,
                });
            }
            None => unplaced.push(format!("{path}: {problem}")),
        }
    }
    unplaced
}

#[cfg(test)]
mod tests {
    use super::*;
    use segsync_domain::Attribute;

    fn schema() -> ProfileSchema {
        ProfileSchema::new(vec![
            Attribute {
                name: "tier".into(),
                kind: AttributeType::Text,
            },
            Attribute {
                name: "lifetime_value".into(),
                kind: AttributeType::Number,
            },
        ])
    }

    #[test]
    fn a_nested_rule_round_trips_through_rows_with_paths() {
        let rule = json!({ "all": [
            { "attribute": "tier", "op": "in", "values": ["gold", "platinum"] },
            { "any": [
                { "attribute": "lifetime_value", "op": "greater_than", "value": 1000 },
                { "not": { "any": [{ "attribute": "tier", "op": "equals", "value": "bronze" }] } }
            ] }
        ] });
        let rows = rows_of(&rule).ok().unwrap();
        let paths: Vec<&str> = rows.iter().map(|row| row.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "rule",
                "rule.all[0]",
                "rule.all[1]",
                "rule.all[1].any[0]",
                "rule.all[1].any[1]",
                "rule.all[1].any[1].not.any[0]"
            ]
        );
        assert_eq!(rule_of(&rows, &schema()), rule);
    }

    #[test]
    fn buttons_add_and_remove_rows_inside_their_group() {
        let mut rows = rows_of(&json!({ "all": [{ "attribute": "tier", "op": "is_null" }] }))
            .ok()
            .unwrap();
        apply(&mut rows, "add_group.0");
        apply(&mut rows, "add_condition.2");
        let shape: Vec<(usize, &str)> = rows
            .iter()
            .map(|row| (row.depth, row.kind.as_str()))
            .collect();
        assert_eq!(
            shape,
            [
                (0, "all"),
                (1, "condition"),
                (1, "any"),
                (2, "condition"),
                (2, "condition")
            ]
        );
        apply(&mut rows, "remove.2");
        assert_eq!(rows.len(), 2);
        apply(&mut rows, "remove.0");
        assert_eq!(rows.len(), 2, "the root stays");
    }

    #[test]
    fn problems_land_at_their_rule() {
        let mut rows = rows_of(&json!({ "any": [
            { "attribute": "tier", "op": "equals", "value": "gold" },
            { "attribute": "tier", "op": "equals", "value": "x" }
        ] }))
        .ok()
        .unwrap();
        let left = place(
            &mut rows,
            vec![
                ("rule.any[1]".into(), "unknown attribute".into()),
                ("name".into(), "a segment needs a name".into()),
            ],
        );
        assert_eq!(rows[2].problem.as_deref(), Some("unknown attribute"));
        assert_eq!(rows[1].problem, None);
        assert_eq!(left, ["name: a segment needs a name"]);
    }

    fn form(pairs: &[(String, String)]) -> Fields {
        serde_json::from_value(serde_json::json!(pairs)).unwrap()
    }

    #[test]
    fn a_huge_nested_form_is_refused_quickly() {
        // 20,000 rows, each nested one deeper than the one before.
        let mut pairs = Vec::new();
        for index in 0..20_000 {
            pairs.push((format!("n.{index}.kind"), "all".to_owned()));
            pairs.push((format!("n.{index}.depth"), index.to_string()));
        }
        let refused = rows_submitted(&form(&pairs)).unwrap_err().to_string();
        assert!(refused.contains("at most 500"), "{refused}");

        let mut pairs = Vec::new();
        for index in 0..(MAX_DEPTH + 2) {
            pairs.push((format!("n.{index}.kind"), "all".to_owned()));
            pairs.push((format!("n.{index}.depth"), index.to_string()));
        }
        let refused = rows_submitted(&form(&pairs)).unwrap_err().to_string();
        assert!(refused.contains("12 deep"), "{refused}");
    }

    proptest::proptest! {
        #[test]
        fn any_form_reads_into_rows_a_rule_can_be_built_from(
            pairs in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        "n\\.[0-9]{1,3}\\.(kind|depth|attribute|op|value|value2)",
                        "[a-z.0-9]{0,12}",
                    ],
                    proptest::prop_oneof![
                        "(all|any|none|condition)",
                        "[0-9]{1,4}",
                        "\\PC{0,8}",
                    ],
                ),
                0..200,
            )
        ) {
            if let Ok(rows) = rows_submitted(&form(&pairs)) {
                proptest::prop_assert!(!rows.is_empty() && rows.len() <= MAX_ROWS);
                proptest::prop_assert_eq!(rows[0].depth, 0);
                for pair in rows.windows(2) {
                    proptest::prop_assert!(pair[1].depth >= 1 && pair[1].depth <= pair[0].depth + 1);
                    proptest::prop_assert!(pair[1].depth <= MAX_DEPTH);
                }
                let rule = rule_of(&rows, &schema());
                proptest::prop_assert!(rule.is_object());
            }
        }
    }

    #[test]
    fn references_to_segments_are_not_rows() {
        assert!(rows_of(&json!({ "segment": "gold" })).is_err());
        assert!(rows_of(&json!({ "all": [{ "union": ["a", "b"] }] })).is_err());
    }
}
