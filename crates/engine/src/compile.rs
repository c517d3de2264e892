//! The one translator from a segment's rule tree to a DataFusion expression.
//!
//! Every node compiles to a boolean that is never null: a condition on a missing value is
//! false (`IS TRUE` around it), so `NOT` takes exactly the profiles its child does not, and the
//! set operations between segments are plain boolean algebra over one scan of the profiles.
//!
//! A condition on related rows (`has`, `measure`) becomes a [`Measure`]: an aggregate of the
//! related table grouped by its key, with a `FILTER` of the rows that count, which the
//! profiles are joined to (see `Profiles`). The condition itself is a [`Decision`]: decided
//! beside the measures, before the join, so that the join carries one boolean per condition
//! rather than the measures, and the profiles read it, or what a profile without such rows
//! would be, where the join leaves none.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::datatypes::{DataType, Schema, TimeUnit};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::functions::expr_fn::{btrim, coalesce, contains, ends_with, lower, starts_with};
use datafusion::functions_aggregate::expr_fn::{avg, count, max, min, sum};
use datafusion::logical_expr::{
    BinaryExpr, Expr, ExprFunctionExt, ExprSchemable, Operator, cast, ident, lit, not,
};
use segsync_domain::segment::{
    Aggregate, Condition, Period, RelatedCondition, Rule, RunClock, SegmentCatalogue,
    SegmentDefinition, SegmentErrors, Test, TypedValue, describe_measure, typed_literal, validate,
};
use segsync_domain::{AttributeType, RelatedSchema};

use crate::compile_error::CompileError;
use crate::equals_ignoring_case::equals_ignoring_case;
use crate::schema::{attribute_type, profile_schema};

/// A segment compiled: the expression that is true exactly for its members, over the
/// profiles' columns and the columns of the measures it compares.
#[derive(Debug, Clone)]
pub struct Membership {
    pub(crate) expr: Expr,
    pub(crate) measures: Vec<Measure>,
    /// The conditions on the measures, decided beside them; `expr` reads their columns.
    pub(crate) decisions: Vec<Decision>,
}

impl Membership {
    /// Whether the segment tests related rows, and so needs them read beside the profiles.
    pub fn uses_related_tables(&self) -> bool {
        !self.measures.is_empty()
    }

    /// The members of any of `memberships`, or `None` when there are none.
    pub fn any_of(memberships: impl IntoIterator<Item = Membership>) -> Option<Membership> {
        memberships.into_iter().reduce(|mut any, other| {
            any.expr = any.expr.or(other.expr);
            for measure in other.measures {
                add_once(&mut any.measures, measure);
            }
            for decision in other.decisions {
                add_once(&mut any.decisions, decision);
            }
            any
        })
    }

    /// The membership as a filter keeps its rows: a filter already drops the rows where it is
    /// null, so the `IS TRUE` that makes each condition two-valued is dropped wherever only
    /// `AND` and `OR` lead to it (under `NOT` it stays). What is left is the plain comparison,
    /// which Parquet statistics and page indexes can prune by and which costs one kernel less
    /// per condition.
    pub(crate) fn filter_expr(&self) -> Expr {
        without_truth_tests(self.expr.clone())
    }
}

/// `expr` with the `IS TRUE` tests that do not change which rows it keeps as a filter removed.
pub(crate) fn without_truth_tests(expr: Expr) -> Expr {
    match expr {
        Expr::IsTrue(inner) => without_truth_tests(*inner),
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if matches!(op, Operator::And | Operator::Or) =>
        {
            Expr::BinaryExpr(BinaryExpr::new(
                Box::new(without_truth_tests(*left)),
                op,
                Box::new(without_truth_tests(*right)),
            ))
        }
        other => other,
    }
}

/// An expression over the profiles' own columns, as a membership.
impl From<Expr> for Membership {
    fn from(expr: Expr) -> Self {
        Self {
            expr,
            measures: Vec::new(),
            decisions: Vec::new(),
        }
    }
}

