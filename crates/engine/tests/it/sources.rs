//! Profile sources: formats, folders, globs, schema discovery, and errors that name the file,
//! the line and the column.

use segsync_domain::AttributeType;
use segsync_engine::datafusion::prelude::{col, lit};
use segsync_engine::{EngineError, ProfileSource, Profiles};

use crate::fixtures;

fn write(folder: &std::path::Path, name: &str, text: &str) -> String {
    let path = folder.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[tokio::test]
async fn csv_with_a_header_has_its_types_inferred() {
    let folder = tempfile::tempdir().unwrap();
    let csv = write(
        folder.path(),
        "profiles.csv",
        "email,first_name,age,joined,vip\nada@example.com,Ada,36,2026-01-02,true\nzoe@example.com,Zoë,,2025-12-31,false\n",
    );
    let profiles = Profiles::open(ProfileSource::new(&csv)).await.unwrap();
    let schema = profiles.schema();
    let kind = |name: &str| schema.get(name).unwrap().kind;
    assert_eq!(kind("email"), AttributeType::Text);
    assert_eq!(kind("age"), AttributeType::Integer);
    assert_eq!(kind("joined"), AttributeType::Date);
    assert_eq!(kind("vip"), AttributeType::Boolean);
    assert_eq!(profiles.count_all().await.unwrap(), 2);
}

/// A column without a single value — every column of a file that holds only its header, as a
/// failed load leaves it — is text, so segments over it still read (and find nobody).
#[tokio::test]
async fn csv_columns_without_values_are_text() {
    let folder = tempfile::tempdir().unwrap();
    let header_only = write(folder.path(), "empty.csv", "email,tier,phone\n");
    let profiles = Profiles::open(ProfileSource::new(&header_only))
        .await
        .unwrap();
    let schema = profiles.schema();
    assert_eq!(schema.get("tier").unwrap().kind, AttributeType::Text);
    assert_eq!(profiles.count_all().await.unwrap(), 0);
    assert_eq!(
        profiles
            .count(col("tier").eq(lit("gold")).into())
            .await
            .unwrap(),
        0
    );

    let never_filled = write(
        folder.path(),
        "profiles.csv",
        "email,phone,age\nada@example.com,,36\n",
    );
    let profiles = Profiles::open(ProfileSource::new(&never_filled))
        .await
        .unwrap();
    let schema = profiles.schema();
    assert_eq!(schema.get("phone").unwrap().kind, AttributeType::Text);
    assert_eq!(schema.get("age").unwrap().kind, AttributeType::Integer);
    assert_eq!(profiles.count_all().await.unwrap(), 1);
}

#[tokio::test]
async fn folders_globs_and_newline_delimited_json() {
    let folder = tempfile::tempdir().unwrap();
    let parquet = folder.path().join("parquet");
    std::fs::create_dir(&parquet).unwrap();
    let rows = fixtures::rows(250, 1);
    fixtures::write_parquet(&parquet.join("part-1.parquet"), &rows[..100]);
    fixtures::write_parquet(&parquet.join("part-2.parquet"), &rows[100..]);
    let by_folder = Profiles::open(ProfileSource::new(parquet.to_string_lossy()))
        .await
        .unwrap();
    assert_eq!(by_folder.count_all().await.unwrap(), 250);
    let glob = format!("{}/part-*.parquet", parquet.display());
    let by_glob = Profiles::open(ProfileSource::new(glob)).await.unwrap();
    assert_eq!(by_glob.count_all().await.unwrap(), 250);

    let json = write(
        folder.path(),
        "profiles.jsonl",
        "{\"email\":\"a@example.com\",\"score\":1.5}\n{\"email\":\"b@example.com\",\"score\":2}\n",
    );
    let by_json = Profiles::open(ProfileSource::new(json)).await.unwrap();
    assert_eq!(by_json.count_all().await.unwrap(), 2);
    assert_eq!(
        by_json.schema().get("score").unwrap().kind,
        AttributeType::Number
    );
}

#[tokio::test]
async fn a_missing_source_is_named() {
    let error = Profiles::open(ProfileSource::new("/nowhere/profiles.parquet"))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, EngineError::Source { .. }));
    assert!(
        message.contains("/nowhere/profiles.parquet") && message.contains("no such file"),
        "{message}"
    );
    let unknown = Profiles::open(ProfileSource::new("/tmp/profiles.xlsx"))
        .await
        .unwrap_err();
    assert!(
        unknown.to_string().contains("parquet, csv, json"),
        "{unknown}"
    );
}

#[tokio::test]
async fn a_bad_row_names_the_file_and_the_line() {
    let folder = tempfile::tempdir().unwrap();
    let csvs = folder.path().join("csv");
    std::fs::create_dir(&csvs).unwrap();
    let good: String = std::iter::once("email,age\n".to_owned())
        .chain((0..50).map(|i| format!("p{i}@example.com,{i}\n")))
        .collect();
    write(&csvs, "a-good.csv", &good);
    // The bad value comes after the rows the schema is inferred from, so the file is read as
    // numbers and fails there.
    let many: String = std::iter::once("email,age\n".to_owned())
        .chain((0..10_100).map(|i| format!("q{i}@example.com,{i}\n")))
        .collect();
    let bad = format!("{many}late@example.com,fifty-one\n");
    let bad_path = write(&csvs, "b-bad.csv", &bad);
    let profiles = Profiles::open(ProfileSource::new(csvs.to_string_lossy()))
        .await
        .unwrap();
    // Counting every row parses no column, so the failure shows once `age` is read.
    let error = profiles
        .count(col("age").gt(lit(18)).into())
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(&bad_path),
        "the failing file is named: {message}"
    );
    assert!(
        message.contains("fifty-one"),
        "the bad value is quoted: {message}"
    );
    assert!(message.contains("line"), "the line is given: {message}");
}

#[tokio::test]
async fn common_values_come_most_first_without_missing_or_blank_ones() {
    let folder = tempfile::tempdir().unwrap();
    let csv = write(
        folder.path(),
        "profiles.csv",
        "email,country,age\na@x.io,US,30\nb@x.io,FR,30\nc@x.io,US,41\nd@x.io,,41\ne@x.io, ,41\nf@x.io,DE,\ng@x.io,US,52\n",
    );
    let profiles = Profiles::open(ProfileSource::new(&csv)).await.unwrap();
    let countries: Vec<(String, u64)> = profiles
        .common_values("country", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|common| (common.value, common.profiles))
        .collect();
    assert_eq!(
        countries,
        [("US".into(), 3), ("DE".into(), 1), ("FR".into(), 1)],
        "ties by value; missing and blank left out"
    );
    let ages = profiles.common_values("age", 2).await.unwrap();
    assert_eq!(
        ages.iter()
            .map(|common| (common.value.as_str(), common.profiles))
            .collect::<Vec<_>>(),
        [("41", 3), ("30", 2)],
        "numbers too, as their text, up to the limit"
    );
    assert!(profiles.common_values("nothing", 5).await.is_err());
}
