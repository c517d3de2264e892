//! The `segsync` binary as a person runs it.

use std::process::Command;

fn segsync() -> Command {
    Command::new(env!("CARGO_BIN_EXE_segsync"))
}

/// `contents` written to `name` in `folder`.
fn written(folder: &tempfile::TempDir, name: &str, contents: &str) -> std::path::PathBuf {
    let path = folder.path().join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// What a process that had to succeed printed; its errors when it did not.
fn stdout_of_success(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
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

/// Cluster processes started from the binary, killed when the test ends however it ends.
struct Processes(Vec<std::process::Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `segsync cluster status` until `wanted` is in what it prints (at most 30 s); what it printed
/// last.
fn status_until(cluster: &str, wanted: &str) -> String {
    let mut last = String::new();
    for _ in 0..60 {
        let output = segsync()
            .args(["cluster", "status", "--cluster", cluster])
            .output()
            .unwrap();
        last = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if last.contains(wanted) {
            return last;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!("`segsync cluster status` never said {wanted:?}; last:\n{last}");
}

/// A scheduler and two executors as separate processes: `segsync cluster status` lists the
/// executors alive with their slots; an executor stopped cleanly (SIGTERM) drains and exits 0,
/// the status no longer counts it, and the cluster still evaluates on the other.
#[test]
fn cluster_processes_report_their_executors_and_one_stopped_cleanly_drains() {
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let cluster = format!("df://127.0.0.1:{port}");
    let mut processes = Processes(vec![
        segsync()
            .args(["cluster", "scheduler", "--port", &port.to_string()])
            .args(["--executor-timeout-seconds", "10", "--drain-seconds", "2"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    ]);
    for executor in 0..2 {
        let folder = work.path().join(format!("executor-{executor}"));
        std::fs::create_dir_all(&folder).unwrap();
        processes.0.push(
            segsync()
                .args(["cluster", "executor", "--scheduler-port", &port.to_string()])
                .args(["--flight-port", &free_port().to_string()])
                .args(["--grpc-port", &free_port().to_string()])
                .args(["--concurrency", "2", "--heartbeat-seconds", "1"])
                .arg("--work-dir")
                .arg(&folder)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    let both = status_until(&cluster, "2 executors alive with 4 task slots");
    let rows_alive = both
        .lines()
        .filter(|line| line.starts_with("  127.0.0.1:") && line.contains(" alive "))
        .count();
    assert_eq!(rows_alive, 2, "{both}");

    let stopping = processes.0[2].id();
    let signal = Command::new("kill")
        .args(["-TERM", &stopping.to_string()])
        .status()
        .unwrap();
    assert!(signal.success());
    let mut exited = None;
    for _ in 0..60 {
        if let Some(status) = processes.0[2].try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let exited = exited.expect("the executor stopped within 30 s of SIGTERM");
    assert!(exited.success(), "a clean shutdown exits 0: {exited:?}");
    let one = status_until(&cluster, "1 executor alive with 2 task slots");
    assert!(!one.contains("no executor"), "{one}");

    let profiles = work.path().join("profiles.csv");
    std::fs::write(&profiles, "id,email\n1,a@example.com\n2,b@example.com\n").unwrap();
    let segments = work.path().join("segments.yaml");
    std::fs::write(
        &segments,
        "name: all\nrule: { attribute: email, op: is_not_empty }\n",
    )
    .unwrap();
    let output = segsync()
        .args(["segments", "preview", "--rows", "1", "--profiles"])
        .arg(&profiles)
        .arg("--segments")
        .arg(&segments)
        .args(["--cluster", &cluster])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("all — 2 members"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `segments preview --explain-analyze` prints, after the counts, each query that counted them
/// with its operators' metrics.
#[test]
fn a_preview_explains_each_counting_query_with_its_operators_metrics() {
    let folder = tempfile::tempdir().unwrap();
    let profiles = written(
        &folder,
        "profiles.csv",
        "id,email,tier\n1,a@example.com,gold\n2,b@example.com,silver\n3,c@example.com,gold\n",
    );
    let orders = written(&folder, "orders.csv", "customer,amount\n1,10\n1,20\n3,5\n");
    let segments = written(
        &folder,
        "segments.yaml",
        "segments:\n  - name: gold\n    rule: { attribute: tier, op: equals, value: gold }\n  - name: buyers\n    rule: { has: orders, at_least: 2 }\n",
    );
    let stdout = stdout_of_success(
        &segsync()
            .args(["segments", "preview", "--rows", "0", "--profiles"])
            .arg(&profiles)
            .arg("--segments")
            .arg(&segments)
            .arg("--related")
            .arg(format!(
                "orders={},key=customer,profile_key=id",
                orders.display()
            ))
            .arg("--explain-analyze")
            .output()
            .unwrap(),
    );
    assert!(stdout.contains("gold — 2 members"), "{stdout}");
    assert!(stdout.contains("buyers — 1 members"), "{stdout}");
    // Each query once, after the counts, with the rows each operator produced.
    let gold = stdout
        .find("the count of gold, with metrics:")
        .expect(&stdout);
    let buyers = stdout
        .find("the count of buyers, with metrics:")
        .expect(&stdout);
    assert!(gold > stdout.find("buyers — 1 members").unwrap());
    for plan in [&stdout[gold..buyers], &stdout[buyers..]] {
        assert!(plan.contains("AggregateExec"), "{plan}");
        assert!(plan.contains("output_rows="), "{plan}");
    }
    assert!(stdout[buyers..].contains("HashJoinExec"), "{stdout}");
}

/// `segments preview --as-of` counts relative dates from the instant given, so that the same
/// question gets the same answer whenever it is asked.
#[test]
fn a_preview_as_of_an_instant_counts_relative_dates_from_it() {
    let folder = tempfile::tempdir().unwrap();
    let profiles = written(
        &folder,
        "profiles.csv",
        "id,email,last_seen\n1,a@example.com,2026-01-10T00:00:00Z\n2,b@example.com,2026-03-01T00:00:00Z\n3,c@example.com,2025-06-01T00:00:00Z\n",
    );
    let segments = written(
        &folder,
        "segments.yaml",
        "name: recent\nrule: { attribute: last_seen, op: within_last, amount: 30, unit: days }\n",
    );
    let preview = |as_of: &str| {
        stdout_of_success(
            &segsync()
                .args(["segments", "preview", "--rows", "0", "--profiles"])
                .arg(&profiles)
                .arg("--segments")
                .arg(&segments)
                .args(["--as-of", as_of])
                .output()
                .unwrap(),
        )
    };
    assert!(preview("2026-01-20T00:00:00Z").contains("recent — 1 members"));
    assert!(preview("2026-03-15T12:00:00Z").contains("recent — 1 members"));
    assert!(preview("2026-12-01T00:00:00Z").contains("recent — 0 members"));
}
