//! Segments over what customers did — `has` and `measure` over related tables — compiled to
//! DataFusion and checked against an independent evaluator written here, on generated
//! profiles, orders and emails: profiles without related rows, rows without a profile or a
//! key, rows exactly at the edges of the windows, and windows that cross daylight-saving
//! changes in the run's time zone (New York).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use segsync_domain::segment::{
    Aggregate, Condition, Period, PeriodUnit, RelatedCondition, Rule, SegmentDefinition, Test,
};
use segsync_engine::datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use segsync_engine::datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use segsync_engine::datafusion::arrow::record_batch::RecordBatch;
use segsync_engine::datafusion::parquet::arrow::ArrowWriter;
use segsync_engine::{
    ByteSize, EngineError, EngineSettings, ProfileSource, Profiles, RelatedTable,
};
use serde_json::json;

use crate::differential::{
    Cell, clock, condition_holds, member_ids, random_condition, random_tree, test_holds,
};
use crate::fixtures::{self, Row};

const STATUSES: &[&str] = &["paid", "PAID", "refunded", "pending", ""];
const CAMPAIGNS: &[&str] = &["spring", "summer", "Summer", "win-back"];

#[derive(Debug, Clone)]
struct Order {
    /// An `Int32` column, so the key is cast to the profiles' `Int64` before the join.
    customer_id: Option<i32>,
    amount: Option<f64>,
    status: Option<String>,
    ordered_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct Email {
    profile: Option<i64>,
    campaign: Option<String>,
    opened: Option<bool>,
    sent_on: Option<NaiveDate>,
}

/// The windows the generator uses, some of them across the spring change (8 March 2026 in New
/// York) or the autumn one (1 November 2025).
const PERIODS: &[Period] = &[
    Period {
        amount: 7,
        unit: PeriodUnit::Days,
    },
    Period {
        amount: 30,
        unit: PeriodUnit::Days,
    },
    Period {
        amount: 99,
        unit: PeriodUnit::Days,
    },
    Period {
        amount: 100,
        unit: PeriodUnit::Days,
    },
    Period {
        amount: 14,
        unit: PeriodUnit::Weeks,
    },
    Period {
        amount: 3,
        unit: PeriodUnit::Months,
    },
    Period {
        amount: 8,
        unit: PeriodUnit::Months,
    },
];

/// Dates the generator compares with, among them the days of the clock changes.
const DATES: &[&str] = &[
    "2025-11-01",
    "2025-11-02",
    "2026-03-07",
    "2026-03-08",
    "2026-03-09",
    "2026-06-01",
];

/// Instants on and next to the edges of every window and date the generator uses.
fn edge_instants() -> Vec<DateTime<Utc>> {
    let clock = clock();
    let micro = Duration::microseconds(1);
    let mut edges = vec![clock.now, clock.now + micro, clock.now - micro];
    for period in PERIODS {
        let start = clock.instant_before(*period);
        edges.extend([start, start - micro, start + micro]);
    }
    for date in DATES {
        let midnight = clock.start_of(date.parse().unwrap());
        edges.extend([midnight, midnight - micro, midnight + micro]);
    }
    edges
}

fn edge_dates() -> Vec<NaiveDate> {
    let clock = clock();
    let mut edges = vec![clock.today(), clock.today() + Duration::days(1)];
    for period in PERIODS {
        let start = clock.date_before(*period);
        edges.extend([start, start - Duration::days(1), start + Duration::days(1)]);
    }
    edges.extend(DATES.iter().map(|date| date.parse::<NaiveDate>().unwrap()));
    edges
}

fn orders(profiles: usize, seed: u64) -> Vec<Order> {
    let mut rng = StdRng::seed_from_u64(seed);
    let edges = edge_instants();
    let mut orders = Vec::new();
    let order = |rng: &mut StdRng, customer_id: Option<i32>| Order {
        customer_id,
        amount: rng
            .gen_ratio(9, 10)
            .then(|| f64::from(rng.gen_range(0..1_600)) / 4.0),
        status: rng
            .gen_ratio(9, 10)
            .then(|| STATUSES[rng.gen_range(0..STATUSES.len())].to_owned()),
        ordered_at: match rng.gen_range(0..10) {
            0 => None,
            1..=3 => Some(edges[rng.gen_range(0..edges.len())]),
            _ => Some(fixtures::now() - Duration::minutes(rng.gen_range(0..60 * 24 * 500))),
        },
    };
    for id in 0..profiles {
        // A fifth of the profiles never ordered.
        if rng.gen_ratio(1, 5) {
            continue;
        }
        for _ in 0..rng.gen_range(1..7) {
            let customer = order(&mut rng, Some(id as i32));
            orders.push(customer);
        }
    }
    // Orders of nobody: a customer the profiles do not have, and no customer at all.
    for _ in 0..50 {
        let stray = order(&mut rng, Some(profiles as i32 + 7));
        orders.push(stray);
        let keyless = order(&mut rng, None);
        orders.push(keyless);
    }
    orders
}

fn emails(profiles: usize, seed: u64) -> Vec<Email> {
    let mut rng = StdRng::seed_from_u64(seed);
    let edges = edge_dates();
    let mut emails = Vec::new();
    for id in 0..profiles {
        if rng.gen_ratio(1, 3) {
            continue;
        }
        for _ in 0..rng.gen_range(1..5) {
            emails.push(Email {
                profile: Some(id as i64),
                campaign: rng
                    .gen_ratio(9, 10)
                    .then(|| CAMPAIGNS[rng.gen_range(0..CAMPAIGNS.len())].to_owned()),
                opened: rng.gen_ratio(9, 10).then(|| rng.gen_bool(0.4)),
                sent_on: match rng.gen_range(0..10) {
                    0 => None,
                    1..=3 => Some(edges[rng.gen_range(0..edges.len())]),
                    _ => Some(fixtures::now().date_naive() - Duration::days(rng.gen_range(0..400))),
                },
            });
        }
    }
    emails
}

fn write(path: &std::path::Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    // Several row groups, so that pruning has something to skip.
    for start in (0..batch.num_rows()).step_by(700) {
        writer
            .write(&batch.slice(start, 700.min(batch.num_rows() - start)))
            .unwrap();
    }
    writer.close().unwrap();
}

fn orders_batch(orders: &[Order]) -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("customer_id", DataType::Int32, true),
        Field::new("amount", DataType::Float64, true),
        Field::new("status", DataType::Utf8, true),
        Field::new(
            "ordered_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from_iter(orders.iter().map(|o| o.customer_id))),
        Arc::new(Float64Array::from_iter(orders.iter().map(|o| o.amount))),
        Arc::new(StringArray::from_iter(
            orders.iter().map(|o| o.status.clone()),
        )),
        Arc::new(
            TimestampMicrosecondArray::from_iter(
                orders
                    .iter()
                    .map(|o| o.ordered_at.map(|t| t.timestamp_micros())),
            )
            .with_timezone("UTC"),
        ),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

fn emails_batch(emails: &[Email]) -> RecordBatch {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let schema = Schema::new(vec![
        Field::new("profile", DataType::Int64, true),
        Field::new("campaign", DataType::Utf8, true),
        Field::new("opened", DataType::Boolean, true),
        Field::new("sent_on", DataType::Date32, true),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter(emails.iter().map(|e| e.profile))),
        Arc::new(StringArray::from_iter(
            emails.iter().map(|e| e.campaign.clone()),
        )),
        Arc::new(BooleanArray::from_iter(emails.iter().map(|e| e.opened))),
        Arc::new(Date32Array::from_iter(
            emails
                .iter()
                .map(|e| e.sent_on.map(|d| (d - epoch).num_days() as i32)),
        )),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

/// Profiles, orders and emails in Parquet files of a temporary folder, opened together.
struct Behaviour {
    _folder: tempfile::TempDir,
    rows: Vec<Row>,
    orders: Vec<Order>,
    emails: Vec<Email>,
    profiles: Profiles,
}

impl Behaviour {
    async fn generate(profiles: usize, seed: u64) -> Self {
        Self::generate_with(profiles, seed, &EngineSettings::default()).await
    }

    async fn generate_with(profiles: usize, seed: u64, settings: &EngineSettings) -> Self {
        let folder = tempfile::tempdir().unwrap();
        let rows = fixtures::rows(profiles, seed);
        let orders = orders(profiles, seed + 1);
        let emails = emails(profiles, seed + 2);
        let profiles_path = folder.path().join("profiles.parquet");
        fixtures::write_parquet(&profiles_path, &rows);
        let orders_path = folder.path().join("orders.parquet");
        write(&orders_path, &orders_batch(&orders));
        let emails_path = folder.path().join("emails.parquet");
        write(&emails_path, &emails_batch(&emails));
        let related = [
            related("orders", &orders_path, "customer_id", Some("ordered_at")),
            related("emails", &emails_path, "profile", Some("sent_on")),
        ];
        let profiles = Profiles::open_with(
            ProfileSource::new(profiles_path.to_string_lossy()),
            settings,
        )
        .await
        .unwrap()
        .relate(&related)
        .await
        .unwrap();
        Self {
            _folder: folder,
            rows,
            orders,
            emails,
            profiles,
        }
    }

    fn expected(&self, segment: &SegmentDefinition) -> BTreeSet<i64> {
        let mut orders: HashMap<i64, Vec<&Order>> = HashMap::new();
        for order in &self.orders {
            if let Some(id) = order.customer_id {
                orders.entry(i64::from(id)).or_default().push(order);
            }
        }
        let mut emails: HashMap<i64, Vec<&Email>> = HashMap::new();
        for email in &self.emails {
            if let Some(id) = email.profile {
                emails.entry(id).or_default().push(email);
            }
        }
        self.rows
            .iter()
            .filter(|row| {
                let none = Vec::new();
                let related = Related {
                    orders: orders.get(&row.id).unwrap_or(&none),
                    emails: emails.get(&row.id).map_or(&[][..], Vec::as_slice),
                };
                evaluate(&segment.rule, row, &related)
            })
            .map(|row| row.id)
            .collect()
    }
}

fn related(name: &str, path: &std::path::Path, key: &str, dated_by: Option<&str>) -> RelatedTable {
    RelatedTable {
        name: name.into(),
        source: ProfileSource::new(path.to_string_lossy()),
        key: key.into(),
        profile_key: "id".into(),
        dated_by: dated_by.map(str::to_owned),
    }
}

// ---- the independent evaluator ----

/// One profile's related rows.
struct Related<'a> {
    orders: &'a [&'a Order],
    emails: &'a [&'a Email],
}

fn evaluate(rule: &Rule, row: &Row, related: &Related<'_>) -> bool {
    match rule {
        Rule::All(children) => children.iter().all(|child| evaluate(child, row, related)),
        Rule::Any(children) => children.iter().any(|child| evaluate(child, row, related)),
        Rule::Not(child) => !evaluate(child, row, related),
        Rule::Condition(condition) => condition_holds(condition, row),
        Rule::Related(condition) => related_holds(condition, related),
        other => panic!("the generator made {other:?}"),
    }
}

/// A rule over one related row, whose columns `cell` gives.
fn row_holds(rule: &Rule, cell: &dyn Fn(&str) -> Cell) -> bool {
    match rule {
        Rule::All(children) => children.iter().all(|child| row_holds(child, cell)),
        Rule::Any(children) => children.iter().any(|child| row_holds(child, cell)),
        Rule::Not(child) => !row_holds(child, cell),
        Rule::Condition(condition) => test_holds(
            &condition.test,
            condition.case_insensitive,
            cell(&condition.attribute),
        ),
        other => panic!("the generator made {other:?} inside where"),
    }
}

fn order_cell(order: &Order, column: &str) -> Cell {
    match column {
        "amount" => Cell::Number(order.amount),
        "status" => Cell::Text(order.status.clone()),
        "ordered_at" => Cell::Instant(order.ordered_at),
        "customer_id" => Cell::Number(order.customer_id.map(f64::from)),
        other => panic!("orders have no {other}"),
    }
}

fn email_cell(email: &Email, column: &str) -> Cell {
    match column {
        "campaign" => Cell::Text(email.campaign.clone()),
        "opened" => Cell::Flag(email.opened),
        "sent_on" => Cell::Date(email.sent_on),
        other => panic!("emails have no {other}"),
    }
}

/// One related row: its cell of each column.
type RowCells<'a> = Box<dyn Fn(&str) -> Cell + 'a>;

fn related_holds(condition: &RelatedCondition, related: &Related<'_>) -> bool {
    let cells: Vec<RowCells<'_>> = match condition.table.as_str() {
        "orders" => related
            .orders
            .iter()
            .map(|order| Box::new(move |column: &str| order_cell(order, column)) as Box<_>)
            .collect(),
        _ => related
            .emails
            .iter()
            .map(|email| Box::new(move |column: &str| email_cell(email, column)) as Box<_>)
            .collect(),
    };
    let dated_by = if condition.table == "orders" {
        "ordered_at"
    } else {
        "sent_on"
    };
    let matching: Vec<&RowCells<'_>> = cells
        .iter()
        .filter(|cell| {
            condition
                .rows
                .as_ref()
                .is_none_or(|rows| row_holds(rows, &***cell))
        })
        .filter(|cell| {
            condition
                .window
                .as_ref()
                .is_none_or(|window| test_holds(window, false, cell(dated_by)))
        })
        .collect();
    let measured: Vec<Cell> = match &condition.column {
        Some(column) => matching
            .iter()
            .map(|cell| cell(column))
            .filter(|value| !crate::differential::is_null(value))
            .collect(),
        None => Vec::new(),
    };
    let numbers = || {
        measured.iter().map(|value| match value {
            Cell::Number(Some(number)) => *number,
            _ => panic!("a number was measured"),
        })
    };
    let measure = match condition.aggregate {
        Aggregate::Count if condition.column.is_none() => Cell::Number(Some(matching.len() as f64)),
        Aggregate::Count => Cell::Number(Some(measured.len() as f64)),
        Aggregate::Sum => Cell::Number(Some(numbers().sum())),
        Aggregate::Avg => Cell::Number(
            (!measured.is_empty()).then(|| numbers().sum::<f64>() / measured.len() as f64),
        ),
        Aggregate::Min | Aggregate::Max => {
            extreme(&measured, condition.aggregate == Aggregate::Max)
        }
    };
    test_holds(&condition.test, false, measure)
}

