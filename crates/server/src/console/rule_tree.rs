//! The segment builder's model: a rule tree as the rows a form shows — groups ("all of", "any
//! of", "none of"), conditions, and what customers did ("has related rows", "a measure of
//! related rows", whose rows below them are the rule over the related table's columns), each
//! with its depth — and back. Every row knows its path in the rule (`rule.all[1].any[0]`,
//! `rule.all[0].where.all[1]`), so a validation problem is shown at its rule.

use segsync_domain::segment::{Aggregate, measure_type};
use segsync_domain::{AttributeType, ProfileSchema};
use serde_json::{Map, Value, json};

use super::fields::Fields;

/// Operators as the builder offers them, with what they need.
pub(crate) const OPERATORS: [(&str, &str); 22] = [
    ("equals", "equals"),
    ("not_equals", "does not equal"),
    ("in", "is one of"),
    ("not_in", "is none of"),
    ("contains", "contains"),
    ("starts_with", "starts with"),
    ("ends_with", "ends with"),
    ("is_empty", "is empty"),
    ("is_not_empty", "is not empty"),
    ("less_than", "is less than"),
    ("less_or_equal", "is at most"),
    ("greater_than", "is greater than"),
    ("greater_or_equal", "is at least"),
    ("between", "is between"),
    ("before", "is before"),
    ("after", "is after"),
    ("within_last", "is within the last"),
    ("more_than_ago", "is more than … ago"),
    ("is_true", "is true"),
    ("is_false", "is false"),
    ("is_null", "has no value"),
    ("is_not_null", "has a value"),
];

/// How a "has" row bounds the number of related rows.
pub(crate) const COUNT_BOUNDS: [(&str, &str); 3] = [
    ("at_least", "at least"),
    ("at_most", "at most"),
    ("exactly", "exactly"),
];

/// The measures a "measure" row offers.
pub(crate) const AGGREGATES: [(&str, &str); 5] = [
    ("count", "count"),
    ("sum", "sum"),
    ("min", "smallest"),
    ("max", "largest"),
    ("avg", "average"),
];

/// When related rows count, tested on the table's date column.
pub(crate) const WINDOWS: [(&str, &str); 6] = [
    ("", "at any time"),
    ("within_last", "within the last"),
    ("more_than_ago", "more than … ago"),
    ("between", "between"),
    ("before", "before"),
    ("after", "after"),
];

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub(crate) depth: usize,
    /// `all`, `any`, `none`, `condition`, `has` or `measure`.
    pub(crate) kind: String,
    pub(crate) attribute: String,
    /// A condition's operator; a "has" row's bound (`at_least`, …); what a measure is
    /// compared by.
    pub(crate) op: String,
    pub(crate) value: String,
    pub(crate) value2: String,
    /// Values chosen from the attribute's common ones, for `in` and `not_in` (with any others
    /// typed into `value`).
    pub(crate) chosen: Vec<String>,
    /// The related table of a "has" or "measure" row.
    pub(crate) table: String,
    /// A "measure" row's aggregate (`count`, `sum`, …) and the column it measures.
    pub(crate) aggregate: String,
    pub(crate) of: String,
    /// A "has" or "measure" row's window: its operator (empty: at any time) and values.
    pub(crate) window_op: String,
    pub(crate) window_value: String,
    pub(crate) window_value2: String,
    /// The related table whose columns this row's conditions test, inside a "has" or
    /// "measure" row; `None` for the profiles' own attributes.
    pub(crate) scope: Option<String>,
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
            chosen: Vec::new(),
            table: String::new(),
            aggregate: String::new(),
            of: String::new(),
            window_op: String::new(),
            window_value: String::new(),
            window_value2: String::new(),
            scope: None,
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

    /// A "has" or "measure" row over `table`.
    fn related(depth: usize, kind: &str, table: &str) -> Self {
        let measure = kind == "measure";
        Self {
            table: table.to_owned(),
            op: if measure { "greater_than" } else { "at_least" }.to_owned(),
            value: if measure { "" } else { "1" }.to_owned(),
            aggregate: if measure { "sum" } else { "" }.to_owned(),
            ..Self::group(depth, kind)
        }
    }

    /// Whether rows nest below this one: groups, and the rows a related row takes.
    pub(crate) fn is_group(&self) -> bool {
        self.kind != "condition"
    }

    /// A "has" or "measure" row.
    pub(crate) fn is_related(&self) -> bool {
        self.kind == "has" || self.kind == "measure"
    }

    /// The indentation of the row, as the stylesheet's `depth-N` class: the depth, up to the
    /// deepest the builder takes (a deeper rule entered as JSON is shown no further in).
    pub(crate) fn indent_level(&self) -> usize {
        self.depth.min(MAX_DEPTH)
    }
}

