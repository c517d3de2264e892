//! Segments compiled to DataFusion against an independent evaluator written here in plain
//! Rust, on generated profiles and generated rule trees (a property test with a fixed seed).

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use segsync_domain::segment::{
    Condition, Period, PeriodUnit, Rule, RunClock, SegmentDefinition, Test,
};
use segsync_engine::datafusion::arrow::array::AsArray;
use segsync_engine::{MemberQuery, ProfileSource, Profiles};
use serde_json::{Value, json};

use crate::fixtures::{self, COUNTRIES, NAMES, Row};

pub fn clock() -> RunClock {
    RunClock::new(fixtures::now(), chrono_tz::America::New_York)
}

// ---- the independent evaluator ----

pub fn evaluate(rule: &Rule, row: &Row, catalogue: &[SegmentDefinition]) -> bool {
    let member = |name: &String| {
        let segment = catalogue
            .iter()
            .find(|s| &s.name == name)
            .expect("known segment");
        evaluate(&segment.rule, row, catalogue)
    };
    match rule {
        Rule::All(children) => children.iter().all(|child| evaluate(child, row, catalogue)),
        Rule::Any(children) => children.iter().any(|child| evaluate(child, row, catalogue)),
        Rule::Not(child) => !evaluate(child, row, catalogue),
        Rule::Condition(condition) => condition_holds(condition, row),
        Rule::Segment(name) => member(name),
        Rule::Union(names) => names.iter().any(member),
        Rule::Intersect(names) => names.iter().all(member),
        Rule::Except(names) => member(&names[0]) && !names[1..].iter().any(member),
        Rule::Related(_) => panic!("related conditions are evaluated by the behaviour suite"),
    }
}

/// A value as the evaluator compares it.
pub enum Cell {
    Text(Option<String>),
    Number(Option<f64>),
    Date(Option<NaiveDate>),
    Instant(Option<DateTime<Utc>>),
    Flag(Option<bool>),
}

fn cell(row: &Row, attribute: &str) -> Cell {
    match attribute {
        "name" => Cell::Text(row.name.clone()),
        "country" => Cell::Text(row.country.clone()),
        "age" => Cell::Number(row.age.map(|a| a as f64)),
        "score" => Cell::Number(row.score),
        "joined" => Cell::Date(row.joined),
        "seen_at" => Cell::Instant(row.seen_at),
        "active" => Cell::Flag(row.active),
        other => panic!("no attribute {other}"),
    }
}

pub fn condition_holds(condition: &Condition, row: &Row) -> bool {
    test_holds(
        &condition.test,
        condition.case_insensitive,
        cell(row, &condition.attribute),
    )
}