/// The least or greatest of values of one type, or no value.
fn extreme(values: &[Cell], greatest: bool) -> Cell {
    let pick = |a: f64, b: f64| if greatest { a.max(b) } else { a.min(b) };
    match values.first() {
        None | Some(Cell::Number(_)) => Cell::Number(
            values
                .iter()
                .map(|value| match value {
                    Cell::Number(Some(n)) => *n,
                    _ => unreachable!(),
                })
                .reduce(pick),
        ),
        Some(Cell::Instant(_)) => {
            let instants = values.iter().map(|value| match value {
                Cell::Instant(Some(t)) => *t,
                _ => unreachable!(),
            });
            Cell::Instant(if greatest {
                instants.max()
            } else {
                instants.min()
            })
        }
        Some(Cell::Date(_)) => {
            let dates = values.iter().map(|value| match value {
                Cell::Date(Some(d)) => *d,
                _ => unreachable!(),
            });
            Cell::Date(if greatest { dates.max() } else { dates.min() })
        }
        Some(_) => panic!("the generator measures numbers, instants and dates"),
    }
}

// ---- the generator ----

fn period(rng: &mut StdRng) -> Period {
    PERIODS[rng.gen_range(0..PERIODS.len())]
}

fn date(rng: &mut StdRng) -> serde_json::Value {
    json!(DATES[rng.gen_range(0..DATES.len())])
}

