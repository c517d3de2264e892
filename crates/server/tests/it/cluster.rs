//! Exports evaluated on a Ballista cluster of `segsync cluster` processes: a preview, a dry
//! run and a whole export through the server, and the faults a cluster has — an executor killed mid-query, the
//! scheduler unreachable or restarted, executors that cannot read the profiles.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::Value;

use crate::cluster_processes::ProcessCluster;
use crate::helpers::{TestApp, spawn_app_with};
use crate::runs::{an_export, ended_within, run};

/// `rows` profiles in `files` CSV files in `folder`, every `gold_every`-th in the `gold`
/// segment; returns the emails the export must send (the segment's members, all valid).
fn write_profiles(folder: &Path, rows: usize, files: usize, gold_every: usize) -> Vec<String> {
    let mut members = Vec::new();
    let per_file = rows.div_ceil(files);
    for file in 0..files {
        let mut csv =
            String::from("profile_id,email,first_name,last_name,country,tier,lifetime_value\n");
        for id in file * per_file..((file + 1) * per_file).min(rows) {
            let tier = if id % gold_every == 0 {
                "gold"
            } else {
                "silver"
            };
            let email = format!("p{id}@example.com");
            csv.push_str(&format!(
                "{id},{email},First{id},Last{id},US,{tier},{}\n",
                id % 500
            ));
            if tier == "gold" {
                members.push(email);
            }
        }
        std::fs::write(folder.join(format!("part-{file}.csv")), csv).unwrap();
    }
    members.sort();
    members
}

/// A server whose engine evaluates on `cluster`, reading the profiles in `profiles`.
async fn app_on(cluster: &ProcessCluster, profiles: &Path) -> TestApp {
    let settings = cluster.settings();
    let location = profiles.to_string_lossy().into_owned();
    spawn_app_with(move |config| {
        config.profiles = Some(segsync_engine::ProfileSource::new(location));
        config.engine = settings;
    })
    .await
}

/// A server evaluating on a cluster of a scheduler and `executors` executors, `rows` profiles
/// in `files` files (see `write_profiles`), and the `gold` export of them.
struct ExportOnCluster {
    cluster: ProcessCluster,
    app: TestApp,
    export: String,
    list: String,
    /// What the export must send.
    members: Vec<String>,
    _profiles: tempfile::TempDir,
}

async fn export_on_cluster(
    executors: usize,
    rows: usize,
    files: usize,
    gold_every: usize,
) -> ExportOnCluster {
    export_on(ProcessCluster::start(), executors, rows, files, gold_every).await
}

async fn export_on(
    mut cluster: ProcessCluster,
    executors: usize,
    rows: usize,
    files: usize,
    gold_every: usize,
) -> ExportOnCluster {
    for _ in 0..executors {
        cluster.start_executor(None);
    }
    cluster.until_ready().await;
    let profiles = tempfile::tempdir().unwrap();
    let members = write_profiles(profiles.path(), rows, files, gold_every);
    let app = app_on(&cluster, profiles.path()).await;
    let (export, list) = an_export(&app).await;
    ExportOnCluster {
        cluster,
        app,
        export,
        list,
        members,
        _profiles: profiles,
    }
}

/// Starts a run of the export and returns its id once the executor `executor` runs one of
/// its tasks.
async fn start_until_a_task_runs(on: &ExportOnCluster, executor: usize) -> String {
    let logged = on.cluster.log(&format!("executor-{executor}")).len();
    let run = start(&on.app, &on.export).await;
    on.cluster.until_running_a_task(executor, logged).await;
    run
}

/// Starts a run of the export and returns its id.
async fn start(app: &TestApp, export: &str) -> String {
    let (status, queued) = run(app, Role::Contributor, export).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    queued["id"].as_str().unwrap().to_owned()
}

/// Reads the run until it has ended, for up to two minutes: a killed executor's tasks wait
/// for the scheduler to take it for dead.
async fn ended(app: &TestApp, run: &str) -> Value {
    ended_within(app, run, Duration::from_secs(120)).await
}

/// The list holds exactly `members`.
fn assert_list_holds(app: &TestApp, list: &str, members: &[String]) {
    let on_list: BTreeSet<String> = app.list_members(list).into_iter().collect();
    let expected: BTreeSet<String> = members.iter().cloned().collect();
    assert_eq!(on_list.len(), expected.len());
    assert!(on_list == expected, "the list is not the segment's members");
}

