//! Profiles opened from a source: their schema, segment counts, previews and member streams.

use std::sync::Arc;

use bytesize::ByteSize;
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{Int64Type, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::JoinType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::runtime::SpawnedTask;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{Expr, ExprFunctionExt, ExprSchemable, cast, ident, lit};
use datafusion::optimizer::{Optimizer, OptimizerRule};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{StatisticsArgs, StatisticsContext};
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use futures_util::StreamExt;
use futures_util::future::try_join_all;
use segsync_domain::ProfileSchema;
use segsync_domain::segment::{RunClock, SegmentCatalogue, SegmentDefinition};

use crate::compile::{
    Decision, Measure, Membership, RelatedColumns, membership_expr, without_truth_tests,
};
use crate::error::EngineError;
use crate::error::SourcePart;
use crate::evaluations::EvaluationPlace;
use crate::grouping_partitions::grouping_partitions;
use crate::key_parts::KeyPart;
use crate::related::{OpenedRelated, RelatedTable};
use crate::schema::profile_schema;
use crate::settings::EngineSettings;
use crate::source::{ProfileSource, Reader, SourceSnapshot};

/// The columns a member stream carries: the mapped attributes, then one boolean per segment.
#[derive(Debug, Clone)]
pub struct MemberQuery {
    pub columns: Vec<String>,
    /// Each segment's name and membership. A profile is streamed when it is a member of at
    /// least one.
    pub segments: Vec<(String, Membership)>,
}

impl MemberQuery {
    /// The name of the boolean column that says whether a row belongs to segment `index`.
    pub fn membership_column(index: usize) -> String {
        format!("__segment_{index}")
    }
}

/// The share of the memory limit a table of measures may take in a hash join (estimated as
/// [`Profiles::measures_table`] does); the grouping that builds the measures spills into the
/// rest. A count whose table would take more is made in passes over parts of the keys, each
/// within it; a member stream is joined by sorting.
const HASHED_SHARE_OF_LIMIT: f64 = 0.75;

/// What the join of the related tables' grouped rows carries to the profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carried {
    /// The decided conditions, of the keys for which some differs from a key without rows:
    /// all a count or a member stream reads.
    Decisions,
    /// The measures too, of every key with rows: a preview shows them beside each member.
    DecisionsAndMeasures,
}

/// The most passes a count over related tables is made in. Each reads the related rows again;
/// past this many, one pass joined by sorting is made instead.
const MOST_PASSES: u32 = 8;

/// A query that counts the members of some segments: one row, a count per segment.
struct CountingQuery {
    /// The segments counted, by their place in what was asked.
    segments: Vec<usize>,
    /// The query, or — counted in several passes, each over a part of the keys — one per
    /// pass, whose counts add up.
    passes: Vec<DataFrame>,
}

impl CountingQuery {
    /// The counts in the query's one row, in the order of its segments.
    fn counts(&self, batches: &[RecordBatch]) -> Result<Vec<u64>, EngineError> {
        let missing = |problem: &str| EngineError::Query(DataFusionError::Internal(problem.into()));
        let batch = batches
            .iter()
            .find(|batch| batch.num_rows() > 0)
            .ok_or_else(|| missing("a count without a row"))?;
        (0..self.segments.len())
            .map(|i| {
                let column = batch
                    .column(i)
                    .as_primitive_opt::<Int64Type>()
                    .ok_or_else(|| missing("a count not of Int64"))?;
                Ok(column.value(0) as u64)
            })
            .collect()
    }
}

pub struct Profiles {
    source: ProfileSource,
    settings: EngineSettings,
    ctx: SessionContext,
    frame: DataFrame,
    schema: SchemaRef,
    snapshot: SourceSnapshot,
    related: Vec<OpenedRelated>,
    /// How many profiles the source's statistics say there are (Parquet and Delta say; CSV,
    /// JSON and PostgreSQL do not), read once related tables are opened: it bounds the table
    /// of measures a hash join would hold.
    profile_rows: Option<usize>,
    /// The place in the process's evaluation pool these profiles hold, if they were opened
    /// in it: its memory limit is then shared with the evaluations beside them.
    place: Option<EvaluationPlace>,
}