/// An aggregate of a related table's rows per profile key: a column joined to the profiles.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Measure {
    /// The column it becomes: `__measure_` and a hash of the table and the aggregate, so that
    /// the same measure in several segments is computed once.
    pub(crate) name: String,
    /// What it measures, in words, as a preview shows it beside each member.
    pub(crate) label: String,
    /// What it is for a profile without rows that count (0 for count and sum), where the
    /// join leaves a null.
    pub(crate) empty_value: Option<i64>,
    pub(crate) table: String,
    /// The aggregate with its `FILTER` of the rows that count, aliased to `name`.
    pub(crate) aggregate: Expr,
    /// The rows that count (also inside the aggregate), so that only those need be read.
    pub(crate) rows: Option<Expr>,
    /// The measure as segments compare it and previews show it: its column, or — for a sum
    /// or an average of floating-point numbers, which are added exactly as decimals — that
    /// column as a float again.
    pub(crate) value: Expr,
}

/// A condition on a measure, decided for each key that has related rows, beside the measures
/// and before the join: a boolean column of the grouped rows. The join then carries a boolean
/// per condition, not the measures (a 128-bit decimal for an exact sum), and only the keys
/// for which some condition differs from what a key without rows gets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    /// The column it becomes: `__decided_` and a hash of the table and the condition, so that
    /// the same condition in several segments is decided once.
    pub(crate) name: String,
    pub(crate) table: String,
    /// The condition over the table's measure columns, never null, aliased to `name`.
    pub(crate) decided: Expr,
    /// The condition for a profile without rows that count: the test of the aggregate's empty
    /// value, a literal the optimizer folds to true or false.
    pub(crate) without_rows: Expr,
}

impl Decision {
    /// Whether a key's decision differs from a key without rows, so the join must carry it.
    pub(crate) fn differs_from_without_rows(&self) -> Expr {
        ident(&self.name).not_eq(self.without_rows.clone())
    }
}

/// The decimal places a sum or an average of floating-point numbers keeps while adding them
/// exactly: floats added in different orders (partitions merged as they finish, a cluster's
/// tasks) round differently, and a total on a segment's threshold would flip between runs.
const EXACT_SCALE: i8 = 9;

/// A related table as the compiler sees it: its name, columns and date column.
#[derive(Debug, Clone, Copy)]
pub struct RelatedColumns<'a> {
    pub name: &'a str,
    pub schema: &'a Schema,
    pub dated_by: Option<&'a str>,
}

/// `segment` compiled over profiles of `schema` and the `related` tables, evaluated at
/// `clock`. The segment is validated first; its problems come back all at once.
pub fn membership_expr(
    segment: &SegmentDefinition,
    schema: &Schema,
    related: &[RelatedColumns<'_>],
    catalogue: &dyn SegmentCatalogue,
    clock: &RunClock,
) -> Result<Membership, CompileError> {
    let segment_schema = profile_schema(schema).with_related(
        related
            .iter()
            .map(|table| RelatedSchema {
                name: table.name.to_owned(),
                columns: profile_schema(table.schema),
                dated_by: table.dated_by.map(str::to_owned),
            })
            .collect(),
    );
    validate(segment, &segment_schema, catalogue).map_err(SegmentErrors)?;
    let measures = RefCell::new(Vec::new());
    let decisions = RefCell::new(Vec::new());
    let compiler = Compiler {
        segment: &segment.name,
        schema,
        related,
        catalogue,
        clock,
        compiled: RefCell::new(HashMap::new()),
        measures: &measures,
        decisions: &decisions,
    };
    let expr = compiler.rule(&segment.rule, "rule")?;
    Ok(Membership {
        expr,
        measures: measures.into_inner(),
        decisions: decisions.into_inner(),
    })
}

struct Compiler<'a> {
    segment: &'a str,
    /// The columns conditions test: the profiles', or a related table's inside `where`.
    schema: &'a Schema,
    related: &'a [RelatedColumns<'a>],
    catalogue: &'a dyn SegmentCatalogue,
    clock: &'a RunClock,
    /// Each referred segment compiled once, however often it is referred to (validation bounds
    /// the expanded size).
    compiled: RefCell<HashMap<String, Expr>>,
    /// The measures the segment compares, each once.
    measures: &'a RefCell<Vec<Measure>>,
    /// The conditions on them, each once.
    decisions: &'a RefCell<Vec<Decision>>,
}