/// The run failed with the engine unavailable, and nothing reached Constant Contact.
fn assert_unavailable_and_nothing_sent(app: &TestApp, run: &Value) {
    assert_eq!(run["status"], "failed", "{run}");
    let reason = run["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("the engine is unavailable: the cluster at df://127.0.0.1:"),
        "{reason}"
    );
    assert_eq!(
        app.sandbox.state().imports_accepted(),
        0,
        "nothing was sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_whole_export_through_the_server_is_evaluated_on_the_cluster() {
    let ExportOnCluster {
        cluster,
        app,
        export,
        list,
        members,
        _profiles,
    } = export_on_cluster(2, 20_000, 4, 7).await;
    let logged_before = [
        cluster.log("executor-0").len(),
        cluster.log("executor-1").len(),
    ];

    let (_, segments) = app
        .call(Some(Role::Viewer), Method::GET, "/api/v1/segments", None)
        .await;
    let gold = segments[0]["id"].as_str().unwrap();
    let (status, preview) = app
        .call(
            Some(Role::Viewer),
            Method::GET,
            &format!("/api/v1/segments/{gold}/preview"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["members"], members.len(), "{preview}");
    for member in preview["sample"].as_array().unwrap() {
        let email = member["email"].as_str().unwrap().to_owned();
        assert!(
            members.binary_search(&email).is_ok(),
            "{email} is no member"
        );
    }

    let (status, dry_run) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/exports/{export}/dry-run"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{dry_run}");
    assert_eq!(dry_run["would_send"], members.len(), "{dry_run}");

    let done = ended(&app, &start(&app, &export).await).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["report"]["profiles_read"], 20_000, "{done}");
    assert_eq!(done["report"]["profiles_in_segments"], members.len());
    assert_eq!(done["report"]["sent"], members.len());
    assert_list_holds(&app, &list, &members);
    for (index, before) in logged_before.into_iter().enumerate() {
        let log = cluster.log(&format!("executor-{index}"));
        assert!(
            log[before..].contains("Running a task."),
            "executor {index} ran none of the export's tasks"
        );
    }
}

/// The same over mutual TLS, with certificates `segsync cluster certificates` made: the export
/// runs on both executors and the list holds the segment's members.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_whole_export_is_evaluated_on_a_cluster_over_mutual_tls() {
    let on = export_on(ProcessCluster::start_tls(), 2, 6_000, 4, 5).await;
    let done = ended(&on.app, &start(&on.app, &on.export).await).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["report"]["sent"], on.members.len(), "{done}");
    assert_list_holds(&on.app, &on.list, &on.members);
    for index in 0..2 {
        let log = on.cluster.log(&format!("executor-{index}"));
        assert!(
            log.contains("Running a task."),
            "executor {index} ran no task"
        );
    }
}