impl std::fmt::Debug for Profiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profiles")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl Profiles {
    /// Opens a source and discovers its schema, with the engine's default settings.
    pub async fn open(source: ProfileSource) -> Result<Self, EngineError> {
        Self::open_with(source, &EngineSettings::default()).await
    }

    /// Opens a source and discovers its schema; what is evaluated over it keeps within the
    /// settings' memory limit.
    pub async fn open_with(
        source: ProfileSource,
        settings: &EngineSettings,
    ) -> Result<Self, EngineError> {
        Self::open_in_runtime(source, settings, settings.runtime()?, None).await
    }

    /// Opens a source in `runtime` (whose memory pool other profiles may share), holding
    /// `place` in an evaluation pool while the profiles live.
    pub(crate) async fn open_in_runtime(
        source: ProfileSource,
        settings: &EngineSettings,
        runtime: Arc<RuntimeEnv>,
        place: Option<EvaluationPlace>,
    ) -> Result<Self, EngineError> {
        // Batches of 8,192 rows keep memory flat while streaming members. DataFusion's own
        // settings may be tuned from the environment (`DATAFUSION_EXECUTION_…`).
        let mut config = settings.apply(SessionConfig::from_env()?.with_batch_size(8_192));
        if let Some(cluster) = &settings.cluster {
            config = crate::cluster::authenticated(cluster, settings.cluster_tls.as_ref(), config)?;
            config = crate::cluster::with_codecs(config);
        }
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_default_features()
            .with_optimizer_rules(optimizer_rules())
            .build();
        let ctx = match &settings.cluster {
            None => SessionContext::new_with_state(state),
            Some(cluster) => crate::cluster::remote_context(cluster, state).await?,
        };
        let (frame, snapshot) = source.read(&ctx, Reader::of(settings)).await?;
        let schema = Arc::clone(frame.schema().inner());
        Ok(Self {
            source,
            settings: settings.clone(),
            ctx,
            frame,
            schema,
            snapshot,
            related: Vec::new(),
            profile_rows: None,
            place,
        })
    }

    /// Opens each related table and checks it against its configuration and these profiles.
    pub async fn relate(mut self, tables: &[RelatedTable]) -> Result<Self, EngineError> {
        for table in tables {
            let (frame, snapshot) = table
                .source
                .read(&self.ctx, Reader::of(&self.settings))
                .await
                .map_err(|error| EngineError::RelatedUnreadable {
                    table: table.name.clone(),
                    problem: error.to_string(),
                })?;
            let opened = OpenedRelated::check(table.clone(), frame, snapshot, &self.schema)?;
            self.related.push(opened);
        }
        if !tables.is_empty() && self.settings.cluster.is_none() {
            self.profile_rows = self.rows_by_statistics().await;
        }
        Ok(self)
    }

    /// The profiles' row count from the source's statistics, when it has them.
    async fn rows_by_statistics(&self) -> Option<usize> {
        let plan = self.frame.clone().create_physical_plan().await.ok()?;
        let statistics = StatisticsContext::default()
            .compute(plan.as_ref(), &StatisticsArgs::new())
            .ok()?;
        statistics.num_rows.get_value().copied()
    }

    /// The table of `measures` measures of the profiles' keys, when the profiles' row count is
    /// known: one row per profile at most, of the key and the measures and the table's own
    /// overhead, about 24 + 8 × (1 + measures) bytes. A preview's hash join holds it; a count's
    /// or a member stream's join holds less (the key and a boolean per condition, of fewer
    /// keys), but the grouping that builds the measures holds as much, spilling what the
    /// pool's shares leave no room for, so it bounds a pass of either.
    fn measures_table(&self, measures: usize) -> Option<u64> {
        if measures == 0 || self.settings.sort_merge_joins || self.settings.cluster.is_some() {
            return None;
        }
        let rows = self.profile_rows? as u64;
        Some(rows.saturating_mul(24 + 8 * (1 + measures as u64)))
    }

    /// Whether the profiles (those whose keys fall in `key_part`, if given) are joined to
    /// `measures` measures by sorting from the start: when their table of measures would take
    /// more than three quarters of the memory limit. Without a row count, or below it, the
    /// hash join is tried, and a query whose table outgrows the limit is made again by sorting
    /// (`collect_counting`, `first_batch`).
    fn joins_by_sorting_up_front(&self, measures: usize, key_part: Option<KeyPart>) -> bool {
        let Some(table) = self.measures_table(measures) else {
            return false;
        };
        table / u64::from(KeyPart::parts_of(key_part)) > self.hashed_table_limit()
    }

    /// The largest table of measures joined by hashing.
    fn hashed_table_limit(&self) -> u64 {
        (self.settings.memory_limit.as_u64() as f64 * HASHED_SHARE_OF_LIMIT) as u64
    }

    /// How many passes a count over related tables is made in, each over the profiles and
    /// related rows whose keys fall in one part: one while the table of measures can be
    /// hashed within the limit; beyond, as many as bring each pass's table within it (30
    /// million profiles at the default limit: three passes took 14.5 s where one joined by
    /// sorting, which spills both sides, took 26 s). Past [`MOST_PASSES`] the count is made
    /// in one pass, joined by sorting.
    fn key_parts(&self, measures: usize) -> u32 {
        let Some(table) = self.measures_table(measures) else {
            return 1;
        };
        let parts = table.div_ceil(self.hashed_table_limit().max(1)).max(1);
        if parts <= u64::from(MOST_PASSES) {
            parts as u32
        } else {
            1
        }
    }

    /// Each related table and what was read of it (format, Delta version).
    pub fn related_reads(&self) -> impl Iterator<Item = (&RelatedTable, SourceSnapshot)> {
        self.related
            .iter()
            .map(|related| (&related.table, related.snapshot))
    }

    pub fn source(&self) -> &ProfileSource {
        &self.source
    }

    /// The format read and, for a Delta table, the version: what a run exported from.
    pub fn snapshot(&self) -> SourceSnapshot {
        self.snapshot
    }

    /// Every profile, as the source reads them.
    pub(crate) fn frame(&self) -> DataFrame {
        self.frame.clone()
    }

    pub fn arrow_schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The profiles' attributes and the related tables, as segments see them.
    pub fn schema(&self) -> ProfileSchema {
        profile_schema(&self.schema).with_related(
            self.related
                .iter()
                .map(OpenedRelated::segment_schema)
                .collect(),
        )
    }

    /// A segment compiled over these profiles and their related tables.
    pub fn segment_expr(
        &self,
        segment: &SegmentDefinition,
        catalogue: &dyn SegmentCatalogue,
        clock: &RunClock,
    ) -> Result<Membership, EngineError> {
        let related: Vec<RelatedColumns<'_>> = self
            .related
            .iter()
            .map(|related| RelatedColumns {
                name: &related.table.name,
                schema: &related.schema,
                dated_by: related.table.dated_by.as_deref(),
            })
            .collect();
        Ok(membership_expr(
            segment,
            &self.schema,
            &related,
            catalogue,
            clock,
        )?)
    }

    pub async fn count_all(&self) -> Result<u64, EngineError> {
        match self.frame.clone().count().await {
            Ok(count) => Ok(count as u64),
            Err(error) => Err(self.read_error(error).await),
        }
    }

    pub async fn count(&self, membership: Membership) -> Result<u64, EngineError> {
        Ok(self.count_each(&[membership]).await?[0])
    }

    /// The members of each segment. Segments over the profiles' own columns are counted each
    /// in a scan of its own, each reading only what its filter needs (Parquet statistics
    /// prune row groups per segment, which one scan for all could not); segments that measure
    /// related tables are counted together in one pass, so that each related table is read
    /// once. The scans run at the same time, each on a task of its own: while one waits on the
    /// disk or merges its partitions, the others keep the cores busy, and the ordinary scans
    /// share the cores' partitions rather than each holding as many row groups as there are
    /// cores.
    pub async fn count_each(&self, memberships: &[Membership]) -> Result<Vec<u64>, EngineError> {
        let queries = self.counting_queries(memberships)?;
        let counted = try_join_all(queries.iter().map(|query| async {
            let mut counts = vec![0; query.segments.len()];
            for pass in &query.passes {
                let batches = self.collect_counting(pass.clone()).await?;
                for (total, counted) in counts.iter_mut().zip(query.counts(&batches)?) {
                    *total += counted;
                }
            }
            Ok::<_, EngineError>(counts)
        }))
        .await?;
        let mut counts = vec![0; memberships.len()];
        for (query, query_counts) in queries.iter().zip(counted) {
            for (&i, count) in query.segments.iter().zip(query_counts) {
                counts[i] = count;
            }
        }
        Ok(counts)
    }

    /// The result of a counting query. A hash join whose table of measures outgrows the memory
    /// limit cannot spill, and how many customers the measures hold is known only once the
    /// related rows are grouped: a query that runs out of memory with hash joins is counted
    /// again with the join made by sorting both sides, which spills — slower, but within the
    /// limit (`sort_merge_joins` in [engine] chooses it from the start). A count reads and
    /// writes nothing, so running it again is safe.
    async fn collect_counting(&self, frame: DataFrame) -> Result<Vec<RecordBatch>, EngineError> {
        let error = match collected_on_a_task(frame.clone()).await {
            Ok(batches) => return Ok(batches),
            Err(error) => self.read_error(error).await,
        };
        if !self.may_join_by_sorting_after(&frame, &error) {
            return Err(error);
        }
        tracing::info!(
            limit = %self.settings.memory_limit,
            "A count's hash join ran out of memory; counting again with a sort-merge join, which spills."
        );
        match self.joined_by_sorting(frame).collect().await {
            Ok(batches) => Ok(batches),
            Err(error) => Err(joined_by_sorting_failed(self.read_error(error).await)),
        }
    }

    /// The queries [`Profiles::count_each`] runs, run again one after another as DataFusion's
    /// `EXPLAIN ANALYZE`: for each (and each pass of one counted in several), the segments it
    /// counts and its physical plan with each operator's metrics (rows, time spent, bytes
    /// read, row groups and pages pruned).
    pub async fn explain_counts(
        &self,
        memberships: &[Membership],
    ) -> Result<Vec<(Vec<usize>, String)>, EngineError> {
        let mut explained = Vec::new();
        for (query, pass) in self
            .counting_queries(memberships)?
            .into_iter()
            .flat_map(|query| {
                query
                    .passes
                    .into_iter()
                    .map(move |pass| (query.segments.clone(), pass))
            })
        {
            let batches = match pass.explain(false, true)?.collect().await {
                Ok(batches) => batches,
                Err(error) => return Err(self.read_error(error).await),
            };
            let mut plan = String::new();
            for batch in &batches {
                let Some(lines) = batch
                    .column_by_name("plan")
                    .and_then(|c| c.as_string_opt::<i32>())
                else {
                    continue;
                };
                for line in lines.iter().flatten() {
                    plan.push_str(line);
                }
            }
            explained.push((query, plan));
        }
        Ok(explained)
    }

    /// A query per segment over the profiles' own columns, and one for all the segments that
    /// measure related tables.
    fn counting_queries(
        &self,
        memberships: &[Membership],
    ) -> Result<Vec<CountingQuery>, EngineError> {
        let (measuring, ordinary): (Vec<usize>, Vec<usize>) =
            (0..memberships.len()).partition(|&i| memberships[i].uses_related_tables());
        let mut queries = Vec::new();
        let scans_at_once = ordinary.len() + usize::from(!measuring.is_empty());
        for i in ordinary {
            let frame = self
                .members_of(&memberships[i], None, Carried::Decisions)?
                .aggregate(Vec::new(), vec![count(lit(1i64)).alias("members_0")])?;
            let frame = self.sharing_the_cores(frame, scans_at_once);
            queries.push(CountingQuery {
                segments: vec![i],
                passes: vec![frame],
            });
        }
        if !measuring.is_empty() {
            let together: Vec<&Membership> = measuring.iter().map(|&i| &memberships[i]).collect();
            let any = Membership::any_of(together.iter().map(|&m| m.clone()))
                .expect("one pass counts at least one segment");
            let passes = match self.key_parts(any.measures.len()) {
                1 => vec![self.counted_together(&together, &any, None)?],
                parts => KeyPart::all(parts)
                    .map(|part| self.counted_together(&together, &any, Some(part)))
                    .collect::<Result<_, _>>()?,
            };
            queries.push(CountingQuery {
                segments: measuring,
                passes,
            });
        }
        Ok(queries)
    }

    /// The members of each segment, counted together (of the profiles whose keys fall in
    /// `key_part`, if given): only the profiles in `any` of them are read past the filter the
    /// source runs, and each segment's count is an aggregate of those.
    fn counted_together(
        &self,
        memberships: &[&Membership],
        any: &Membership,
        key_part: Option<KeyPart>,
    ) -> Result<DataFrame, EngineError> {
        let counts = memberships
            .iter()
            .enumerate()
            .map(|(i, membership)| {
                Ok(count(lit(1i64))
                    .filter(membership.filter_expr())
                    .build()?
                    .alias(format!("members_{i}")))
            })
            .collect::<Result<Vec<Expr>, DataFusionError>>()?;
        Ok(self
            .counted_members_of(any, key_part)?
            .aggregate(Vec::new(), counts)?)
    }

    /// The physical plan of a segment's count, as DataFusion shows it: which filters a source
    /// runs itself (Parquet pruning, SQL sent to PostgreSQL) and which run here.
    pub async fn explain(&self, membership: Membership) -> Result<String, EngineError> {
        let plan = self
            .counted_members_of(&membership, None)?
            .create_physical_plan()
            .await?;
        Ok(datafusion::physical_plan::displayable(plan.as_ref())
            .indent(true)
            .to_string())
    }

    /// The first `limit` members, every attribute included, then each measure of a related
    /// table the segment tests, named in words (`number of orders, dated within the last 90
    /// days`): what made each member match.
    pub async fn preview(
        &self,
        membership: Membership,
        limit: usize,
    ) -> Result<Vec<RecordBatch>, EngineError> {
        let mut columns: Vec<Expr> = self
            .schema
            .fields()
            .iter()
            .map(|f| ident(f.name()))
            .collect();
        for measure in &membership.measures {
            if self.schema.field_with_name(&measure.label).is_err() {
                let value = match measure.empty_value {
                    Some(empty) => coalesce(vec![measure.value.clone(), lit(empty)]),
                    None => measure.value.clone(),
                };
                columns.push(value.alias(&measure.label));
            }
        }
        match self
            .members_of(&membership, None, Carried::DecisionsAndMeasures)?
            .select(columns)?
            .limit(0, Some(limit))?
            .collect()
            .await
        {
            Ok(batches) => Ok(batches),
            Err(error) => Err(self.read_error(error).await),
        }
    }

    /// Members of any of the query's segments, as a stream of batches with the query's columns
    /// and one membership boolean per segment.
    pub async fn members(
        &self,
        query: &MemberQuery,
    ) -> Result<SendableRecordBatchStream, EngineError> {
        for column in &query.columns {
            if self.schema.field_with_name(column).is_err() {
                let hint = self
                    .schema()
                    .nearest(column)
                    .map(|n| format!(" (did you mean {n:?}?)"))
                    .unwrap_or_default();
                return Err(EngineError::UnknownAttribute {
                    attribute: column.clone(),
                    hint,
                });
            }
        }
        let any_segment = Membership::any_of(
            query
                .segments
                .iter()
                .map(|(_, membership)| membership.clone()),
        )
        .ok_or_else(|| {
            self.source
                .problem(SourcePart::Options, "no segment to export".into())
        })?;
        let mut selection: Vec<Expr> = query.columns.iter().map(ident).collect();
        selection.extend(
            query
                .segments
                .iter()
                .enumerate()
                .map(|(i, (_, membership))| {
                    membership
                        .expr
                        .clone()
                        .alias(MemberQuery::membership_column(i))
                }),
        );
        let frame = self
            .members_of(&any_segment, None, Carried::Decisions)?
            .select(selection)?;
        match self.first_batch(frame.clone()).await? {
            Ok(stream) => Ok(stream),
            Err(error) if self.may_join_by_sorting_after(&frame, &error) => {
                tracing::info!(
                    limit = %self.settings.memory_limit,
                    "The members' hash join ran out of memory before the first member; joining by sorting instead, which spills."
                );
                self.first_batch(self.joined_by_sorting(frame))
                    .await?
                    .map_err(joined_by_sorting_failed)
            }
            Err(error) => Err(error),
        }
    }

    /// The query's stream once its first batch is in (or it ended): a hash join builds its
    /// table of measures before the first member comes, so a table that outgrows the memory
    /// limit fails here, while nothing has been handed on. The outer error is one that running
    /// again would not mend.
    async fn first_batch(
        &self,
        frame: DataFrame,
    ) -> Result<Result<SendableRecordBatchStream, EngineError>, EngineError> {
        let mut stream = match frame.execute_stream().await {
            Ok(stream) => stream,
            Err(error) => return Ok(Err(self.read_error(error).await)),
        };
        let schema = stream.schema();
        let first = match stream.next().await {
            Some(Err(error)) => return Ok(Err(self.read_error(error).await)),
            first => first,
        };
        Ok(Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures_util::stream::iter(first).chain(stream),
        ))))
    }

    /// Whether `frame`, which failed with `error`, may run again with sort-merge joins: it
    /// ran out of memory with hash joins, in this process.
    fn may_join_by_sorting_after(&self, frame: &DataFrame, error: &EngineError) -> bool {
        self.settings.cluster.is_none()
            && matches!(error, EngineError::MemoryBudget { .. })
            && joins_by_hashing(frame)
    }

    /// The members of one segment (of the profiles whose keys fall in `key_part`, if given):
    /// the profiles with its decisions (and measures, if `carried` says so), filtered.
    fn members_of(
        &self,
        membership: &Membership,
        key_part: Option<KeyPart>,
        carried: Carried,
    ) -> Result<DataFrame, EngineError> {
        let members = self
            .with_measures(membership, key_part, carried)?
            .filter(membership.filter_expr())?;
        Ok(
            if self.joins_by_sorting_up_front(membership.measures.len(), key_part) {
                self.joined_by_sorting(members)
            } else {
                members
            },
        )
    }

    /// The members of a segment as a count reads them: over related tables, grouped and joined
    /// in finer partitions than the cores. Member streams keep the cores' count: they read every
    /// mapped column, each partition's reader holds its row group's columns whole, and the API
    /// paces them anyway.
    fn counted_members_of(
        &self,
        membership: &Membership,
        key_part: Option<KeyPart>,
    ) -> Result<DataFrame, EngineError> {
        let members = self.members_of(membership, key_part, Carried::Decisions)?;
        Ok(if membership.measures.is_empty() {
            members
        } else {
            self.grouped_in_finer_partitions(members, key_part)
        })
    }

    /// The query with its related rows grouped and joined in as many partitions as
    /// [`grouping_partitions`] chooses for these profiles, within their share of the limit
    /// (on a cluster, as the cluster plans).
    fn grouped_in_finer_partitions(
        &self,
        frame: DataFrame,
        key_part: Option<KeyPart>,
    ) -> DataFrame {
        if self.settings.cluster.is_some() || !joins_by_hashing(&frame) {
            return frame;
        }
        let sharing = match self.place {
            Some(_) => self.settings.evaluations_at_once() as u64,
            None => 1,
        };
        let parts = KeyPart::parts_of(key_part) as usize;
        let partitions = grouping_partitions(
            self.cores(),
            self.profile_rows.map(|rows| rows.div_ceil(parts)),
            ByteSize::b(self.settings.memory_limit.as_u64() / sharing),
        );
        in_partitions(frame, partitions)
    }

    /// An ordinary count run beside `scans_at_once - 1` others, in its share of the cores'
    /// partitions (at least one): the scans together keep every core busy, and each holds
    /// fewer row groups' columns at once — a partition reads its row group's columns whole.
    fn sharing_the_cores(&self, frame: DataFrame, scans_at_once: usize) -> DataFrame {
        let cores = self.cores();
        let share = cores.div_ceil(scans_at_once.max(1));
        if self.settings.cluster.is_some() || share >= cores {
            return frame;
        }
        in_partitions(frame, share)
    }

    /// The partitions the session plans a query in: one per core.
    fn cores(&self) -> usize {
        self.ctx.state_ref().read().config().target_partitions()
    }

    /// The query with its joins made by sorting, which spill, in the session's own partitions:
    /// each partition then holds two sorts and their merge reservations.
    fn joined_by_sorting(&self, frame: DataFrame) -> DataFrame {
        let cores = self.cores();
        reconfigured(frame, |options| {
            options.optimizer.prefer_hash_join = false;
            options.execution.target_partitions = cores;
        })
    }

    /// The profiles with a column per decision: each related table that is measured is read
    /// once (only the rows some measure counts, when each has a filter), grouped by its key
    /// into every measure of it, each condition on those decided beside them, and joined to
    /// the profiles by key. The join carries the decisions only, of the keys for which some
    /// decision differs from a key without rows; a profile without a match reads it as
    /// that. With `Carried::DecisionsAndMeasures`, the measures come too, of every key.
    ///
    /// With a `key_part`, only the profiles whose key — the profile key of the first measured
    /// table — falls in that part, and only the related rows of those keys (of every table
    /// joined by that key; tables joined by another are read whole, as their rows may belong
    /// to any of the part's profiles).
    fn with_measures(
        &self,
        membership: &Membership,
        key_part: Option<KeyPart>,
        carried: Carried,
    ) -> Result<DataFrame, EngineError> {
        let measures = &membership.measures;
        let measured = |related: &&OpenedRelated| {
            measures
                .iter()
                .any(|measure| measure.table == related.table.name)
        };
        let part_key = self
            .related
            .iter()
            .find(measured)
            .map(|related| related.table.profile_key.as_str());
        let mut frame = self.frame.clone();
        if let (Some(part), Some(part_key)) = (key_part, part_key) {
            frame = frame.filter(part.holds(ident(part_key)))?;
        }
        let mut joined_keys = Vec::new();
        for related in self.related.iter().filter(measured) {
            // A membership holds each measure and decision once (`compile::add_once`).
            let of_table: Vec<&Measure> = measures
                .iter()
                .filter(|measure| measure.table == related.table.name)
                .collect();
            let decisions: Vec<&Decision> = membership
                .decisions
                .iter()
                .filter(|decision| decision.table == related.table.name)
                .collect();
            let mut rows = related.frame.clone();
            let filters: Option<Vec<Expr>> = of_table.iter().map(|m| m.rows.clone()).collect();
            // Without the truth tests each condition carries, so that the scan prunes by
            // them: wrapped in `IS TRUE`, a window defeated Parquet's row-group statistics
            // and every row group of the table was read.
            if let Some(any_counted) = filters.and_then(|f| f.into_iter().reduce(Expr::or)) {
                rows = rows.filter(without_truth_tests(any_counted))?;
            }
            let key_column = format!("__key_{}", joined_keys.len());
            let key = ident(&related.table.key);
            let key = if key.get_type(rows.schema())? == related.key_type {
                key
            } else {
                cast(key, related.key_type.clone())
            };
            if let Some(part) = key_part
                && part_key == Some(related.table.profile_key.as_str())
            {
                rows = rows.filter(part.holds(key.clone()))?;
            }
            let grouped = rows.aggregate(
                vec![key.alias(&key_column)],
                of_table.iter().map(|m| m.aggregate.clone()).collect(),
            )?;
            let mut columns = vec![ident(&key_column)];
            columns.extend(decisions.iter().map(|decision| decision.decided.clone()));
            if carried == Carried::DecisionsAndMeasures {
                columns.extend(of_table.iter().map(|measure| ident(&measure.name)));
            }
            let mut decided = grouped.select(columns)?;
            if carried == Carried::Decisions
                && let Some(differs) = decisions
                    .iter()
                    .map(|decision| decision.differs_from_without_rows())
                    .reduce(Expr::or)
            {
                decided = decided.filter(differs)?;
            }
            // The decisions are the join's build side (a row per key that has counted rows);
            // the profiles stream past them, each kept, with or without a match.
            frame = decided.join(
                frame,
                JoinType::Right,
                &[key_column.as_str()],
                &[related.table.profile_key.as_str()],
                None,
            )?;
            joined_keys.push(key_column);
        }
        if joined_keys.is_empty() {
            return Ok(frame);
        }
        let keys: Vec<&str> = joined_keys.iter().map(String::as_str).collect();
        Ok(frame.drop_columns(&keys)?)
    }

    /// Names the file behind a failure: with several files, each is read on its own until the
    /// one that fails is found, so the message can say which file, and the reader's own message
    /// says which line and column. On a cluster, the executor's message names the file and the
    /// executor; any other failure there makes the engine unavailable.
    pub async fn read_error(&self, error: DataFusionError) -> EngineError {
        if let Some(cluster) = &self.settings.cluster {
            return crate::cluster::query_failure(cluster, &self.source, &error);
        }
        if let DataFusionError::ResourcesExhausted(detail) = error.find_root() {
            return EngineError::MemoryBudget {
                limit: self.settings.memory_limit,
                detail: detail.clone(),
            };
        }
        let files = self.source.files();
        if files.len() > 1 {
            for file in files {
                let single = ProfileSource {
                    location: file.clone(),
                    ..self.source.clone()
                };
                let failed = match single.read(&self.ctx, Reader::Node).await {
                    Ok((frame, _)) => read_every_value(frame).await.err().map(|e| e.to_string()),
                    Err(error) => Some(error.to_string()),
                };
                if let Some(detail) = failed {
                    return EngineError::Read { file, detail };
                }
            }
        }
        EngineError::Read {
            file: self.source.display_location(),
            detail: error.to_string(),
        }
    }
}

