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
        "orders of theirs into",
        "gold-us-recent",
        "engaged-europe",
        "repeat-outdoor-buyers",
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
fn segments_preview_counts_behaviour_over_a_related_table() {
    let folder = tempfile::tempdir().unwrap();
    let profiles = folder.path().join("profiles.csv");
    std::fs::write(
        &profiles,
        "profile_id,email\n1,a@example.com\n2,b@example.com\n3,c@example.com\n4,d@example.com\n",
    )
    .unwrap();
    let orders = folder.path().join("orders.csv");
    std::fs::write(
        &orders,
        "customer_id,amount,status\n1,80,paid\n1,40,paid\n2,500,refunded\n2,20,paid\n3,101,paid\n9,999,paid\n",
    )
    .unwrap();
    let segments = folder.path().join("segments.yaml");
    std::fs::write(
        &segments,
        "segments:\n  - name: spent-over-100\n    rule: { measure: sum, of: amount, over: orders, where: { attribute: status, op: equals, value: paid }, op: greater_than, value: 100 }\n  - name: never-ordered\n    rule: { not: { has: orders } }\n",
    )
    .unwrap();
    let related = format!(
        "orders={},key=customer_id,profile_key=profile_id",
        orders.display()
    );
    let preview = |segments: &std::path::Path, related: &str| {
        segsync()
            .args(["segments", "preview", "--rows", "5", "--profiles"])
            .arg(&profiles)
            .arg("--segments")
            .arg(segments)
            .args(["--related", related])
            .output()
            .unwrap()
    };
    let output = preview(&segments, &related);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Profiles 1 (80 + 40 paid) and 3 (101); 2 paid only 20. Profile 4 never ordered, and the
    // order of customer 9 belongs to no profile.
    assert!(stdout.contains("spent-over-100 — 2 members"), "{stdout}");
    assert!(stdout.contains("never-ordered — 1 members"), "{stdout}");
    assert!(stdout.contains("d@example.com"), "{stdout}");
    // A misspelt column of the related table is named with the nearest one.
    std::fs::write(
        &segments,
        "name: typo\nrule: { measure: sum, of: amout, over: orders, op: greater_than, value: 1 }\n",
    )
    .unwrap();
    let output = preview(&segments, &related);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(r#""orders" has no column "amout" (did you mean "amount"?)"#),
        "{stderr}"
    );
    // So is a related table whose key is not one of its columns.
    let output = preview(
        &segments,
        &format!(
            "orders={},key=customer,profile_key=profile_id",
            orders.display()
        ),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(r#"related table "orders": its key "customer" is not one of its columns (did you mean "customer_id"?)"#),
        "{stderr}"
    );
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