fn window(rng: &mut StdRng) -> Test {
    match rng.gen_range(0..5) {
        0 | 1 => Test::WithinLast(period(rng)),
        2 => Test::MoreThanAgo(period(rng)),
        3 => {
            let (a, b) = (date(rng), date(rng));
            if a.as_str() <= b.as_str() {
                Test::Between(a, b)
            } else {
                Test::Between(b, a)
            }
        }
        _ => {
            if rng.gen_bool(0.5) {
                Test::Before(date(rng))
            } else {
                Test::After(date(rng))
            }
        }
    }
}

fn condition(attribute: &str, test: Test, case_insensitive: bool) -> Rule {
    Rule::Condition(Condition {
        attribute: attribute.into(),
        test,
        case_insensitive,
    })
}

fn order_rule(rng: &mut StdRng, depth: u32) -> Rule {
    if depth == 0 || rng.gen_bool(0.6) {
        let status = |rng: &mut StdRng| json!(STATUSES[rng.gen_range(0..STATUSES.len())]);
        let amount = |rng: &mut StdRng| json!(rng.gen_range(0..400));
        return match rng.gen_range(0..6) {
            0 => condition("status", Test::Equals(status(rng)), rng.gen_bool(0.5)),
            1 => condition(
                "status",
                Test::In(vec![status(rng), status(rng)]),
                rng.gen_bool(0.5),
            ),
            2 => condition("status", Test::IsEmpty, false),
            3 => condition("amount", Test::GreaterThan(amount(rng)), false),
            4 => {
                let low = rng.gen_range(0..300);
                condition("amount", Test::Between(json!(low), json!(low + 100)), false)
            }
            _ => condition("amount", Test::IsNull, false),
        };
    }
    match rng.gen_range(0..3) {
        0 => Rule::All(vec![order_rule(rng, depth - 1), order_rule(rng, depth - 1)]),
        1 => Rule::Any(vec![order_rule(rng, depth - 1), order_rule(rng, depth - 1)]),
        _ => Rule::Not(Box::new(order_rule(rng, depth - 1))),
    }
}

