//! `segsync sources check` as a person runs it: what a source holds, and which part of a
//! failing source is wrong, never with its secret.

use std::process::{Command, Output};
use std::sync::Arc;

use deltalake_core::DeltaTable;
use deltalake_core::protocol::SaveMode;
use segsync_engine::datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
use segsync_engine::datafusion::arrow::datatypes::{DataType, Field, Schema};
use segsync_engine::datafusion::arrow::record_batch::RecordBatch;

fn sources_check(args: &[&str]) -> (Output, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_segsync"))
        .args(["sources", "check"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

fn profiles(first_id: i64, count: i64) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("email", DataType::Utf8, true),
    ]));
    let ids: Vec<i64> = (first_id..first_id + count).collect();
    let emails: Vec<String> = ids.iter().map(|id| format!("p{id}@example.com")).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids)),
        Arc::new(StringArray::from(emails)),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

/// The `version:` line of `sources check` on `location`.
fn version_of(location: &std::path::Path) -> String {
    let (output, stdout, stderr) = sources_check(&["--profiles", location.to_str().unwrap()]);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("version: "))
        .unwrap_or_else(|| panic!("no version in:\n{stdout}"))
        .to_owned()
}

#[test]
fn a_folder_of_files_has_a_version_that_changes_when_a_file_does_and_only_then() {
    let folder = tempfile::tempdir().unwrap();
    let location = folder.path().join("profiles");
    std::fs::create_dir(&location).unwrap();
    std::fs::write(location.join("a.csv"), "email\na@example.com\n").unwrap();
    std::fs::write(location.join("b.csv"), "email\nb@example.com\n").unwrap();
    let first = version_of(&location);
    assert!(first.starts_with("2 files, 40 bytes"), "{first}");
    assert_eq!(version_of(&location), first, "nothing changed");
    std::fs::write(
        location.join("b.csv"),
        "email\nb@example.com\nc@example.com\n",
    )
    .unwrap();
    let second = version_of(&location);
    assert_ne!(second, first);
    std::fs::write(location.join("c.csv"), "email\nd@example.com\n").unwrap();
    assert!(version_of(&location).starts_with("3 files"));
}

#[tokio::test]
async fn a_delta_table_is_described_with_its_version_rows_and_schema() {
    let folder = tempfile::tempdir().unwrap();
    let location = folder.path().join("profiles");
    std::fs::create_dir(&location).unwrap();
    let url = url::Url::from_directory_path(&location).unwrap();
    for (first_id, count) in [(0, 30), (30, 12)] {
        DeltaTable::try_from_url(url.clone())
            .await
            .unwrap()
            .write(vec![profiles(first_id, count)])
            .with_save_mode(SaveMode::Append)
            .await
            .unwrap();
    }

    let (output, stdout, stderr) = sources_check(&["--profiles", location.to_str().unwrap()]);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for expected in [
        "version: Delta version 1",
        "format: delta",
        "Delta version: 1",
        "rows: 42",
        "schema:",
        "email",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing from:\n{stdout}"
        );
    }

    let (output, stdout, stderr) = sources_check(&[
        "--profiles",
        location.to_str().unwrap(),
        "--profiles-option",
        "version=0",
    ]);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Delta version: 0"), "{stdout}");
    assert!(stdout.contains("rows: 30"), "{stdout}");
}

#[test]
fn a_failing_source_names_the_part_and_never_its_secret() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let secret = "segsync-cli-test-secret-value";
    let endpoint_option = format!("endpoint={endpoint}");
    let secret_option = format!("secret_access_key={secret}");
    let (output, stdout, stderr) = sources_check(&[
        "--profiles",
        "s3://lake/profiles/",
        "--profiles-option",
        &endpoint_option,
        "--profiles-option",
        "allow_http=true",
        "--profiles-option",
        "region=us-east-1",
        "--profiles-option",
        "access_key_id=AKIATEST",
        "--profiles-option",
        &secret_option,
    ]);
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains(": connection: "), "{stderr}");
    assert!(stdout.contains("secret_access_key = "), "{stdout}");
    assert!(
        !stdout.contains(secret) && !stderr.contains(secret),
        "{stdout}\n{stderr}"
    );

    let (output, _, stderr) = sources_check(&[
        "--profiles",
        "postgres://segsync@127.0.0.1:1/profiles",
        "--profiles-option",
        "password=segsync-cli-test-password",
    ]);
    assert!(!output.status.success());
    assert!(
        stderr.contains(": options: ") && stderr.contains("table"),
        "{stderr}"
    );
    assert!(!stderr.contains("segsync-cli-test-password"), "{stderr}");
}
