//! Profiles in PostgreSQL tables and views, on the server `./scripts/test` starts and names in
//! `POSTGRES_TEST_URL`: each test gets a database of its own, filters run in PostgreSQL, and a
//! failure says which part of the source is wrong without showing the password.

use segsync_engine::datafusion::prelude::{col, lit};
use segsync_engine::{EngineError, ProfileSource, Profiles, SourcePart};
use sqlx::{Connection, PgConnection};

use crate::fixtures;
use crate::postgres_database::PostgresProfiles;

fn part(error: &EngineError) -> SourcePart {
    match error {
        EngineError::Source { part, .. } => *part,
        other => panic!("not a source error: {other}"),
    }
}

#[tokio::test]
async fn tables_and_views_read_with_their_filters_run_in_postgres() {
    let rows = fixtures::rows(2_500, 17);
    let database = PostgresProfiles::create(&rows).await;

    let profiles = Profiles::open(database.source("crm.profiles"))
        .await
        .unwrap();
    assert_eq!(
        profiles.snapshot().format,
        segsync_engine::ProfileFormat::Postgres
    );
    assert_eq!(profiles.count_all().await.unwrap(), 2_500);
    let schema = profiles.schema();
    for column in [
        "id", "name", "country", "age", "score", "joined", "seen_at", "active",
    ] {
        assert!(schema.get(column).is_some(), "{column} in {schema:?}");
    }
    let in_the_us = col("country").eq(lit("US"));
    let expected = rows
        .iter()
        .filter(|row| row.country.as_deref() == Some("US"))
        .count() as u64;
    assert_eq!(
        profiles.count(in_the_us.clone().into()).await.unwrap(),
        expected
    );
    let plan = profiles.explain(in_the_us.into()).await.unwrap();
    assert!(
        plan.contains("SqlExec") && plan.contains("WHERE") && plan.contains("US"),
        "the filter runs in PostgreSQL: {plan}"
    );

    let folded = segsync_engine::datafusion::functions::expr_fn::lower(col("name"))
        .eq(lit("ó súilleabháin"));
    let plan = profiles.explain(folded.clone().into()).await.unwrap();
    let sql = plan
        .lines()
        .find(|line| line.contains("SqlExec"))
        .expect("a scan of PostgreSQL");
    assert!(
        !sql.contains("lower") && !sql.contains("WHERE"),
        "case folding runs here, not in PostgreSQL's locale: {plan}"
    );
    let expected_folded = rows
        .iter()
        .filter(|row| row.name.as_deref() == Some("Ó Súilleabháin"))
        .count() as u64;
    assert!(expected_folded > 0);
    assert_eq!(
        profiles.count(folded.into()).await.unwrap(),
        expected_folded
    );

    let adults = Profiles::open(database.source("crm.adults")).await.unwrap();
    let expected_adults = rows
        .iter()
        .filter(|row| row.age.is_some_and(|age| age >= 18))
        .count() as u64;
    assert_eq!(adults.count_all().await.unwrap(), expected_adults);
}