/// Whether `value` passes `test`, computed here without DataFusion.
pub fn test_holds(test: &Test, case_insensitive: bool, value: Cell) -> bool {
    let clock = clock();
    let fold = |text: &str| {
        if case_insensitive {
            text.to_lowercase()
        } else {
            text.to_owned()
        }
    };
    let text_of = |value: &Value| fold(value.as_str().unwrap());
    let number_of = |value: &Value| value.as_f64().unwrap();
    let date_of =
        |value: &Value| NaiveDate::parse_from_str(value.as_str().unwrap(), "%Y-%m-%d").unwrap();
    let instant_of = |value: &Value| clock.start_of(date_of(value));
    match (test, value) {
        (Test::IsNull, c) => is_null(&c),
        (Test::IsNotNull, c) => !is_null(&c),
        (Test::IsEmpty, Cell::Text(t)) => t.is_none_or(|t| t.trim_matches(' ').is_empty()),
        (Test::IsNotEmpty, Cell::Text(t)) => t.is_some_and(|t| !t.trim_matches(' ').is_empty()),
        (
            _,
            Cell::Text(None)
            | Cell::Number(None)
            | Cell::Date(None)
            | Cell::Instant(None)
            | Cell::Flag(None),
        ) => false,
        (Test::Equals(v), Cell::Text(Some(t))) => fold(&t) == text_of(v),
        (Test::NotEquals(v), Cell::Text(Some(t))) => fold(&t) != text_of(v),
        (Test::In(vs), Cell::Text(Some(t))) => vs.iter().any(|v| fold(&t) == text_of(v)),
        (Test::NotIn(vs), Cell::Text(Some(t))) => vs.iter().all(|v| fold(&t) != text_of(v)),
        (Test::Contains(s), Cell::Text(Some(t))) => fold(&t).contains(&fold(s)),
        (Test::StartsWith(s), Cell::Text(Some(t))) => fold(&t).starts_with(&fold(s)),
        (Test::EndsWith(s), Cell::Text(Some(t))) => fold(&t).ends_with(&fold(s)),
        (Test::Equals(v), Cell::Number(Some(n))) => n == number_of(v),
        (Test::NotEquals(v), Cell::Number(Some(n))) => n != number_of(v),
        (Test::LessThan(v), Cell::Number(Some(n))) => n < number_of(v),
        (Test::LessOrEqual(v), Cell::Number(Some(n))) => n <= number_of(v),
        (Test::GreaterThan(v), Cell::Number(Some(n))) => n > number_of(v),
        (Test::GreaterOrEqual(v), Cell::Number(Some(n))) => n >= number_of(v),
        (Test::Between(a, b), Cell::Number(Some(n))) => number_of(a) <= n && n <= number_of(b),
        (Test::Before(v), Cell::Date(Some(d))) => d < date_of(v),
        (Test::After(v), Cell::Date(Some(d))) => d > date_of(v),
        (Test::Between(a, b), Cell::Date(Some(d))) => date_of(a) <= d && d <= date_of(b),
        (Test::WithinLast(p), Cell::Date(Some(d))) => {
            clock.date_before(*p) <= d && d <= clock.today()
        }
        (Test::MoreThanAgo(p), Cell::Date(Some(d))) => d < clock.date_before(*p),
        (Test::Before(v), Cell::Instant(Some(t))) => t < instant_of(v),
        (Test::After(v), Cell::Instant(Some(t))) => t > instant_of(v),
        (Test::WithinLast(p), Cell::Instant(Some(t))) => {
            clock.instant_before(*p) <= t && t <= clock.now
        }
        (Test::MoreThanAgo(p), Cell::Instant(Some(t))) => t < clock.instant_before(*p),
        (Test::IsTrue, Cell::Flag(Some(f))) => f,
        (Test::IsFalse, Cell::Flag(Some(f))) => !f,
        (Test::Between(a, b), Cell::Instant(Some(t))) => instant_of(a) <= t && t <= instant_of(b),
        (test, _) => panic!("the generator made {test:?} on a value of another type"),
    }
}

pub fn is_null(cell: &Cell) -> bool {
    matches!(
        cell,
        Cell::Text(None)
            | Cell::Number(None)
            | Cell::Date(None)
            | Cell::Instant(None)
            | Cell::Flag(None)
    )
}

// ---- the generator ----

