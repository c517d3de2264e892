//! The one translator from a segment's rule tree to a DataFusion expression.
//!
//! Every node compiles to a boolean that is never null: a condition on a missing value is
//! false (`IS TRUE` around it), so `NOT` takes exactly the profiles its child does not, and the
//! set operations between segments are plain boolean algebra over one scan of the profiles.

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::datatypes::{DataType, Schema, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::{btrim, contains, ends_with, lower, starts_with};
use datafusion::logical_expr::{Expr, ident, lit, not};
use segsync_domain::AttributeType;
use segsync_domain::segment::{
    Condition, Period, Rule, RunClock, SegmentCatalogue, SegmentDefinition, SegmentError,
    SegmentErrors, Test, TypedValue, typed_literal, validate,
};

use crate::schema::{attribute_type, profile_schema};

/// The expression that is true exactly for the members of `segment`, evaluated at `clock`.
/// The segment is validated first; its problems come back all at once.
pub fn membership_expr(
    segment: &SegmentDefinition,
    schema: &Schema,
    catalogue: &dyn SegmentCatalogue,
    clock: &RunClock,
) -> Result<Expr, SegmentErrors> {
    validate(segment, &profile_schema(schema), catalogue).map_err(SegmentErrors)?;
    let compiler = Compiler {
        segment: &segment.name,
        schema,
        catalogue,
        clock,
        compiled: RefCell::new(HashMap::new()),
    };
    compiler.rule(&segment.rule).map_err(|problem| {
        SegmentErrors(vec![SegmentError {
            segment: segment.name.clone(),
            path: "rule".into(),
            problem,
        }])
    })
}

struct Compiler<'a> {
    segment: &'a str,
    schema: &'a Schema,
    catalogue: &'a dyn SegmentCatalogue,
    clock: &'a RunClock,
    /// Each referred segment compiled once, however often it is referred to (validation bounds
    /// the expanded size).
    compiled: RefCell<HashMap<String, Expr>>,
}

impl Compiler<'_> {
    fn rule(&self, rule: &Rule) -> Result<Expr, String> {
        Ok(match rule {
            Rule::All(children) => {
                self.fold(children.iter().map(|child| self.rule(child)), Expr::and)?
            }
            Rule::Any(children) => {
                self.fold(children.iter().map(|child| self.rule(child)), Expr::or)?
            }
            Rule::Not(child) => not(self.rule(child)?),
            Rule::Condition(condition) => self.condition(condition)?.is_true(),
            Rule::Segment(name) => self.segment(name)?,
            Rule::Union(names) => {
                self.fold(names.iter().map(|name| self.segment(name)), Expr::or)?
            }
            Rule::Intersect(names) => {
                self.fold(names.iter().map(|name| self.segment(name)), Expr::and)?
            }
            Rule::Except(names) => {
                let (first, rest) = names.split_first().ok_or("except needs segments")?;
                let removed = self.fold(rest.iter().map(|name| self.segment(name)), Expr::or)?;
                self.segment(first)?.and(not(removed))
            }
        })
    }

    fn fold(
        &self,
        parts: impl Iterator<Item = Result<Expr, String>>,
        join: fn(Expr, Expr) -> Expr,
    ) -> Result<Expr, String> {
        let parts: Vec<Expr> = parts.collect::<Result<_, _>>()?;
        parts
            .into_iter()
            .reduce(join)
            .ok_or_else(|| format!("an empty group in segment {:?}", self.segment))
    }

    fn segment(&self, name: &str) -> Result<Expr, String> {
        if let Some(expr) = self.compiled.borrow().get(name) {
            return Ok(expr.clone());
        }
        let definition = self
            .catalogue
            .segment(name)
            .ok_or_else(|| format!("there is no segment named {name:?}"))?;
        let expr = self.rule(&definition.rule)?;
        self.compiled
            .borrow_mut()
            .insert(name.to_owned(), expr.clone());
        Ok(expr)
    }

    fn condition(&self, condition: &Condition) -> Result<Expr, String> {
        let field = self
            .schema
            .field_with_name(&condition.attribute)
            .map_err(|_| format!("unknown attribute {:?}", condition.attribute))?;
        let data_type = field.data_type();
        let kind = attribute_type(data_type);
        let fold_case = condition.case_insensitive && kind == AttributeType::Text;
        let column = if fold_case {
            lower(ident(&condition.attribute))
        } else {
            ident(&condition.attribute)
        };
        let value = |literal: &serde_json::Value| -> Result<Expr, String> {
            let typed = typed_literal(literal, kind, self.clock)?;
            Ok(lit(scalar(typed, data_type, fold_case)))
        };
        let text = |text: &str| {
            lit(if fold_case {
                text.to_lowercase()
            } else {
                text.to_owned()
            })
        };
        let column_is_empty = || {
            ident(&condition.attribute)
                .is_null()
                .or(btrim(vec![ident(&condition.attribute)]).eq(lit("")))
        };
        Ok(match &condition.test {
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