#[tokio::test]
async fn a_failing_postgres_source_says_which_part_failed_and_shows_no_password() {
    let database = PostgresProfiles::create(&fixtures::rows(10, 1)).await;

    let missing_table = Profiles::open(database.source("crm.no_such_table"))
        .await
        .unwrap_err();
    assert_eq!(part(&missing_table), SourcePart::Path, "{missing_table}");
    assert!(
        missing_table.to_string().contains("no_such_table"),
        "{missing_table}"
    );

    let no_table = Profiles::open(
        ProfileSource::new(database.url.as_str())
            .with_option("sslmode", "disable")
            .with_option("password", &database.password),
    )
    .await
    .unwrap_err();
    assert_eq!(part(&no_table), SourcePart::Options, "{no_table}");
    assert!(no_table.to_string().contains("table"), "{no_table}");

    let unknown_option = Profiles::open(database.source("crm.profiles").with_option("tabel", "x"))
        .await
        .unwrap_err();
    assert_eq!(part(&unknown_option), SourcePart::Options);
    assert!(
        unknown_option.to_string().contains("tabel"),
        "{unknown_option}"
    );

    let wrong_password = Profiles::open(
        database
            .source("crm.profiles")
            .with_option("password", "segsync-wrong-password"),
    )
    .await
    .unwrap_err();
    assert_eq!(
        part(&wrong_password),
        SourcePart::Credentials,
        "{wrong_password}"
    );

    let mut no_such_database = database.url.clone();
    no_such_database.set_path("segsync_test_no_such_database");
    let missing_database = Profiles::open(database.source_at(&no_such_database, "crm.profiles"))
        .await
        .unwrap_err();
    assert_eq!(
        part(&missing_database),
        SourcePart::Path,
        "{missing_database}"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut unreachable_url = database.url.clone();
    unreachable_url
        .set_port(Some(closed.local_addr().unwrap().port()))
        .unwrap();
    drop(closed);
    let unreachable = Profiles::open(database.source_at(&unreachable_url, "crm.profiles"))
        .await
        .unwrap_err();
    assert_eq!(part(&unreachable), SourcePart::Connection, "{unreachable}");

    for error in [
        &missing_table,
        &no_table,
        &unknown_option,
        &wrong_password,
        &missing_database,
        &unreachable,
    ] {
        // The test server's own password is a common word; the wrong one is not.
        let text = error.to_string();
        assert!(!text.contains("segsync-wrong-password"), "{text}");
        assert!(
            !text.contains(&format!(":{}@", database.password)),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_statement_that_outlasts_its_limit_ends_in_time() {
    let database = PostgresProfiles::create(&fixtures::rows(10, 1)).await;
    let mut url = database.url.clone();
    url.set_password(Some(&database.password)).unwrap();
    let mut connection = PgConnection::connect(url.as_str()).await.unwrap();
    sqlx::query("CREATE VIEW crm.slow AS SELECT profiles.* FROM crm.profiles, pg_sleep(5)")
        .execute(&mut connection)
        .await
        .unwrap();
    connection.close().await.unwrap();

    let slow = Profiles::open(
        database
            .source("crm.slow")
            .with_option("statement_timeout_seconds", "1"),
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let refused = slow.count_all().await.unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        format!("{}", segsync_domain::ErrorChain(&refused)).contains("statement timeout"),
        "{}",
        segsync_domain::ErrorChain(&refused)
    );
}

#[tokio::test]
async fn a_postgres_source_tells_its_version_by_its_changed_by_column_or_query() {
    use segsync_engine::SourceVersion;
    let database = PostgresProfiles::create(&fixtures::rows(10, 1)).await;
    let source = database.source("crm.profiles");
    assert_eq!(source.version().await.unwrap(), SourceVersion::Unknown);

    let by_column = database
        .source("crm.profiles")
        .with_option("changed_by", "id");
    let by_query = database
        .source("crm.profiles")
        .with_option("changed_by", "SELECT count(*) FROM crm.profiles");
    let before = (
        by_column.version().await.unwrap(),
        by_query.version().await.unwrap(),
    );
    assert_eq!(
        before.1,
        SourceVersion::Postgres {
            changed_by: "10".to_owned()
        }
    );
    let mut url = database.url.clone();
    url.set_password(Some(&database.password)).unwrap();
    let mut connection = PgConnection::connect(url.as_str()).await.unwrap();
    sqlx::query("INSERT INTO crm.profiles (id, name) VALUES (1000, 'new')")
        .execute(&mut connection)
        .await
        .unwrap();
    let after = (
        by_column.version().await.unwrap(),
        by_query.version().await.unwrap(),
    );
    assert_ne!(after.0, before.0);
    assert_eq!(
        after.1,
        SourceVersion::Postgres {
            changed_by: "11".to_owned()
        }
    );
    // A column that is not there says so, as an option's problem.
    let wrong = database
        .source("crm.profiles")
        .with_option("changed_by", "updated_at");
    let error = wrong.version().await.unwrap_err();
    assert_eq!(part(&error), SourcePart::Options, "{error}");
}