pub fn random_condition(rng: &mut StdRng) -> Condition {
    let period = |rng: &mut StdRng| Period {
        amount: rng.gen_range(1..12),
        unit: [PeriodUnit::Days, PeriodUnit::Weeks, PeriodUnit::Months][rng.gen_range(0..3)],
    };
    let date = |rng: &mut StdRng| {
        json!(
            (fixtures::now().date_naive() - chrono::Duration::days(rng.gen_range(0..400)))
                .to_string()
        )
    };
    let text_value = |rng: &mut StdRng| {
        let pool = if rng.gen_bool(0.5) { COUNTRIES } else { NAMES };
        json!(pool[rng.gen_range(0..pool.len())])
    };
    let (attribute, test, case_insensitive) = match rng.gen_range(0..8) {
        0 | 1 => {
            let attribute = if rng.gen_bool(0.5) { "name" } else { "country" };
            let test = match rng.gen_range(0..9) {
                0 => Test::Equals(text_value(rng)),
                1 => Test::NotEquals(text_value(rng)),
                2 => Test::In(vec![text_value(rng), text_value(rng)]),
                3 => Test::NotIn(vec![text_value(rng)]),
                4 => Test::Contains(["a", "d", "'", "ë", "S"][rng.gen_range(0..5)].to_owned()),
                5 => Test::StartsWith(["A", "a", "O'", "Z"][rng.gen_range(0..4)].to_owned()),
                6 => Test::EndsWith(["a", "n", "S", "m"][rng.gen_range(0..4)].to_owned()),
                7 => Test::IsEmpty,
                _ => Test::IsNotEmpty,
            };
            (attribute, test, rng.gen_bool(0.4))
        }
        2 | 3 => {
            let attribute = if rng.gen_bool(0.5) { "age" } else { "score" };
            let value = |rng: &mut StdRng| json!(rng.gen_range(10..95));
            let test = match rng.gen_range(0..7) {
                0 => Test::LessThan(value(rng)),
                1 => Test::LessOrEqual(value(rng)),
                2 => Test::GreaterThan(value(rng)),
                3 => Test::GreaterOrEqual(value(rng)),
                4 => Test::Equals(value(rng)),
                5 => Test::NotEquals(value(rng)),
                _ => {
                    let low = rng.gen_range(10..60);
                    Test::Between(json!(low), json!(low + rng.gen_range(0..30)))
                }
            };
            (attribute, test, false)
        }
        4 | 5 => {
            let attribute = if rng.gen_bool(0.5) {
                "joined"
            } else {
                "seen_at"
            };
            let test = match rng.gen_range(0..4) {
                0 => Test::Before(date(rng)),
                1 => Test::After(date(rng)),
                2 => Test::WithinLast(period(rng)),
                _ => Test::MoreThanAgo(period(rng)),
            };
            (attribute, test, false)
        }
        6 => (
            "active",
            if rng.gen_bool(0.5) {
                Test::IsTrue
            } else {
                Test::IsFalse
            },
            false,
        ),
        _ => {
            let attribute = ["name", "age", "joined", "active"][rng.gen_range(0..4)];
            (
                attribute,
                if rng.gen_bool(0.5) {
                    Test::IsNull
                } else {
                    Test::IsNotNull
                },
                false,
            )
        }
    };
    Condition {
        attribute: attribute.to_owned(),
        test,
        case_insensitive,
    }
}

fn random_rule(rng: &mut StdRng, depth: u32) -> Rule {
    random_tree(rng, depth, &mut |rng| {
        Rule::Condition(random_condition(rng))
    })
}

/// A rule tree of `all`, `any` and `not` up to `depth` levels, with leaves from `leaf`.
pub fn random_tree(
    rng: &mut StdRng,
    depth: u32,
    leaf: &mut dyn FnMut(&mut StdRng) -> Rule,
) -> Rule {
    if depth == 0 || rng.gen_ratio(2, 5) {
        return leaf(rng);
    }
    let children = |rng: &mut StdRng, leaf: &mut dyn FnMut(&mut StdRng) -> Rule| {
        (0..rng.gen_range(1..4))
            .map(|_| random_tree(rng, depth - 1, leaf))
            .collect()
    };
    match rng.gen_range(0..3) {
        0 => Rule::All(children(rng, leaf)),
        1 => Rule::Any(children(rng, leaf)),
        _ => Rule::Not(Box::new(random_tree(rng, depth - 1, leaf))),
    }
}

pub async fn member_ids(
    profiles: &Profiles,
    segment: &SegmentDefinition,
    catalogue: &[SegmentDefinition],
) -> BTreeSet<i64> {
    let membership = profiles
        .segment_expr(segment, &catalogue.to_vec(), &clock())
        .unwrap();
    let query = MemberQuery {
        columns: vec!["id".into()],
        segments: vec![(segment.name.clone(), membership)],
    };
    streamed_ids(profiles, &query).await
}

/// The ids a member stream carries (its first column).
pub async fn streamed_ids(profiles: &Profiles, query: &MemberQuery) -> BTreeSet<i64> {
    let batches: Vec<_> = profiles
        .members(query)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    batches
        .iter()
        .flat_map(|batch| {
            batch
                .column(0)
                .as_primitive::<segsync_engine::datafusion::arrow::datatypes::Int64Type>()
                .values()
                .to_vec()
        })
        .collect()
}

