//! Tidiness checked as tests, after rust-analyzer's `tidy`: no placeholder left in the code,
//! every source file opens with a doc comment saying what it is for, and every test that
//! ARCHITECTURE.md names as keeping an invariant exists.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the tidy crate lives in crates/tidy")
        .to_path_buf()
}

/// Every Rust file under `crates/`, in a stable order (build output excluded).
fn rust_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![workspace_root().join("crates")];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).expect("a crate folder reads") {
            let path = entry.expect("a folder entry reads").path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != "target") {
                    folders.push(path);
                }
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(workspace_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn no_placeholder_is_left_in_the_code() {
    // Spelled in two parts so that this file does not find itself.
    let placeholders = [
        concat!("todo", "!("),
        concat!("unimplemented", "!("),
        concat!("dbg", "!("),
        concat!("#[", "ignore"),
    ];
    let mut found = Vec::new();
    for path in rust_files() {
        let text = fs::read_to_string(&path).expect("a source file reads");
        for (number, line) in text.lines().enumerate() {
            for placeholder in placeholders {
                if line.contains(placeholder) {
                    found.push(format!("{}:{}: {placeholder}", relative(&path), number + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "placeholders left:\n{}", found.join("\n"));
}

#[test]
fn every_source_file_opens_with_a_doc_comment() {
    let undocumented: Vec<String> = rust_files()
        .iter()
        .filter(|path| {
            let text = fs::read_to_string(path).expect("a source file reads");
            !text.trim_start().starts_with("//!")
        })
        .map(|path| relative(path))
        .collect();
    assert!(
        undocumented.is_empty(),
        "files that do not open with a `//!` line saying what they are for:\n{}",
        undocumented.join("\n")
    );
}

/// A test ARCHITECTURE.md names: `engine/tests/it/differential.rs::compiled_segments_agree…`,
/// or `::next_test` after one, which is in the same file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct NamedTest {
    file: String,
    function: String,
}

/// The tests a text names, each `file.rs::function` in backticks; `::function` alone is in the
/// file named last.
fn named_tests(text: &str) -> BTreeSet<NamedTest> {
    let mut named = BTreeSet::new();
    let mut last_file: Option<String> = None;
    for quoted in text.split('`').skip(1).step_by(2) {
        let (file, function) = match quoted.split_once("::") {
            Some((file, function)) if file.ends_with(".rs") => (file.to_owned(), function),
            Some(("", function)) => match &last_file {
                Some(file) => (file.clone(), function),
                None => continue,
            },
            _ => continue,
        };
        let is_test_name = !function.is_empty()
            && function.chars().all(|character| {
                character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_'
            });
        if is_test_name {
            last_file = Some(file.clone());
            named.insert(NamedTest {
                file,
                function: function.to_owned(),
            });
        }
    }
    named
}

/// The files under `crates/` whose path ends with `file` (`in_step.rs` alone, or
/// `engine/tests/it/differential.rs`).
fn files_named<'a>(files: &'a [PathBuf], file: &str) -> Vec<&'a PathBuf> {
    let suffix = format!("/{file}");
    files
        .iter()
        .filter(|path| path.to_string_lossy().ends_with(&suffix))
        .collect()
}

#[test]
fn every_test_architecture_names_exists() {
    let architecture = fs::read_to_string(workspace_root().join("ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md reads");
    let named = named_tests(&architecture);
    assert!(
        named.len() > 20,
        "ARCHITECTURE.md names its invariants' tests"
    );
    let files = rust_files();
    let missing: Vec<String> = named
        .iter()
        .filter(|test| {
            let pattern = format!("fn {}(", test.function);
            !files_named(&files, &test.file).into_iter().any(|path| {
                fs::read_to_string(path)
                    .expect("a source file reads")
                    .contains(&pattern)
            })
        })
        .map(|test| format!("{}::{}", test.file, test.function))
        .collect();
    assert!(
        missing.is_empty(),
        "tests ARCHITECTURE.md names that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn a_named_test_without_its_file_is_in_the_file_named_before_it() {
    let named = named_tests("`a/tests/it/x.rs::first`, `::second`, `y.rs::third` and `Caller`");
    let names: Vec<(&str, &str)> = named
        .iter()
        .map(|test| (test.file.as_str(), test.function.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("a/tests/it/x.rs", "first"),
            ("a/tests/it/x.rs", "second"),
            ("y.rs", "third")
        ]
    );
}