fn email_rule(rng: &mut StdRng) -> Rule {
    match rng.gen_range(0..3) {
        0 => condition(
            "campaign",
            Test::Equals(json!(CAMPAIGNS[rng.gen_range(0..CAMPAIGNS.len())])),
            rng.gen_bool(0.5),
        ),
        1 => condition("opened", Test::IsTrue, false),
        _ => Rule::Not(Box::new(condition("opened", Test::IsTrue, false))),
    }
}

fn count_bound(rng: &mut StdRng) -> Test {
    match rng.gen_range(0..3) {
        0 => Test::GreaterOrEqual(json!(rng.gen_range(1..4))),
        1 => Test::LessOrEqual(json!(rng.gen_range(0..3))),
        _ => Test::Equals(json!(rng.gen_range(0..3))),
    }
}

fn number_test(rng: &mut StdRng, scale: i64) -> Test {
    let value = |rng: &mut StdRng| json!(rng.gen_range(0..scale));
    match rng.gen_range(0..6) {
        0 => Test::GreaterThan(value(rng)),
        1 => Test::GreaterOrEqual(value(rng)),
        2 => Test::LessThan(value(rng)),
        3 => Test::LessOrEqual(value(rng)),
        4 => Test::Equals(json!(rng.gen_range(0..4))),
        _ => {
            let low = rng.gen_range(0..scale);
            Test::Between(json!(low), json!(low + scale / 2))
        }
    }
}