/// Checks 150 generated rule trees on `profiles` (which hold `rows`) against the evaluator.
pub async fn check_generated_segments(profiles: &Profiles, rows: &[Row], source: &str) {
    let mut rng = StdRng::seed_from_u64(2026);
    let mut non_trivial = 0;
    for case in 0..150 {
        let segment = SegmentDefinition {
            name: format!("case-{case}"),
            description: None,
            rule: random_rule(&mut rng, 3),
        };
        let catalogue = vec![segment.clone()];
        let expected: BTreeSet<i64> = rows
            .iter()
            .filter(|row| evaluate(&segment.rule, row, &catalogue))
            .map(|row| row.id)
            .collect();
        let actual = member_ids(profiles, &segment, &catalogue).await;
        assert_eq!(
            actual, expected,
            "{source}, case {case}: {:#?}",
            segment.rule
        );
        if !expected.is_empty() && expected.len() < rows.len() {
            non_trivial += 1;
        }
    }
    assert!(
        non_trivial > 75,
        "the generated rules must mostly select some but not all profiles: {non_trivial}"
    );
}

/// Checks unions, intersections and differences of generated segments on `profiles`.
pub async fn check_set_operations(profiles: &Profiles, rows: &[Row], source: &str) {
    let mut rng = StdRng::seed_from_u64(99);
    for case in 0..30 {
        let mut catalogue: Vec<SegmentDefinition> = (0..3)
            .map(|i| SegmentDefinition {
                name: format!("s{i}"),
                description: None,
                rule: random_rule(&mut rng, 2),
            })
            .collect();
        let names = vec!["s0".to_owned(), "s1".to_owned(), "s2".to_owned()];
        let combined = match case % 4 {
            0 => Rule::Union(names),
            1 => Rule::Intersect(names[..2].to_vec()),
            2 => Rule::Except(names),
            _ => Rule::All(vec![
                Rule::Segment("s0".into()),
                Rule::Not(Box::new(Rule::Segment("s1".into()))),
            ]),
        };
        let segment = SegmentDefinition {
            name: "combined".into(),
            description: None,
            rule: combined,
        };
        catalogue.push(segment.clone());
        let expected: BTreeSet<i64> = rows
            .iter()
            .filter(|row| evaluate(&segment.rule, row, &catalogue))
            .map(|row| row.id)
            .collect();
        assert_eq!(
            member_ids(profiles, &segment, &catalogue).await,
            expected,
            "{source}, case {case}"
        );
    }
}

#[tokio::test]
async fn compiled_segments_agree_with_the_independent_evaluator() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("profiles.parquet");
    let rows = fixtures::rows(3_000, 42);
    fixtures::write_parquet(&path, &rows);
    let profiles = Profiles::open(ProfileSource::new(path.to_string_lossy()))
        .await
        .unwrap();
    check_generated_segments(&profiles, &rows, "local Parquet").await;
}

#[tokio::test]
async fn set_operations_between_segments_agree_too() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("profiles.parquet");
    let rows = fixtures::rows(2_000, 7);
    fixtures::write_parquet(&path, &rows);
    let profiles = Profiles::open(ProfileSource::new(path.to_string_lossy()))
        .await
        .unwrap();
    check_set_operations(&profiles, &rows, "local Parquet").await;
}

#[tokio::test]
async fn relative_dates_follow_the_run_clock_and_zone() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("profiles.parquet");
    let now = fixtures::now();
    let day = |days_ago: i64| Row {
        id: days_ago,
        name: None,
        country: None,
        age: None,
        score: None,
        joined: Some(now.date_naive() - chrono::Duration::days(days_ago)),
        seen_at: Some(now - chrono::Duration::days(days_ago)),
        active: None,
    };
    let rows: Vec<Row> = (0..100).map(day).collect();
    fixtures::write_parquet(&path, &rows);
    let profiles = Profiles::open(ProfileSource::new(path.to_string_lossy()))
        .await
        .unwrap();
    let segment = |attribute: &str, test: Test| SegmentDefinition {
        name: "relative".into(),
        description: None,
        rule: Rule::Condition(Condition {
            attribute: attribute.into(),
            test,
            case_insensitive: false,
        }),
    };
    let thirty_days = Period {
        amount: 30,
        unit: PeriodUnit::Days,
    };
    let within = segment("joined", Test::WithinLast(thirty_days));
    let ids = member_ids(&profiles, &within, std::slice::from_ref(&within)).await;
    assert_eq!(ids, (0..=30).collect());
    let older = segment("seen_at", Test::MoreThanAgo(thirty_days));
    let ids = member_ids(&profiles, &older, std::slice::from_ref(&older)).await;
    assert_eq!(ids, (31..100).collect());
}