/// A rule the builder cannot show as rows (segment references, set operations, a related
/// condition inside another): it is edited as JSON instead.
pub(crate) struct NotRows;

/// The rows of a rule, in order, each child after its group.
pub(crate) fn rows_of(rule: &Value) -> Result<Vec<Row>, NotRows> {
    let mut rows = Vec::new();
    push_rows(rule, 0, &mut rows)?;
    if rows
        .first()
        .is_none_or(|row| !row.is_group() || row.is_related())
    {
        // A lone condition becomes the only child of an "all of" group.
        for row in &mut rows {
            row.depth += 1;
        }
        rows.insert(0, Row::group(0, "all"));
    }
    number(&mut rows);
    Ok(rows)
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A test's values as a row shows them: `in` as a comma-separated list, `between` as two
/// values, periods as an amount and a unit.
fn values_of(op: &str, rule: &Value) -> (String, String) {
    match op {
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
    }
}

fn push_rows(rule: &Value, depth: usize, rows: &mut Vec<Row>) -> Result<(), NotRows> {
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
    if rule["has"].is_string() || rule["measure"].is_string() {
        return push_related(rule, depth, rows);
    }
    let Some(attribute) = rule["attribute"].as_str() else {
        return Err(NotRows);
    };
    let op = rule["op"].as_str().unwrap_or_default().to_owned();
    let (value, value2) = values_of(&op, rule);
    rows.push(Row {
        attribute: attribute.to_owned(),
        op,
        value,
        value2,
        ..Row::condition(depth)
    });
    Ok(())
}

/// A "has" or "measure" rule as its row, followed by the rows of its `where` rule: the
/// conditions of an `all` one by one, any other rule as the one row below it.
fn push_related(rule: &Value, depth: usize, rows: &mut Vec<Row>) -> Result<(), NotRows> {
    // The rows still open above this one are the last row of each shallower depth.
    let inside_related = (0..depth).any(|level| {
        rows.iter()
            .rev()
            .find(|row| row.depth == level)
            .is_some_and(Row::is_related)
    });
    if inside_related {
        return Err(NotRows);
    }
    let mut row = if let Some(table) = rule["has"].as_str() {
        let mut row = Row::related(depth, "has", table);
        row.value = String::new();
        for (bound, _) in COUNT_BOUNDS {
            if !rule[bound].is_null() {
                row.op = bound.to_owned();
                row.value = text(&rule[bound]);
            }
        }
        row
    } else {
        let table = rule["over"].as_str().unwrap_or_default();
        let mut row = Row::related(depth, "measure", table);
        row.aggregate = text(&rule["measure"]);
        row.of = text(&rule["of"]);
        row.op = text(&rule["op"]);
        (row.value, row.value2) = values_of(&row.op, rule);
        row
    };
    let window = &rule["window"];
    if window.is_object() {
        row.window_op = text(&window["op"]);
        (row.window_value, row.window_value2) = values_of(&row.window_op, window);
    }
    rows.push(row);
    match rule.get("where") {
        None | Some(Value::Null) => {}
        Some(rows_rule) => match rows_rule["all"].as_array() {
            Some(children) => {
                for child in children {
                    push_rows(child, depth + 1, rows)?;
                }
            }
            None => push_rows(rows_rule, depth + 1, rows)?,
        },
    }
    Ok(())
}

/// Gives each row its path in the rule, and the related table its conditions test.
fn number(rows: &mut [Row]) {
    // How many rows sit directly below each row: a related row's one child is its whole
    // `where`, several are the conditions of an `all`.
    let mut children = vec![0usize; rows.len()];
    let mut parents: Vec<usize> = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        parents.truncate(row.depth);
        if let Some(&parent) = parents.last() {
            children[parent] += 1;
        }
        if row.is_group() {
            parents.truncate(row.depth);
            parents.push(index);
        }
    }
    struct Open {
        path: String,
        kind: String,
        count: usize,
        children: usize,
        scope: Option<String>,
    }
    let mut open: Vec<Open> = Vec::new();
    for (index, row) in rows.iter_mut().enumerate() {
        open.truncate(row.depth);
        let (path, scope) = match open.last_mut() {
            None => ("rule".to_owned(), None),
            Some(parent) => {
                let path = &parent.path;
                let count = parent.count;
                let child = match parent.kind.as_str() {
                    "none" => format!("{path}.not.any[{count}]"),
                    "has" | "measure" if parent.children == 1 => format!("{path}.where"),
                    "has" | "measure" => format!("{path}.where.all[{count}]"),
                    other => format!("{path}.{other}[{count}]"),
                };
                parent.count += 1;
                (child, parent.scope.clone())
            }
        };
        row.path = path.clone();
        row.scope = scope.clone();
        if row.is_group() {
            let scope = if row.is_related() {
                Some(row.table.clone())
            } else {
                scope
            };
            open.push(Open {
                path,
                kind: row.kind.clone(),
                count: 0,
                children: children[index],
                scope,
            });
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
            "chosen" => row.chosen.push(value),
            "table" => row.table = value,
            "aggregate" => row.aggregate = value,
            "of" => row.of = value,
            "window_op" => row.window_op = value,
            "window_value" => row.window_value = value,
            "window_value2" => row.window_value2 = value,
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

/// Applies a builder button: `add_condition.N`, `add_group.N`, `add_has.N`, `add_measure.N`
/// (inside group N; related rows over `first_table`, and never inside another related row) or
/// `remove.N`.
pub(crate) fn apply(rows: &mut Vec<Row>, action: &str, first_table: &str) {
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
        "add_has" | "add_measure"
            if rows[index].is_group()
                && !rows[index].is_related()
                && rows[index].scope.is_none() =>
        {
            let kind = verb.trim_start_matches("add_");
            rows.insert(end, Row::related(depth, kind, first_table));
        }
        "remove" if index > 0 => {
            rows.drain(index..end);
        }
        _ => {}
    }
    number(rows);
}

/// The rule the rows say, with literals typed by the attribute they compare with (inside a
/// related row, by the related table's column).
pub(crate) fn rule_of(rows: &[Row], schema: &ProfileSchema) -> Value {
    build(rows, 0, schema, schema).0
}

/// The rule of row `index` and the index after its subtree; `columns` are what its
/// conditions test, `profiles` the whole schema with the related tables.
fn build(
    rows: &[Row],
    index: usize,
    columns: &ProfileSchema,
    profiles: &ProfileSchema,
) -> (Value, usize) {
    let row = &rows[index];
    if !row.is_group() {
        let kind = columns.get(&row.attribute).map(|attribute| attribute.kind);
        let mut condition = json!({ "attribute": row.attribute, "op": row.op });
        put_values(&mut condition, &row.op, row, kind);
        return (condition, index + 1);
    }
    let empty = ProfileSchema::default();
    let related = profiles.related(&row.table);
    let inner = match (row.is_related(), related) {
        (false, _) => columns,
        (true, Some(related)) => &related.columns,
        (true, None) => &empty,
    };
    let mut children = Vec::new();
    let mut next = index + 1;
    while next < rows.len() && rows[next].depth > row.depth {
        let (child, after) = build(rows, next, inner, profiles);
        children.push(child);
        next = after;
    }
    let rule = match row.kind.as_str() {
        "any" => json!({ "any": children }),
        "none" => json!({ "not": { "any": children } }),
        "has" | "measure" => related_rule(row, children, inner),
        _ => json!({ "all": children }),
    };
    (rule, next)
}

/// A "has" or "measure" row as its rule, `children` its `where`.
fn related_rule(row: &Row, mut children: Vec<Value>, columns: &ProfileSchema) -> Value {
    let mut rule = Map::new();
    if row.kind == "has" {
        rule.insert("has".into(), Value::String(row.table.clone()));
        if !row.value.trim().is_empty() {
            rule.insert(row.op.clone(), number_or_text(&row.value));
        }
    } else {
        rule.insert("measure".into(), Value::String(row.aggregate.clone()));
        if !row.of.is_empty() {
            rule.insert("of".into(), Value::String(row.of.clone()));
        }
        rule.insert("over".into(), Value::String(row.table.clone()));
        rule.insert("op".into(), Value::String(row.op.clone()));
    }
    let mut rule = Value::Object(rule);
    if row.kind == "measure" {
        let measured = Aggregate::from_name(&row.aggregate).and_then(|aggregate| {
            let column = columns.get(&row.of).map(|attribute| attribute.kind);
            measure_type(aggregate, column)
        });
        put_values(&mut rule, &row.op, row, measured);
    }
    match children.len() {
        0 => {}
        1 => rule["where"] = children.remove(0),
        _ => rule["where"] = json!({ "all": children }),
    }
    if !row.window_op.is_empty() {
        let mut window = json!({ "op": row.window_op });
        let values = Row {
            value: row.window_value.clone(),
            value2: row.window_value2.clone(),
            ..Row::group(row.depth, "")
        };
        put_values(
            &mut window,
            &row.window_op,
            &values,
            Some(AttributeType::Date),
        );
        rule["window"] = window;
    }
    rule
}

fn number_or_text(text: &str) -> Value {
    let text = text.trim();
    serde_json::from_str::<serde_json::Number>(text)
        .map_or_else(|_| Value::String(text.to_owned()), Value::Number)
}

/// The values a test of `op` takes from `row` (its value, second value and chosen values),
/// typed as `kind` (numbers as numbers, booleans as booleans), put into `rule`.
fn put_values(rule: &mut Value, op: &str, row: &Row, kind: Option<AttributeType>) {
    let (value, value2) = (row.value.as_str(), row.value2.as_str());
    let literal = |text: &str| -> Value {
        let text = text.trim();
        match kind {
            Some(AttributeType::Integer | AttributeType::Number) => number_or_text(text),
            Some(AttributeType::Boolean) if text == "true" || text == "false" => {
                Value::Bool(text == "true")
            }
            _ => Value::String(text.to_owned()),
        }
    };
    match op {
        "is_empty" | "is_not_empty" | "is_true" | "is_false" | "is_null" | "is_not_null" => {}
        "in" | "not_in" => {
            let typed = value.split(',').filter(|value| !value.trim().is_empty());
            let mut values: Vec<&str> = row.chosen.iter().map(String::as_str).collect();
            for other in typed {
                if !values.iter().any(|value| value.trim() == other.trim()) {
                    values.push(other);
                }
            }
            rule["values"] = values.into_iter().map(literal).collect();
        }
        "between" => {
            rule["min"] = literal(value);
            rule["max"] = literal(value2);
        }
        "within_last" | "more_than_ago" => {
            rule["amount"] = number_or_text(value);
            rule["unit"] = Value::String(value2.trim().to_owned());
        }
        _ => rule["value"] = literal(value),
    }
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
    use segsync_domain::{Attribute, RelatedSchema};

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
        apply(&mut rows, "add_group.0", "");
        apply(&mut rows, "add_condition.2", "");
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
        apply(&mut rows, "remove.2", "");
        assert_eq!(rows.len(), 2);
        apply(&mut rows, "remove.0", "");
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

    fn with_orders() -> ProfileSchema {
        schema().with_related(vec![RelatedSchema {
            name: "orders".into(),
            columns: ProfileSchema::new(vec![
                Attribute {
                    name: "status".into(),
                    kind: AttributeType::Text,
                },
                Attribute {
                    name: "amount".into(),
                    kind: AttributeType::Number,
                },
            ]),
            dated_by: Some("ordered_at".into()),
        }])
    }

    #[test]
    fn related_conditions_round_trip_with_their_rows_below_them() {
        let rule = json!({ "all": [
            { "attribute": "tier", "op": "equals", "value": "gold" },
            { "has": "orders", "at_least": 3,
              "where": { "all": [
                  { "attribute": "status", "op": "equals", "value": "paid" },
                  { "attribute": "amount", "op": "greater_than", "value": 10 }
              ] },
              "window": { "op": "within_last", "amount": 90, "unit": "days" } },
            { "measure": "sum", "of": "amount", "over": "orders", "op": "between", "min": 100, "max": 500.5,
              "where": { "any": [
                  { "attribute": "status", "op": "in", "values": ["paid", "shipped"] },
                  { "attribute": "amount", "op": "less_than", "value": 0 }
              ] },
              "window": { "op": "between", "min": "2026-01-01", "max": "2026-03-31" } },
            { "not": { "any": [{ "has": "orders" }] } }
        ] });
        let rows = rows_of(&rule).ok().unwrap();
        let described: Vec<(&str, &str, Option<&str>)> = rows
            .iter()
            .map(|row| (row.kind.as_str(), row.path.as_str(), row.scope.as_deref()))
            .collect();
        assert_eq!(
            described,
            [
                ("all", "rule", None),
                ("condition", "rule.all[0]", None),
                ("has", "rule.all[1]", None),
                ("condition", "rule.all[1].where.all[0]", Some("orders")),
                ("condition", "rule.all[1].where.all[1]", Some("orders")),
                ("measure", "rule.all[2]", None),
                ("any", "rule.all[2].where", Some("orders")),
                ("condition", "rule.all[2].where.any[0]", Some("orders")),
                ("condition", "rule.all[2].where.any[1]", Some("orders")),
                ("none", "rule.all[3]", None),
                ("has", "rule.all[3].not.any[0]", None),
            ]
        );
        assert_eq!(rule_of(&rows, &with_orders()), rule);
    }

    #[test]
    fn related_rows_are_added_only_outside_related_rows() {
        let mut rows = rows_of(&json!({ "all": [] })).ok().unwrap();
        apply(&mut rows, "add_has.0", "orders");
        apply(&mut rows, "add_measure.0", "orders");
        apply(&mut rows, "add_condition.1", "orders");
        apply(&mut rows, "add_has.1", "orders");
        let shape: Vec<(&str, usize, Option<&str>)> = rows
            .iter()
            .map(|row| (row.kind.as_str(), row.depth, row.scope.as_deref()))
            .collect();
        assert_eq!(
            shape,
            [
                ("all", 0, None),
                ("has", 1, None),
                ("condition", 2, Some("orders")),
                ("measure", 1, None),
            ]
        );
        rows[2].attribute = "amount".into();
        rows[2].op = "greater_than".into();
        rows[2].value = "25".into();
        rows[3].of = "amount".into();
        rows[3].value = "1000".into();
        rows[3].window_op = "within_last".into();
        rows[3].window_value = "1".into();
        rows[3].window_value2 = "months".into();
        assert_eq!(
            rule_of(&rows, &with_orders()),
            json!({ "all": [
                { "has": "orders", "at_least": 1,
                  "where": { "attribute": "amount", "op": "greater_than", "value": 25 } },
                { "measure": "sum", "of": "amount", "over": "orders", "op": "greater_than", "value": 1000,
                  "window": { "op": "within_last", "amount": 1, "unit": "months" } }
            ] })
        );
        assert!(
            rows_of(&json!({ "has": "orders", "where": { "has": "orders" } })).is_err(),
            "a related condition inside another is edited as JSON"
        );
    }

    #[test]
    fn references_to_segments_are_not_rows() {
        assert!(rows_of(&json!({ "segment": "gold" })).is_err());
        assert!(rows_of(&json!({ "all": [{ "union": ["a", "b"] }] })).is_err());
    }
}