impl Compiler<'_> {
    fn rule(&self, rule: &Rule, path: &str) -> Result<Expr, CompileError> {
        let children = |kind: &str, children: &[Rule], join: fn(Expr, Expr) -> Expr| {
            let parts = children
                .iter()
                .enumerate()
                .map(|(i, child)| self.rule(child, &format!("{path}.{kind}[{i}]")));
            self.fold(parts, join, path)
        };
        let references = |kind: &str, names: &[String], join: fn(Expr, Expr) -> Expr| {
            self.fold(
                names.iter().map(|name| self.segment(name, path)),
                join,
                &format!("{path}.{kind}"),
            )
        };
        Ok(match rule {
            Rule::All(rules) => children("all", rules, Expr::and)?,
            Rule::Any(rules) => children("any", rules, Expr::or)?,
            Rule::Not(child) => not(self.rule(child, &format!("{path}.not"))?),
            Rule::Condition(condition) => self.condition(condition, path)?.is_true(),
            Rule::Related(related) => self.related(related, path)?.is_true(),
            Rule::Segment(name) => self.segment(name, &format!("{path}.segment"))?,
            Rule::Union(names) => references("union", names, Expr::or)?,
            Rule::Intersect(names) => references("intersect", names, Expr::and)?,
            Rule::Except(names) => {
                let Some((first, rest)) = names.split_first() else {
                    return Err(self.problem(&format!("{path}.except"), "except needs segments"));
                };
                let removed = references("except", rest, Expr::or)?;
                self.segment(first, &format!("{path}.except[0]"))?
                    .and(not(removed))
            }
        })
    }

    fn fold(
        &self,
        parts: impl Iterator<Item = Result<Expr, CompileError>>,
        join: fn(Expr, Expr) -> Expr,
        path: &str,
    ) -> Result<Expr, CompileError> {
        let parts: Vec<Expr> = parts.collect::<Result<_, _>>()?;
        parts
            .into_iter()
            .reduce(join)
            .ok_or_else(|| self.problem(path, "an empty group"))
    }

    fn segment(&self, name: &str, path: &str) -> Result<Expr, CompileError> {
        if let Some(expr) = self.compiled.borrow().get(name) {
            return Ok(expr.clone());
        }
        let definition = self
            .catalogue
            .segment(name)
            .ok_or_else(|| self.problem(path, format!("there is no segment named {name:?}")))?;
        // Problems inside a referred segment are named at the reference, as validation does.
        let expr = self.rule(&definition.rule, path)?;
        self.compiled
            .borrow_mut()
            .insert(name.to_owned(), expr.clone());
        Ok(expr)
    }

    fn condition(&self, condition: &Condition, path: &str) -> Result<Expr, CompileError> {
        let field = self
            .schema
            .field_with_name(&condition.attribute)
            .map_err(|_| {
                self.problem(path, format!("unknown attribute {:?}", condition.attribute))
            })?;
        self.test(
            &ident(&condition.attribute),
            field.data_type(),
            &condition.test,
            condition.case_insensitive,
            path,
        )
    }

    /// A rule's problem at `path` of this segment.
    fn problem(&self, path: &str, problem: impl Into<String>) -> CompileError {
        CompileError::Rule {
            segment: self.segment.to_owned(),
            path: path.to_owned(),
            problem: problem.into(),
        }
    }

    /// DataFusion's refusal of what the rule at `path` compiles to.
    fn planning(
        &self,
        path: &str,
        what: &'static str,
    ) -> impl FnOnce(datafusion::error::DataFusionError) -> CompileError {
        let segment = self.segment.to_owned();
        let path = path.to_owned();
        move |source| CompileError::Planning {
            segment,
            path,
            what,
            source,
        }
    }

    /// A measure of the related rows compared as the condition asks; a profile without
    /// matching rows compares the aggregate's empty value.
    fn related(&self, related: &RelatedCondition, path: &str) -> Result<Expr, CompileError> {
        let table = self
            .related
            .iter()
            .find(|table| table.name == related.table)
            .ok_or_else(|| {
                self.problem(path, format!("unknown related table {:?}", related.table))
            })?;
        let rows_compiler = Compiler {
            segment: self.segment,
            schema: table.schema,
            related: &[],
            catalogue: self.catalogue,
            clock: self.clock,
            compiled: RefCell::new(HashMap::new()),
            measures: self.measures,
            decisions: self.decisions,
        };
        let mut filters = Vec::new();
        if let Some(rows) = &related.rows {
            filters.push(rows_compiler.rule(rows, &format!("{path}.where"))?);
        }
        if let Some(window) = &related.window {
            let window_path = format!("{path}.window");
            let dated_by = table.dated_by.ok_or_else(|| {
                self.problem(&window_path, format!("{:?} has no date column", table.name))
            })?;
            let window = Condition {
                attribute: dated_by.to_owned(),
                test: window.clone(),
                case_insensitive: false,
            };
            filters.push(rows_compiler.condition(&window, &window_path)?.is_true());
        }
        let rows = filters.into_iter().reduce(Expr::and);
        let argument = related.column.as_deref().map_or_else(|| lit(1i64), ident);
        let floating = related.column.as_deref().is_some_and(|column| {
            table
                .schema
                .field_with_name(column)
                .is_ok_and(|field| field.data_type().is_floating())
        });
        let exactly = floating && matches!(related.aggregate, Aggregate::Sum | Aggregate::Avg);
        let argument = if exactly {
            cast(argument, DataType::Decimal128(38, EXACT_SCALE))
        } else {
            argument
        };
        let aggregate = match related.aggregate {
            Aggregate::Count => count(argument),
            Aggregate::Sum => sum(argument),
            Aggregate::Min => min(argument),
            Aggregate::Max => max(argument),
            Aggregate::Avg => avg(argument),
        };
        let aggregate = match &rows {
            Some(rows) => aggregate
                .filter(rows.clone())
                .build()
                .map_err(self.planning(path, "the rows the measure counts"))?,
            None => aggregate,
        };
        let columns = DFSchema::try_from(table.schema.clone())
            .map_err(self.planning(path, "the related table's columns"))?;
        let measured_type = aggregate
            .get_type(&columns)
            .map_err(self.planning(path, "the type of the measure"))?;
        let name = column_name("measure", &related.table, &aggregate);
        let (value, measured_type) = if exactly {
            (cast(ident(&name), DataType::Float64), DataType::Float64)
        } else {
            (ident(&name), measured_type)
        };
        add_once(
            &mut self.measures.borrow_mut(),
            Measure {
                name: name.clone(),
                label: describe_measure(related),
                empty_value: related.aggregate.empty_value(),
                table: related.table.clone(),
                aggregate: aggregate.alias(&name),
                rows,
                value: value.clone(),
            },
        );
        let compared = self.test(&value, &measured_type, &related.test, false, path)?;
        // A profile without counted rows compares the empty value: the test of a literal,
        // which the optimizer folds to true or false (without an empty value, false).
        let without_rows = match related.aggregate.empty_value() {
            Some(empty) => self
                .test(&lit(empty), &measured_type, &related.test, false, path)?
                .is_true(),
            None => lit(false),
        };
        // A key whose measure is null (a sum of no counted rows) is decided as one without
        // rows; so that a test the empty value fails (`at_least: 3`) leaves a plain
        // comparison of the measure. Made two-valued by `coalesce` rather than `IS TRUE`:
        // DataFusion 55 plans `IS TRUE` of a nullable operand as a nullable column, which the
        // logical plan says it is not ("Physical input schema should be the same as the one
        // converted from logical input schema").
        let decided = coalesce(vec![
            compared.or(ident(&name).is_null().and(without_rows.clone())),
            lit(false),
        ]);
        let decision_name = column_name("decided", &related.table, &decided);
        add_once(
            &mut self.decisions.borrow_mut(),
            Decision {
                name: decision_name.clone(),
                table: related.table.clone(),
                decided: decided.alias(&decision_name),
                without_rows: without_rows.clone(),
            },
        );
        Ok(coalesce(vec![ident(&decision_name), without_rows]))
    }

    /// `subject`, a value of `data_type`, tested as `test` asks.
    fn test(
        &self,
        subject: &Expr,
        data_type: &DataType,
        test: &Test,
        case_insensitive: bool,
        path: &str,
    ) -> Result<Expr, CompileError> {
        let kind = attribute_type(data_type);
        let fold_case = case_insensitive && kind == AttributeType::Text;
        let column = if fold_case {
            lower(subject.clone())
        } else {
            subject.clone()
        };
        let literal_folded = |literal: &serde_json::Value, fold_case: bool| {
            let typed = typed_literal(literal, kind, self.clock)
                .map_err(|problem| self.problem(path, format!("bad literal: {problem}")))?;
            Ok::<_, CompileError>(lit(scalar(typed, data_type, fold_case)))
        };
        let value = |literal: &serde_json::Value| literal_folded(literal, fold_case);
        // Equality ignoring case lower-cases the literals itself, and each value as it reads it.
        let ignoring_case = |literals: &[serde_json::Value]| {
            let literals = literals
                .iter()
                .map(|literal| literal_folded(literal, false))
                .collect::<Result<_, _>>()?;
            Ok::<_, CompileError>(equals_ignoring_case(subject.clone(), literals))
        };
        let text = |text: &str| {
            lit(if fold_case {
                text.to_lowercase()
            } else {
                text.to_owned()
            })
        };
        let column_is_empty = || {
            subject
                .clone()
                .is_null()
                .or(btrim(vec![subject.clone()]).eq(lit("")))
        };
        Ok(match test {
            Test::Equals(literal) if fold_case => ignoring_case(std::slice::from_ref(literal))?,
            Test::NotEquals(literal) if fold_case => {
                not(ignoring_case(std::slice::from_ref(literal))?)
            }
            Test::In(literals) if fold_case => ignoring_case(literals)?,
            Test::NotIn(literals) if fold_case => not(ignoring_case(literals)?),
            Test::Equals(literal) => column.eq(value(literal)?),
            Test::NotEquals(literal) => column.not_eq(value(literal)?),
            Test::In(literals) => {
                column.in_list(literals.iter().map(value).collect::<Result<_, _>>()?, false)
            }
            Test::NotIn(literals) => {
                column.in_list(literals.iter().map(value).collect::<Result<_, _>>()?, true)
            }
            Test::Contains(needle) => contains(column, text(needle)),
            Test::StartsWith(prefix) => starts_with(column, text(prefix)),
            Test::EndsWith(suffix) => ends_with(column, text(suffix)),
            Test::IsEmpty => column_is_empty(),
            Test::IsNotEmpty => not(column_is_empty()),
            Test::LessThan(literal) | Test::Before(literal) => column.lt(value(literal)?),
            Test::LessOrEqual(literal) => column.lt_eq(value(literal)?),
            Test::GreaterThan(literal) | Test::After(literal) => column.gt(value(literal)?),
            Test::GreaterOrEqual(literal) => column.gt_eq(value(literal)?),
            Test::Between(min, max) => column.between(value(min)?, value(max)?),
            Test::WithinLast(period) => {
                let (start, end) = self.window(kind, data_type, *period);
                column.clone().gt_eq(start).and(column.lt_eq(end))
            }
            Test::MoreThanAgo(period) => column.lt(self.window(kind, data_type, *period).0),
            Test::IsTrue => column.is_true(),
            Test::IsFalse => column.is_false(),
            Test::IsNull => column.is_null(),
            Test::IsNotNull => column.is_not_null(),
        })
    }

    /// The start of the period before the run, and the run's end point, as literals of the
    /// column's type: dates in the run's time zone for date columns, instants otherwise.
    fn window(&self, kind: AttributeType, data_type: &DataType, period: Period) -> (Expr, Expr) {
        if kind == AttributeType::Date {
            let start = TypedValue::Date(self.clock.date_before(period));
            let end = TypedValue::Date(self.clock.today());
            (
                lit(scalar(start, data_type, false)),
                lit(scalar(end, data_type, false)),
            )
        } else {
            let start = TypedValue::Timestamp(self.clock.instant_before(period));
            let end = TypedValue::Timestamp(self.clock.now);
            (
                lit(scalar(start, data_type, false)),
                lit(scalar(end, data_type, false)),
            )
        }
    }
}