/// DataFusion's logical optimizer rules but common-subexpression elimination: with the same
/// condition in the `FILTER` of several measures, it projects the condition out beneath the
/// aggregate with a nullability the physical plan disagrees with, and the plan fails
/// ("Physical input schema should be the same as the one converted from logical input
/// schema"; DataFusion 55). A cluster's scheduler plans again what a node sends it, so it must
/// plan with these rules too (`segsync_cluster`'s scheduler does).
pub fn optimizer_rules() -> Vec<Arc<dyn OptimizerRule + Send + Sync>> {
    Optimizer::new()
        .rules
        .into_iter()
        .filter(|rule| rule.name() != "common_sub_expression_eliminate")
        .collect()
}

/// Streams a frame to its end, parsing every column, and keeps nothing.
async fn read_every_value(frame: DataFrame) -> Result<(), DataFusionError> {
    let mut batches = frame.execute_stream().await?;
    while let Some(batch) = batches.next().await {
        batch?;
    }
    Ok(())
}

/// A query that failed joined by sorting too: a memory budget says so.
fn joined_by_sorting_failed(error: EngineError) -> EngineError {
    match error {
        EngineError::MemoryBudget { limit, detail } => EngineError::MemoryBudget {
            limit,
            detail: format!("even joined by sorting, which spills: {detail}"),
        },
        other => other,
    }
}

/// `frame`'s batches, collected on a task of its own (cancelled when dropped): queries run
/// at once then run on every worker thread, even those planned in a single partition, which
/// DataFusion runs on the task that polls it.
async fn collected_on_a_task(frame: DataFrame) -> datafusion::error::Result<Vec<RecordBatch>> {
    SpawnedTask::spawn(frame.collect())
        .join_unwind()
        .await
        .map_err(|cancelled| DataFusionError::External(Box::new(cancelled)))?
}

/// The same query planned with DataFusion's options changed by `change`.
fn reconfigured(frame: DataFrame, change: impl FnOnce(&mut ConfigOptions)) -> DataFrame {
    let (mut state, plan) = frame.into_parts();
    change(state.config_mut().options_mut());
    DataFrame::new(state, plan)
}

/// The same query planned in `partitions` partitions.
fn in_partitions(frame: DataFrame, partitions: usize) -> DataFrame {
    reconfigured(frame, |options| {
        options.execution.target_partitions = partitions;
    })
}

/// Whether the query's joins are planned as hash joins.
fn joins_by_hashing(frame: &DataFrame) -> bool {
    frame
        .task_ctx()
        .session_config()
        .options()
        .optimizer
        .prefer_hash_join
}