fn random_related(rng: &mut StdRng) -> RelatedCondition {
    let orders = rng.gen_ratio(7, 10);
    let table = if orders { "orders" } else { "emails" };
    let rows = rng.gen_bool(0.5).then(|| {
        Box::new(if orders {
            order_rule(rng, 2)
        } else {
            email_rule(rng)
        })
    });
    let rows_window = rng.gen_bool(0.6).then(|| window(rng));
    let (aggregate, column, test) = match (orders, rng.gen_range(0..8)) {
        (_, 0..=2) => (Aggregate::Count, None, count_bound(rng)),
        (true, 3) => (Aggregate::Sum, Some("amount"), number_test(rng, 800)),
        (true, 4) => (Aggregate::Avg, Some("amount"), number_test(rng, 400)),
        (true, 5) => {
            let aggregate = if rng.gen_bool(0.5) {
                Aggregate::Min
            } else {
                Aggregate::Max
            };
            (aggregate, Some("amount"), number_test(rng, 400))
        }
        (true, 6) => {
            let aggregate = if rng.gen_bool(0.5) {
                Aggregate::Min
            } else {
                Aggregate::Max
            };
            (aggregate, Some("ordered_at"), window(rng))
        }
        (true, _) => (Aggregate::Count, Some("amount"), number_test(rng, 5)),
        (false, 3..=5) => (Aggregate::Max, Some("sent_on"), window(rng)),
        (false, _) => (Aggregate::Count, Some("opened"), count_bound(rng)),
    };
    RelatedCondition {
        table: table.into(),
        rows,
        window: rows_window,
        aggregate,
        column: column.map(str::to_owned),
        test,
        written_as_has: false,
    }
}

