//! Profiles in an S3-compatible store: Parquet folders, single CSV and JSON files and globs,
//! formats guessed from the names, and failures that say which part of the source is wrong —
//! without ever showing a secret.

use segsync_engine::{EngineError, ProfileFormat, Profiles, SourcePart};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::fixtures;
use crate::s3_server::S3Server;

fn part(error: &EngineError) -> SourcePart {
    match error {
        EngineError::Source { part, .. } => *part,
        other => panic!("not a source error: {other}"),
    }
}

#[tokio::test]
async fn parquet_csv_and_json_in_s3_read_as_on_disk() {
    let s3 = S3Server::start();
    s3.create_bucket("lake").await;
    let folder = tempfile::tempdir().unwrap();
    let rows = fixtures::rows(1_200, 5);
    let parts = folder.path().join("parquet");
    std::fs::create_dir(&parts).unwrap();
    fixtures::write_parquet(&parts.join("part-0.parquet"), &rows[..500]);
    fixtures::write_parquet(&parts.join("part-1.parquet"), &rows[500..]);
    s3.upload("lake", &parts, "crm/profiles").await;
    let csv = folder.path().join("profiles.csv");
    std::fs::write(
        &csv,
        "email;tier\nada@example.com;gold\nzoe@example.com;silver\n",
    )
    .unwrap();
    s3.upload("lake", &csv, "exports/profiles.csv").await;
    let json = folder.path().join("profiles.jsonl");
    std::fs::write(
        &json,
        "{\"email\":\"a@example.com\"}\n{\"email\":\"b@example.com\"}\n",
    )
    .unwrap();
    s3.upload("lake", &json, "exports/json/part-1.jsonl").await;
    s3.upload("lake", &json, "exports/json/part-2.jsonl").await;

    let folder_source = Profiles::open(s3.source("s3://lake/crm/profiles/"))
        .await
        .unwrap();
    assert_eq!(folder_source.snapshot().format, ProfileFormat::Parquet);
    assert_eq!(folder_source.count_all().await.unwrap(), 1_200);
    let without_slash = Profiles::open(s3.source("s3://lake/crm/profiles"))
        .await
        .unwrap();
    assert_eq!(without_slash.count_all().await.unwrap(), 1_200);
    let glob = Profiles::open(s3.source("s3://lake/crm/profiles/part-1*.parquet"))
        .await
        .unwrap_err();
    assert_eq!(
        part(&glob),
        SourcePart::Path,
        "globs are local only: {glob}"
    );

    let csv_source = Profiles::open(
        s3.source("s3://lake/exports/profiles.csv")
            .with_option("csv_delimiter", ";"),
    )
    .await
    .unwrap();
    assert_eq!(csv_source.count_all().await.unwrap(), 2);
    assert!(csv_source.schema().get("tier").is_some());

    let json_source = Profiles::open(
        s3.source("s3://lake/exports/json/")
            .with_option("format", "json"),
    )
    .await
    .unwrap();
    assert_eq!(json_source.count_all().await.unwrap(), 4);
}

#[tokio::test]
async fn a_failing_source_says_which_part_failed_and_shows_no_secret() {
    let s3 = S3Server::start();
    s3.create_bucket("lake").await;

    let missing = Profiles::open(s3.source("s3://lake/nothing-here/"))
        .await
        .unwrap_err();
    assert_eq!(part(&missing), SourcePart::Path, "{missing}");
    let no_bucket = Profiles::open(s3.source("s3://no-such-bucket/profiles.parquet"))
        .await
        .unwrap_err();
    assert_eq!(part(&no_bucket), SourcePart::Path, "{no_bucket}");

    let unknown_option = Profiles::open(
        s3.source("s3://lake/p.parquet")
            .with_option("endpiont", "http://x"),
    )
    .await
    .unwrap_err();
    assert_eq!(part(&unknown_option), SourcePart::Options);
    assert!(
        unknown_option.to_string().contains("endpiont"),
        "{unknown_option}"
    );

    let secret_from_nowhere = Profiles::open(
        s3.source("s3://lake/p.parquet")
            .with_option("secret_access_key_env", "SEGSYNC_TEST_NO_SUCH_VARIABLE"),
    )
    .await
    .unwrap_err();
    assert_eq!(part(&secret_from_nowhere), SourcePart::Options);
    assert!(
        secret_from_nowhere
            .to_string()
            .contains("SEGSYNC_TEST_NO_SUCH_VARIABLE"),
        "{secret_from_nowhere}"
    );

    // Nothing listens on the endpoint.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = Profiles::open(
        s3.source("s3://lake/p.parquet")
            .with_option("endpoint", closed_endpoint),
    )
    .await
    .unwrap_err();
    assert_eq!(part(&unreachable), SourcePart::Connection, "{unreachable}");

    for error in [
        &missing,
        &no_bucket,
        &unknown_option,
        &secret_from_nowhere,
        &unreachable,
    ] {
        assert!(
            !error.to_string().contains("segsync-test-secret"),
            "{error}"
        );
    }
}

/// A store that refuses the credentials, as S3 does: 403 with `InvalidAccessKeyId`.
#[tokio::test]
async fn refused_credentials_are_named_as_such() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut request = vec![0; 8192];
                let _ = socket.read(&mut request).await;
                let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>";
                let answer = format!(
                    "HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    let source = segsync_engine::ProfileSource::new("s3://lake/profiles/")
        .with_option("endpoint", &endpoint)
        .with_option("allow_http", "true")
        .with_option("region", "us-east-1")
        .with_option("access_key_id", "AKIAWRONG")
        .with_option("secret_access_key", "wrong-secret-value");
    let error = Profiles::open(source).await.unwrap_err();
    assert_eq!(part(&error), SourcePart::Credentials, "{error}");
    assert!(!error.to_string().contains("wrong-secret-value"), "{error}");
}