/// A column computed from a related table, known by its name.
trait Named {
    fn name(&self) -> &str;
}

impl Named for Measure {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Named for Decision {
    fn name(&self) -> &str {
        &self.name
    }
}

/// Adds `column` unless one of its name is there: the same measure or condition in several
/// places of a segment, or in several segments, is computed once.
fn add_once<T: Named>(columns: &mut Vec<T>, column: T) {
    if !columns.iter().any(|seen| seen.name() == column.name()) {
        columns.push(column);
    }
}

/// The name of a column computed from a related table (`__measure_…`, `__decided_…`): the
/// same table and expression give the same name.
fn column_name(kind: &str, table: &str, expr: &Expr) -> String {
    let mut hasher = DefaultHasher::new();
    table.hash(&mut hasher);
    expr.hash(&mut hasher);
    format!("__{kind}_{:016x}", hasher.finish())
}

/// A typed literal as a scalar of the column's own type, so comparisons need no cast of the
/// column (which would keep Parquet statistics from pruning).
fn scalar(value: TypedValue, data_type: &DataType, fold_case: bool) -> ScalarValue {
    match value {
        TypedValue::Text(text) => {
            ScalarValue::Utf8(Some(if fold_case { text.to_lowercase() } else { text }))
        }
        TypedValue::Integer(integer) => ScalarValue::Int64(Some(integer)),
        TypedValue::Number(number) => ScalarValue::Float64(Some(number)),
        TypedValue::Boolean(value) => ScalarValue::Boolean(Some(value)),
        TypedValue::Date(date) => match data_type {
            DataType::Date64 => ScalarValue::Date64(Some(days_since_epoch(date) * 86_400_000)),
            _ => ScalarValue::Date32(Some(days_since_epoch(date) as i32)),
        },
        TypedValue::Timestamp(instant) => timestamp_scalar(instant, data_type),
    }
}

fn days_since_epoch(date: NaiveDate) -> i64 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch exists")).num_days()
}

