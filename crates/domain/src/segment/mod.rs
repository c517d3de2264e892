//! Segments: named rule trees over profile attributes.
//!
//! A rule is a closed tree: `all` / `any` / `not` groups nested to any depth, conditions on
//! attributes, conditions on what customers did (`has` and `measure`, over the rows of a
//! related table such as orders), references to other segments, and the set operations of
//! Customer Insights (`union`, `intersect`, `except`) between segments. Every node answers "is
//! this profile a member?" with yes or no: a condition on a missing value is "no" (except
//! `is_null` and `is_empty`), so `not` always takes exactly the profiles its child does not.

mod clock;
mod describe;
mod literal;
mod parse;
mod validate;
mod write;

use std::fmt;

use serde_json::Value as Literal;

pub use clock::{Period, PeriodUnit, RunClock};
pub use describe::describe_measure;
pub use literal::{TypedValue, typed_literal};
pub use parse::{SegmentFormat, parse_definition, parse_segments};
pub use validate::{
    MAX_EXPANDED_CONDITIONS, SegmentCatalogue, measure_type, operator_suits, validate,
};

/// A named segment as a person wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentDefinition {
    pub name: String,
    pub description: Option<String>,
    pub rule: Rule,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// Every child matches.
    All(Vec<Rule>),
    /// At least one child matches.
    Any(Vec<Rule>),
    Not(Box<Rule>),
    Condition(Condition),
    /// A test of the profile's rows in a related table: how many match, or a measure of them.
    Related(RelatedCondition),
    /// The members of another segment.
    Segment(String),
    /// Members of any of these segments.
    Union(Vec<String>),
    /// Members of all of these segments.
    Intersect(Vec<String>),
    /// Members of the first segment who are in none of the others.
    Except(Vec<String>),
}

impl Rule {
    /// Whether this rule, at any depth, uses the segment called `name`.
    pub fn refers_to(&self, name: &str) -> bool {
        self.references().contains(&name)
    }

    /// The related tables this rule tests, at any depth of its own (not of the segments it
    /// uses), repeats included.
    pub fn related_tables(&self) -> Vec<&str> {
        match self {
            Self::All(rules) | Self::Any(rules) => {
                rules.iter().flat_map(Rule::related_tables).collect()
            }
            Self::Not(rule) => rule.related_tables(),
            Self::Related(related) => vec![related.table.as_str()],
            Self::Condition(_)
            | Self::Segment(_)
            | Self::Union(_)
            | Self::Intersect(_)
            | Self::Except(_) => Vec::new(),
        }
    }

    /// The names of the segments this rule uses directly, in order, repeats included.
    pub fn references(&self) -> Vec<&str> {
        match self {
            Self::All(rules) | Self::Any(rules) => {
                rules.iter().flat_map(Rule::references).collect()
            }
            Self::Not(rule) => rule.references(),
            // The rules inside a related condition test the related table's columns only.
            Self::Condition(_) | Self::Related(_) => Vec::new(),
            Self::Segment(other) => vec![other.as_str()],
            Self::Union(others) | Self::Intersect(others) | Self::Except(others) => {
                others.iter().map(String::as_str).collect()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub attribute: String,
    pub test: Test,
    /// Text comparisons ignore case.
    pub case_insensitive: bool,
}

/// A condition on the rows of a related table that belong to the profile: a measure of the
/// rows that match, compared with a value. `has orders, at least 3, in the last 90 days` is the
/// count of those orders compared with 3; `sum of amount over paid orders > 500` a sum.
#[derive(Debug, Clone, PartialEq)]
pub struct RelatedCondition {
    /// The related table, by its configured name.
    pub table: String,
    /// Which rows count: a rule over the related table's columns (no segments, no nesting of
    /// related conditions). Every row counts without one.
    pub rows: Option<Box<Rule>>,
    /// When the rows must date from: a test of the table's date column (`within_last`,
    /// `more_than_ago`, `between`, `before`, `after`), in the run's time zone.
    pub window: Option<Test>,
    pub aggregate: Aggregate,
    /// The column measured; `count` counts rows without one.
    pub column: Option<String>,
    /// What the measure must be. A profile without matching rows has the aggregate's
    /// [`Aggregate::empty_value`].
    pub test: Test,
    /// Written as `has` (a count with at_least / at_most / exactly) rather than `measure`.
    pub written_as_has: bool,
}

/// How the matching related rows are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregate {
    /// The number of rows (of non-null values, with a column).
    Count,
    Sum,
    Min,
    Max,
    Avg,
}

impl Aggregate {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "count" => Self::Count,
            "sum" => Self::Sum,
            "min" => Self::Min,
            "max" => Self::Max,
            "avg" | "average" => Self::Avg,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Count => "count",
            Self::Sum => "sum",
            Self::Min => "min",
            Self::Max => "max",
            Self::Avg => "avg",
        }
    }

