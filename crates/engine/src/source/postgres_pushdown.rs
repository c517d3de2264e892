//! Which filters PostgreSQL runs: only those it evaluates exactly as DataFusion does, so that a
//! segment has the same members whatever the source. The provider would send any filter it can
//! write as SQL, but some mean something else in PostgreSQL or do not exist there:
//!
//! - `lower` follows the database's locale (under `C` it folds only ASCII), where segments fold
//!   every letter as Unicode does;
//! - a timestamp literal is written without its time zone, and PostgreSQL reads it in the
//!   session's zone;
//! - `contains` and `ends_with` are not PostgreSQL functions.
//!
//! Those filters run here, on the rows PostgreSQL sends after the filters it did run. The
//! wrapper also reads one column where DataFusion asks for none (a count), which the provider
//! would answer with a column the plan does not expect.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{Constraints, ScalarValue};
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{
    BinaryExpr, Expr, Operator, TableProviderFilterPushDown, TableType,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::projection::ProjectionExpr;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use datafusion::sql::unparser::Unparser;
use datafusion::sql::unparser::dialect::PostgreSqlDialect;

/// A PostgreSQL table provider that sends PostgreSQL only the filters it runs exactly.
pub(crate) struct ExactPushdown {
    inner: Arc<dyn TableProvider>,
}

impl ExactPushdown {
    pub(crate) fn new(inner: Arc<dyn TableProvider>) -> Self {
        Self { inner }
    }
}

impl fmt::Debug for ExactPushdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ExactPushdown").field(&self.inner).finish()
    }
}

#[async_trait]
impl TableProvider for ExactPushdown {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn constraints(&self) -> Option<&Constraints> {
        self.inner.constraints()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // A count asks for no column; the provider would answer `SELECT 1`, a column the plan
        // does not expect. The first column is read instead and projected away.
        if projection.is_some_and(Vec::is_empty) && !self.schema().fields().is_empty() {
            let first_column = self
                .inner
                .scan(state, Some(&vec![0]), filters, limit)
                .await?;
            let nothing = std::iter::empty::<ProjectionExpr>();
            let counted = ProjectionExec::try_new(nothing, SealedScan::sealing(first_column))?;
            return Ok(Arc::new(counted));
        }
        let scan = self.inner.scan(state, projection, filters, limit).await?;
        Ok(SealedScan::sealing(scan))
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        let asked = self.inner.supports_filters_pushdown(filters)?;
        Ok(filters
            .iter()
            .zip(asked)
            .map(|(filter, answer)| {
                if runs_exactly_in_postgres(filter) {
                    answer
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }
}

/// The provider's scan as a leaf the physical optimizer cannot reach into: the provider's plan
/// would otherwise take any filter above it that it can write as SQL — the same filters the
/// logical answer above keeps here — and a limit by rewriting its SQL text.
struct SealedScan {
    scan: Arc<dyn ExecutionPlan>,
}

impl SealedScan {
    fn sealing(scan: Arc<dyn ExecutionPlan>) -> Arc<dyn ExecutionPlan> {
        Arc::new(Self { scan })
    }
}

impl fmt::Debug for SealedScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SealedScan").field(&self.scan).finish()
    }
}

impl DisplayAs for SealedScan {
    fn fmt_as(&self, format: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgresScan: ")?;
        self.scan.fmt_as(format, f)
    }
}

impl ExecutionPlan for SealedScan {
    fn name(&self) -> &str {
        "PostgresScan"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.scan.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        _children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        self.scan.execute(partition, context)
    }
}

/// Which of `filters` PostgreSQL runs, without a connection to ask the provider: those it runs
/// exactly that the provider's dialect can write as SQL.
pub(crate) fn pushdown_in_postgres(filters: &[&Expr]) -> Vec<TableProviderFilterPushDown> {
    let unparser = Unparser::new(&PostgreSqlDialect {});
    filters
        .iter()
        .map(|filter| {
            if runs_exactly_in_postgres(filter) && unparser.expr_to_sql(filter).is_ok() {
                TableProviderFilterPushDown::Exact
            } else {
                TableProviderFilterPushDown::Unsupported
            }
        })
        .collect()
}

/// Whether every part of `filter` means in PostgreSQL what it means in DataFusion.
pub(crate) fn runs_exactly_in_postgres(filter: &Expr) -> bool {
    !filter
        .exists(|expr| Ok(!part_runs_exactly(expr)))
        .unwrap_or(true)
}

fn part_runs_exactly(expr: &Expr) -> bool {
    match expr {
        Expr::Column(_)
        | Expr::Alias(_)
        | Expr::Not(_)
        | Expr::IsNull(_)
        | Expr::IsNotNull(_)
        | Expr::IsTrue(_)
        | Expr::IsFalse(_)
        | Expr::IsNotTrue(_)
        | Expr::IsNotFalse(_)
        | Expr::IsUnknown(_)
        | Expr::IsNotUnknown(_)
        | Expr::Between(_)
        | Expr::InList(_) => true,
        Expr::BinaryExpr(BinaryExpr { op, .. }) => matches!(
            op,
            Operator::Eq
                | Operator::NotEq
                | Operator::Lt
                | Operator::LtEq
                | Operator::Gt
                | Operator::GtEq
                | Operator::And
                | Operator::Or
        ),
        Expr::Literal(value, _) => literal_runs_exactly(value),
        Expr::Cast(cast) => cast.field.data_type().is_numeric(),
        Expr::TryCast(cast) => cast.field.data_type().is_numeric(),
        // Both trim spaces only, and both compare bytes.
        Expr::ScalarFunction(function) => {
            matches!(function.name(), "btrim" | "starts_with")
        }
        _ => false,
    }
}

fn literal_runs_exactly(value: &ScalarValue) -> bool {
    match value.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Boolean | DataType::Date32 | DataType::Null => true,
        numeric => numeric.is_numeric(),
    }
}

#[cfg(test)]
mod tests {
    use datafusion::functions::expr_fn::{btrim, contains, ends_with, lower, starts_with};
    use datafusion::prelude::{col, lit};

    use super::runs_exactly_in_postgres;

    #[test]
    fn only_filters_postgres_runs_as_datafusion_does_are_sent() {
        let sent = [
            col("country").eq(lit("US")).and(col("age").gt_eq(lit(18))),
            col("score").between(lit(1.5), lit(9.0)),
            col("tier").in_list(vec![lit("gold"), lit("platinum")], true),
            btrim(vec![col("name")])
                .eq(lit(""))
                .or(col("name").is_null()),
            starts_with(col("name"), lit("O'")),
            !col("active").is_true(),
        ];
        for filter in &sent {
            assert!(runs_exactly_in_postgres(filter), "{filter}");
        }
        let kept = [
            lower(col("name")).eq(lit("zoë")),
            contains(col("name"), lit("a")),
            ends_with(col("name"), lit("n")),
            col("seen_at").gt(lit(datafusion::common::ScalarValue::TimestampMicrosecond(
                Some(0),
                Some("UTC".into()),
            ))),
            col("country")
                .eq(lit("US"))
                .or(lower(col("name")).eq(lit("ada"))),
        ];
        for filter in &kept {
            assert!(!runs_exactly_in_postgres(filter), "{filter}");
        }
    }
}