fn timestamp_scalar(instant: DateTime<Utc>, data_type: &DataType) -> ScalarValue {
    match data_type {
        DataType::Timestamp(unit, zone) => {
            let zone = zone.clone();
            match unit {
                TimeUnit::Second => ScalarValue::TimestampSecond(Some(instant.timestamp()), zone),
                TimeUnit::Millisecond => {
                    ScalarValue::TimestampMillisecond(Some(instant.timestamp_millis()), zone)
                }
                TimeUnit::Microsecond => {
                    ScalarValue::TimestampMicrosecond(Some(instant.timestamp_micros()), zone)
                }
                TimeUnit::Nanosecond => ScalarValue::TimestampNanosecond(
                    Some(instant.timestamp_nanos_opt().unwrap_or(i64::MAX)),
                    zone,
                ),
            }
        }
        _ => ScalarValue::TimestampMicrosecond(Some(instant.timestamp_micros()), None),
    }
}

#[cfg(test)]
mod tests {
    use datafusion::logical_expr::col;

    use super::*;

    #[test]
    fn a_filter_drops_truth_tests_only_where_and_and_or_lead() {
        let recent = col("days").lt(lit(90));
        let gold = col("tier").eq(lit("gold"));
        let subscribed = col("subscribed");
        let membership = Membership::from(
            recent
                .clone()
                .is_true()
                .and(
                    gold.clone()
                        .is_true()
                        .or(subscribed.clone().is_true().is_true()),
                )
                .and(not(gold.clone().is_true())),
        );
        assert_eq!(
            membership.filter_expr(),
            recent
                .and(gold.clone().or(subscribed))
                .and(not(gold.is_true()))
        );
    }