/// `segsync cluster` refuses to listen beyond loopback without TLS, saying what to give it.
#[test]
fn the_cluster_refuses_to_listen_beyond_loopback_without_tls() {
    for role in ["scheduler", "executor"] {
        let refused = std::process::Command::new(crate::processes::segsync_binary())
            .args(["cluster", role, "--bind-host", "0.0.0.0"])
            .output()
            .unwrap();
        assert!(!refused.status.success(), "{role}: {refused:?}");
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(said.contains("--tls-ca"), "{role}: {said}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_executor_killed_mid_query_leaves_its_tasks_to_another_or_the_next_run() {
    let mut on = export_on_cluster(1, 400_000, 8, 1_000).await;
    let attempt = start_until_a_task_runs(&on, 0).await;
    on.cluster.kill_executor(0);
    let second = on.cluster.start_executor(None);
    let ExportOnCluster {
        cluster,
        app,
        export,
        list,
        members,
        ..
    } = &on;
    let attempt = ended(app, &attempt).await;

    if attempt["status"] == "succeeded" {
        eprintln!("the killed executor's tasks ran on the other");
        cluster.until_running_a_task(second, 0).await;
    } else {
        eprintln!("the run failed: {}", attempt["reason"]);
        // The query was lost with the executor: the run fails before sending, and the next
        // one does the work.
        assert_unavailable_and_nothing_sent(app, &attempt);
        let again = ended(app, &start(app, export).await).await;
        assert_eq!(again["status"], "succeeded", "{again}");
    }
    assert_list_holds(app, list, members);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_scheduler_restarted_mid_query_fails_the_run_unsent_and_the_next_run_succeeds() {
    let on = export_on_cluster(1, 400_000, 8, 1_000).await;
    let attempt = start_until_a_task_runs(&on, 0).await;
    let ExportOnCluster {
        mut cluster,
        app,
        export,
        list,
        members,
        _profiles,
    } = on;
    cluster.kill_scheduler();
    let attempt = ended(&app, &attempt).await;
    assert_unavailable_and_nothing_sent(&app, &attempt);
    assert!(app.list_members(&list).is_empty());

    cluster.start_scheduler();
    cluster.until_ready().await;
    let again = ended(&app, &start(&app, &export).await).await;
    assert_eq!(again["status"], "succeeded", "{again}");
    assert_list_holds(&app, &list, &members);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_scheduler_fails_the_run_unsent_and_the_next_run_succeeds() {
    let ExportOnCluster {
        mut cluster,
        app,
        export,
        list,
        members,
        _profiles,
    } = export_on_cluster(1, 1_000, 2, 3).await;
    cluster.kill_scheduler();
    let attempt = ended(&app, &start(&app, &export).await).await;
    assert_unavailable_and_nothing_sent(&app, &attempt);

    cluster.start_scheduler();
    cluster.until_ready().await;
    let again = ended(&app, &start(&app, &export).await).await;
    assert_eq!(again["status"], "succeeded", "{again}");
    assert_list_holds(&app, &list, &members);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn executors_that_cannot_read_the_profiles_fail_the_run_naming_the_path_and_the_executor() {
    let profiles = tempfile::tempdir().unwrap();
    write_profiles(profiles.path(), 1_000, 2, 3);
    let mut cluster = ProcessCluster::start();
    cluster.start_executor(Some(profiles.path()));
    cluster.until_ready().await;
    let app = app_on(&cluster, profiles.path()).await;
    let (export, _) = an_export(&app).await;

    let attempt = ended(&app, &start(&app, &export).await).await;
    assert_eq!(attempt["status"], "failed", "{attempt}");
    let reason = attempt["reason"].as_str().unwrap_or_default();
    let folder = profiles.path().to_string_lossy();
    assert!(
        reason.contains(&format!("reading profiles from {folder}"))
            && reason.contains("on the executor at 127.0.0.1:")
            && reason.contains(&format!("{folder}/part-")),
        "{reason}"
    );
    assert_eq!(
        app.sandbox.state().imports_accepted(),
        0,
        "nothing was sent"
    );
}

/// What the API says of the cluster, asked by an admin.
async fn cluster_view(app: &TestApp) -> Value {
    let (status, view) = app
        .call(
            Some(Role::Admin),
            Method::GET,
            "/api/v1/system/cluster",
            None,
        )
        .await;
    assert!(status.is_success(), "{view}");
    view
}

async fn readyz(app: &TestApp) -> (StatusCode, String) {
    let response = app.http.get(app.url("/readyz")).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The System page, its API and `/readyz` show the cluster as its scheduler says: executors
/// alive with their slots; one killed is no longer alive; a scheduler gone is unreachable —
/// and the server stays ready, since the console and the API do not need the cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_system_page_and_readyz_show_the_cluster() {
    let mut cluster = ProcessCluster::start();
    cluster.start_executor(None);
    cluster.start_executor(None);
    cluster.until_ready().await;
    let profiles = tempfile::tempdir().unwrap();
    write_profiles(profiles.path(), 100, 1, 7);
    let app = app_on(&cluster, profiles.path()).await;

    let view = cluster_view(&app).await;
    assert_eq!(view["scheduler"], cluster.url(), "{view}");
    assert_eq!(view["reachable"], true, "{view}");
    let executors = view["executors"].as_array().unwrap();
    assert_eq!(executors.len(), 2, "{view}");
    assert!(executors.iter().all(|e| e["state"] == "alive"), "{view}");
    let slots: u64 = executors.iter().map(|e| e["slots"].as_u64().unwrap()).sum();
    assert_eq!(view["alive_slots"].as_u64(), Some(slots), "{view}");
    let (status, text) = readyz(&app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        text,
        format!("ready\ncluster: 2 executors alive with {slots} task slots")
    );
    let page = crate::system::system_page(&app).await;
    assert!(page.contains("id=\"cluster-executors\""), "{page}");
    assert!(page.contains(&cluster.url()), "{page}");

    cluster.kill_executor(1);
    let mut last = Value::Null;
    for _ in 0..40 {
        last = cluster_view(&app).await;
        let alive = last["executors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["state"] == "alive")
            .count();
        if alive == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        last["executors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["state"] == "alive")
            .count(),
        1,
        "a killed executor is not alive once its heartbeats stop: {last}"
    );

    cluster.kill_scheduler();
    let gone = cluster_view(&app).await;
    assert_eq!(gone["reachable"], false, "{gone}");
    assert!(
        gone["problem"]
            .as_str()
            .is_some_and(|problem| problem.contains("the engine is unavailable")),
        "{gone}"
    );
    let (status, text) = readyz(&app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, "ready\ncluster: the scheduler does not answer");
}