fn random_rule(rng: &mut StdRng, depth: u32) -> Rule {
    random_tree(rng, depth, &mut |rng| {
        if rng.gen_ratio(2, 3) {
            Rule::Related(random_related(rng))
        } else {
            Rule::Condition(random_condition(rng))
        }
    })
}

// ---- the tests ----

#[tokio::test]
async fn behaviour_segments_agree_with_the_independent_evaluator() {
    let data = Behaviour::generate(1_500, 15).await;
    let mut rng = StdRng::seed_from_u64(2027);
    let mut non_trivial = 0;
    for case in 0..150 {
        let segment = SegmentDefinition {
            name: format!("case-{case}"),
            description: None,
            rule: random_rule(&mut rng, 3),
        };
        let catalogue = vec![segment.clone()];
        let expected = data.expected(&segment);
        let actual = member_ids(&data.profiles, &segment, &catalogue).await;
        assert_eq!(actual, expected, "case {case}: {:#?}", segment.rule);
        if !expected.is_empty() && expected.len() < data.rows.len() {
            non_trivial += 1;
        }
    }
    assert!(
        non_trivial > 75,
        "the generated rules must mostly select some but not all profiles: {non_trivial}"
    );
}

#[tokio::test]
async fn counts_and_member_streams_agree_for_several_segments_at_once() {
    let data = Behaviour::generate(800, 3).await;
    let mut rng = StdRng::seed_from_u64(5);
    for case in 0..20 {
        let catalogue: Vec<SegmentDefinition> = (0..3)
            .map(|i| SegmentDefinition {
                name: format!("s{i}"),
                description: None,
                rule: random_rule(&mut rng, 2),
            })
            .collect();
        let mut union = BTreeSet::new();
        let mut expected_counts = Vec::new();
        let mut memberships = Vec::new();
        for segment in &catalogue {
            let expected = data.expected(segment);
            let membership = data
                .profiles
                .segment_expr(segment, &catalogue, &clock())
                .unwrap();
            memberships.push(membership.clone());
            expected_counts.push(expected.len() as u64);
            assert_eq!(
                data.profiles.count(membership).await.unwrap(),
                expected.len() as u64,
                "case {case}, {}: {:#?}",
                segment.name,
                segment.rule
            );
            union.extend(expected);
        }
        // Counted all at once, as a preview counts its segments: those measuring related rows
        // in one pass, the others each on its own.
        assert_eq!(
            data.profiles.count_each(&memberships).await.unwrap(),
            expected_counts,
            "case {case}"
        );
        // One stream for all three, as an export reads them: measures of several segments
        // computed in one pass over each related table.
        let query = segsync_engine::MemberQuery {
            columns: vec!["id".into()],
            segments: catalogue
                .iter()
                .map(|segment| {
                    let membership = data
                        .profiles
                        .segment_expr(segment, &catalogue, &clock())
                        .unwrap();
                    (segment.name.clone(), membership)
                })
                .collect(),
        };
        let streamed = crate::differential::streamed_ids(&data.profiles, &query).await;
        assert_eq!(streamed, union, "case {case}");
    }
}