    /// The measure of no rows: 0 for `count` and `sum`; no value for the others, so that a
    /// comparison of it is false (and its `not` true).
    pub fn empty_value(self) -> Option<i64> {
        match self {
            Self::Count | Self::Sum => Some(0),
            Self::Min | Self::Max | Self::Avg => None,
        }
    }
}

/// What a condition asks of an attribute. Literals stay as written until they are checked
/// against the attribute's type by [`validate`] and [`typed_literal`].
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Equals(Literal),
    NotEquals(Literal),
    In(Vec<Literal>),
    NotIn(Vec<Literal>),
    Contains(String),
    StartsWith(String),
    EndsWith(String),
    /// Null, or text that is blank.
    IsEmpty,
    IsNotEmpty,
    LessThan(Literal),
    LessOrEqual(Literal),
    GreaterThan(Literal),
    GreaterOrEqual(Literal),
    /// Inclusive at both ends.
    Between(Literal, Literal),
    Before(Literal),
    After(Literal),
    /// Between the start of the period before the run and the run's time.
    WithinLast(Period),
    /// Before the start of the period before the run.
    MoreThanAgo(Period),
    IsTrue,
    IsFalse,
    IsNull,
    IsNotNull,
}

impl Test {
    /// The operator's name as written in a definition.
    pub fn operator(&self) -> &'static str {
        match self {
            Self::Equals(_) => "equals",
            Self::NotEquals(_) => "not_equals",
            Self::In(_) => "in",
            Self::NotIn(_) => "not_in",
            Self::Contains(_) => "contains",
            Self::StartsWith(_) => "starts_with",
            Self::EndsWith(_) => "ends_with",
            Self::IsEmpty => "is_empty",
            Self::IsNotEmpty => "is_not_empty",
            Self::LessThan(_) => "less_than",
            Self::LessOrEqual(_) => "less_or_equal",
            Self::GreaterThan(_) => "greater_than",
            Self::GreaterOrEqual(_) => "greater_or_equal",
            Self::Between(_, _) => "between",
            Self::Before(_) => "before",
            Self::After(_) => "after",
            Self::WithinLast(_) => "within_last",
            Self::MoreThanAgo(_) => "more_than_ago",
            Self::IsTrue => "is_true",
            Self::IsFalse => "is_false",
            Self::IsNull => "is_null",
            Self::IsNotNull => "is_not_null",
        }
    }
}

/// A problem with a segment definition: which segment, where in its rule, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentError {
    pub segment: String,
    /// Where in the definition, such as `rule.all[2].any[0]`.
    pub path: String,
    pub problem: String,
}

impl fmt::Display for SegmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "segment {:?}, {}: {}",
            self.segment, self.path, self.problem
        )
    }
}

impl std::error::Error for SegmentError {}

/// Several problems, shown one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentErrors(pub Vec<SegmentError>);

impl fmt::Display for SegmentErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SegmentErrors {}
