//! The same generated profiles in every kind of source — Parquet on disk, Parquet in an
//! S3-compatible store, a Delta table and a PostgreSQL table — give every segment of the
//! differential suite the same members.

use segsync_engine::{ProfileSource, Profiles};

use crate::delta_writer::write_delta;
use crate::differential::{check_generated_segments, check_set_operations};
use crate::fixtures;
use crate::postgres_database::PostgresProfiles;
use crate::s3_server::S3Server;

#[tokio::test]
async fn every_source_gives_the_same_members() {
    let rows = fixtures::rows(3_000, 42);
    let folder = tempfile::tempdir().unwrap();
    let parquet_folder = folder.path().join("parquet");
    std::fs::create_dir(&parquet_folder).unwrap();
    fixtures::write_parquet(&parquet_folder.join("part-0.parquet"), &rows[..1_800]);
    fixtures::write_parquet(&parquet_folder.join("part-1.parquet"), &rows[1_800..]);

    let s3 = S3Server::start();
    s3.create_bucket("lake").await;
    s3.upload("lake", &parquet_folder, "profiles").await;

    let delta_folder = folder.path().join("delta");
    write_delta(&delta_folder, &rows[..1_000]).await;
    write_delta(&delta_folder, &rows[1_000..]).await;

    let postgres = PostgresProfiles::create(&rows).await;

    let sources = [
        (
            "Parquet on disk",
            ProfileSource::new(parquet_folder.to_string_lossy()),
        ),
        ("Parquet in S3", s3.source("s3://lake/profiles/")),
        (
            "a Delta table",
            ProfileSource::new(delta_folder.to_string_lossy()),
        ),
        ("a PostgreSQL table", postgres.source("crm.profiles")),
    ];
    for (name, source) in sources {
        let profiles = Profiles::open(source).await.unwrap();
        assert_eq!(
            profiles.count_all().await.unwrap(),
            rows.len() as u64,
            "{name}"
        );
        check_generated_segments(&profiles, &rows, name).await;
        check_set_operations(&profiles, &rows, name).await;
    }
}