#[tokio::test]
async fn counts_made_in_passes_over_parts_of_the_keys_agree_with_the_independent_evaluator() {
    // 200,000 profiles whose measures need 8 MB or more as a hash table: at a 10 MiB limit a
    // count over any of their measures is made in passes, each over the profiles and related
    // rows whose ids fall in one part — orders keyed by a narrower integer with null
    // customers, emails by the profiles' own type.
    let data = Behaviour::generate_with(
        200_000,
        41,
        &EngineSettings::default().with_memory_limit(ByteSize::mib(10)),
    )
    .await;
    let mut rng = StdRng::seed_from_u64(43);
    let mut in_passes = 0;
    for case in 0..8 {
        let catalogue: Vec<SegmentDefinition> = (0..3)
            .map(|i| SegmentDefinition {
                name: format!("s{i}"),
                description: None,
                rule: Rule::Related(random_related(&mut rng)),
            })
            .collect();
        let memberships: Vec<_> = catalogue
            .iter()
            .map(|segment| {
                data.profiles
                    .segment_expr(segment, &catalogue, &clock())
                    .unwrap()
            })
            .collect();
        let expected: Vec<u64> = catalogue
            .iter()
            .map(|segment| data.expected(segment).len() as u64)
            .collect();
        assert_eq!(
            data.profiles.count_each(&memberships).await.unwrap(),
            expected,
            "case {case}: {catalogue:#?}"
        );
        let plans = data.profiles.explain_counts(&memberships).await.unwrap();
        if plans.len() > 1 {
            assert!(
                plans.iter().all(|(_, plan)| plan.contains("key_in_part(")),
                "case {case}: every pass reads one part of the keys"
            );
            in_passes += 1;
        }
    }
    assert!(
        in_passes >= 4,
        "only {in_passes} of 8 cases were counted in passes"
    );
}

fn parse(yaml: &str) -> SegmentDefinition {
    segsync_domain::segment::parse_segments(
        yaml,
        segsync_domain::segment::SegmentFormat::Yaml,
        "t.yaml",
    )
    .unwrap()
    .remove(0)
}

#[tokio::test]
async fn profiles_without_related_rows_take_the_empty_measure() {
    let data = Behaviour::generate(300, 21).await;
    let never_ordered: BTreeSet<i64> = data
        .rows
        .iter()
        .map(|row| row.id)
        .filter(|id| {
            !data
                .orders
                .iter()
                .any(|o| o.customer_id.map(i64::from) == Some(*id))
        })
        .collect();
    assert!(!never_ordered.is_empty());
    let members = |yaml: &str| {
        let segment = parse(yaml);
        let profiles = &data.profiles;
        async move { member_ids(profiles, &segment, std::slice::from_ref(&segment)).await }
    };
    // A count and a sum of nothing are 0.
    let none = members("name: s\nrule: { has: orders, exactly: 0 }").await;
    assert_eq!(none, never_ordered);
    let spent = members(
        "name: s\nrule: { measure: sum, of: amount, over: orders, op: less_than, value: 0.25 }",
    )
    .await;
    assert!(never_ordered.is_subset(&spent), "a sum of no rows is 0");
    // An average, a least and a greatest of nothing are no value: no comparison holds…
    let average = members(
        "name: s\nrule: { measure: avg, of: amount, over: orders, op: greater_or_equal, value: 0 }",
    )
    .await;
    assert!(average.is_disjoint(&never_ordered));
    // …and so their `not` holds.
    let not_average = members(
        "name: s\nrule: { not: { measure: avg, of: amount, over: orders, op: greater_or_equal, value: 0 } }",
    )
    .await;
    assert!(never_ordered.is_subset(&not_average));
}

