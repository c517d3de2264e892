//! The `segsync` binary as a person runs it.

use std::process::Command;

fn segsync() -> Command {
    Command::new(env!("CARGO_BIN_EXE_segsync"))
}

#[test]
fn the_demo_runs_end_to_end_on_a_small_sample() {
    let output = segsync()
        .args(["demo", "--profiles", "4000"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for expected in [
        "1. Generating 4000 sample profiles",
        "3. Authenticated with OAuth",
        "gold-us-recent",
        "engaged-europe",
        "succeeded",
        "duplicates collapsed",
        "invalid: malformed_email",
        "now holds",
        "Every profile is accounted for: yes",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing from:\n{stdout}"
        );
    }
}

#[test]
fn segments_check_names_the_rule_and_suggests_the_attribute() {
    let folder = tempfile::tempdir().unwrap();
    let profiles = folder.path().join("profiles.csv");
    std::fs::write(&profiles, "email,country,tier\na@example.com,US,gold\n").unwrap();
    let segments = folder.path().join("segments.yaml");
    std::fs::write(
        &segments,
        "name: typo\nrule:\n  all:\n    - { attribute: tier, op: equals, value: gold }\n    - { attribute: contry, op: equals, value: US }\n",
    )
    .unwrap();
    let output = segsync()
        .args([
            "segments",
            "check",
            "--profiles",
            profiles.to_str().unwrap(),
            "--segments",
            segments.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(
            r#"segment "typo", rule.all[1]: unknown attribute "contry" (did you mean "country"?)"#
        ),
        "{stdout}"
    );

    std::fs::write(
        &segments,
        "name: ok\nrule: { attribute: country, op: equals, value: US }\n",
    )
    .unwrap();
    let preview = segsync()
        .args([
            "segments",
            "preview",
            "--profiles",
            profiles.to_str().unwrap(),
            "--segments",
            segments.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&preview.stdout);
    assert!(preview.status.success(), "{stdout}");
    assert!(
        stdout.contains("ok — 1 members") && stdout.contains("a@example.com"),
        "{stdout}"
    );
}
