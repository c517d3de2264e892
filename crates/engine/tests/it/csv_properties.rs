//! The CSV profile reader on generated files: a header and rows with quotes, blanks, stray
//! separators, ragged lengths and bytes that are not UTF-8. It reads them or refuses them, and
//! a refusal names the file.

use proptest::prelude::*;
use segsync_engine::{ProfileSource, Profiles};

fn csv_file() -> impl Strategy<Value = Vec<u8>> {
    let cell = prop_oneof![
        "[a-z0-9@.]{0,8}",
        Just(String::new()),
        Just("\"quoted, with a comma\"".to_owned()),
        Just("\"unclosed".to_owned()),
        Just("12.5".to_owned()),
        Just("2026-01-01".to_owned()),
        Just("true".to_owned()),
    ];
    let row = prop::collection::vec(cell, 0..5).prop_map(|cells| cells.join(","));
    (
        prop::collection::vec("[a-z_]{1,6}", 1..5),
        prop::collection::vec(row, 0..20),
        prop::collection::vec(any::<u8>(), 0..4),
    )
        .prop_map(|(header, rows, noise)| {
            let mut file = header.join(",").into_bytes();
            for row in rows {
                file.push(b'\n');
                file.extend(row.into_bytes());
            }
            file.extend(noise);
            file
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_csv_file_is_read_or_refused_with_its_name(file in csv_file()) {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("profiles.csv");
        std::fs::write(&path, &file).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let read = runtime.block_on(async {
            let profiles = Profiles::open(ProfileSource::new(path.to_string_lossy())).await?;
            profiles.count_all().await
        });
        if let Err(error) = read {
            let message = error.to_string();
            prop_assert!(message.contains("profiles.csv"), "the refusal names the file: {message}");
        }
    }
}