#[tokio::test]
async fn related_tables_are_checked_against_the_profiles() {
    let folder = tempfile::tempdir().unwrap();
    let profiles_path = folder.path().join("profiles.parquet");
    fixtures::write_parquet(&profiles_path, &fixtures::rows(10, 1));
    let orders_path = folder.path().join("orders.parquet");
    write(&orders_path, &orders_batch(&orders(10, 2)));
    let open = |table: RelatedTable| {
        let profiles_path = profiles_path.clone();
        async move {
            Profiles::open(ProfileSource::new(profiles_path.to_string_lossy()))
                .await
                .unwrap()
                .relate(&[table])
                .await
                .unwrap_err()
        }
    };
    let problem = |error: EngineError| match error {
        EngineError::Related { table, problem }
        | EngineError::RelatedUnreadable { table, problem } => format!("{table}: {problem}"),
        other => panic!("a related table's error expected: {other}"),
    };
    let wrong_key = open(related(
        "orders",
        &orders_path,
        "customer",
        Some("ordered_at"),
    ))
    .await;
    assert_eq!(
        problem(wrong_key),
        "orders: its key \"customer\" is not one of its columns (did you mean \"customer_id\"?)"
    );
    let text_key = open(related("orders", &orders_path, "status", None)).await;
    assert_eq!(
        problem(text_key),
        "orders: its key \"status\" is text and the profiles' \"id\" is integer: keys must both be integers or both text"
    );
    let undated = open(related(
        "orders",
        &orders_path,
        "customer_id",
        Some("amount"),
    ))
    .await;
    assert_eq!(
        problem(undated),
        "orders: its dated_by column \"amount\" is number, not a date or timestamp"
    );
    let mut no_profile_key = related("orders", &orders_path, "customer_id", None);
    no_profile_key.profile_key = "ids".into();
    assert_eq!(
        problem(open(no_profile_key).await),
        "orders: its profile_key \"ids\" is not a profile attribute (did you mean \"id\"?)"
    );
    let missing = open(related(
        "orders",
        &folder.path().join("nowhere.parquet"),
        "customer_id",
        None,
    ))
    .await;
    assert!(
        matches!(&missing, EngineError::RelatedUnreadable { .. }),
        "{missing}"
    );
    assert!(
        problem(missing).starts_with("orders: profile source"),
        "the source's own error follows"
    );
}

/// Sums and averages of floating-point amounts are added exactly, so that a total on a
/// segment's threshold is the same whatever order the rows are added in (partitions merged as
/// they finish, a cluster's tasks): 0.1 + 0.2 + 0.3 is 0.6, not 0.6000000000000001 one way
/// and 0.6 the other.
#[tokio::test]
async fn sums_of_amounts_do_not_depend_on_the_order_rows_are_added() {
    let folder = tempfile::tempdir().unwrap();
    let profiles = folder.path().join("profiles.csv");
    std::fs::write(
        &profiles,
        "id,email\n1,a@example.com\n2,b@example.com\n3,c@example.com\n",
    )
    .unwrap();
    let orders = folder.path().join("orders.csv");
    // Profile 1's amounts in the order that rounds up as floats, profile 2's in the order that
    // does not; profile 3 spent a little more than 0.6.
    std::fs::write(
        &orders,
        "customer_id,amount\n1,0.1\n1,0.2\n1,0.3\n2,0.3\n2,0.2\n2,0.1\n3,0.3\n3,0.31\n",
    )
    .unwrap();
    let profiles = Profiles::open(ProfileSource::new(profiles.to_string_lossy()))
        .await
        .unwrap()
        .relate(&[related("orders", &orders, "customer_id", None)])
        .await
        .unwrap();
    for (rule, expected) in [
        (
            "{ measure: sum, of: amount, over: orders, op: greater_than, value: 0.6 }",
            vec![3],
        ),
        (
            "{ measure: sum, of: amount, over: orders, op: equals, value: 0.6 }",
            vec![1, 2],
        ),
        (
            "{ measure: avg, of: amount, over: orders, op: greater_than, value: 0.2 }",
            vec![3],
        ),
    ] {
        let segment = parse(&format!("name: s\nrule: {rule}\n"));
        let members: Vec<i64> =
            crate::differential::member_ids(&profiles, &segment, std::slice::from_ref(&segment))
                .await
                .into_iter()
                .collect();
        assert_eq!(members, expected, "{rule}");
    }
}