    #[test]
    fn a_rule_that_cannot_be_compiled_is_named_by_its_segment_and_path() {
        use datafusion::arrow::datatypes::Field;

        let schema = Schema::new(vec![Field::new("tier", DataType::Utf8, true)]);
        let measures = RefCell::new(Vec::new());
        let catalogue: Vec<SegmentDefinition> = Vec::new();
        let clock = RunClock::new(Utc::now(), chrono_tz::UTC);
        let compiler = Compiler {
            segment: "gold",
            schema: &schema,
            related: &[],
            catalogue: &catalogue,
            clock: &clock,
            compiled: RefCell::new(HashMap::new()),
            measures: &measures,
            decisions: &RefCell::new(Vec::new()),
        };
        let condition = |attribute: &str| {
            Rule::Condition(Condition {
                attribute: attribute.to_owned(),
                test: Test::IsNotNull,
                case_insensitive: false,
            })
        };
        // Validation would refuse both; the compiler still says where it stopped.
        let rule = Rule::All(vec![
            condition("tier"),
            Rule::Not(Box::new(Rule::Any(vec![condition("tire")]))),
        ]);
        let error = compiler.rule(&rule, "rule").unwrap_err();
        assert!(
            matches!(
                &error,
                CompileError::Rule { segment, path, .. }
                    if segment == "gold" && path == "rule.all[1].not.any[0]"
            ),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "segment \"gold\", rule.all[1].not.any[0]: unknown attribute \"tire\""
        );
    }
}
