//! Keeping a list in step: delta runs and full resyncs, mirror and update-only modes,
//! unsubscribed contacts remembered, and imports that failed sent again — through the API,
//! against the sandbox.

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::{Value, json};

use crate::exports::{form, set_up};
use crate::helpers::{PROFILES_CSV, TestApp, spawn_app};
use crate::runs::ended;

/// Guards that never stop a run with profiles: for tests of what removals do.
pub(crate) fn guards_off() -> Value {
    json!({"max_removal_share": 1.0, "max_member_drop": 1.0})
}

/// An export of the `gold` segment (ada, zoe, and an invalid email) in `mode`, after `before`
/// had its say on the sandbox's list. Returns the export and the list.
pub(crate) async fn export_in_mode(
    app: &TestApp,
    mode: &str,
    before: impl FnOnce(&TestApp, &str),
) -> (String, String) {
    export_with_guards(app, mode, Value::Null, before).await
}

/// As `export_in_mode`, with the export's `guards` (null: the defaults).
pub(crate) async fn export_with_guards(
    app: &TestApp,
    mode: &str,
    guards: Value,
    before: impl FnOnce(&TestApp, &str),
) -> (String, String) {
    let (connection, list, segment) = set_up(app).await;
    before(app, &list);
    let (status, _) = app
        .call(
            Some(Role::Admin),
            Method::POST,
            &format!("/api/v1/connections/{connection}/export-user"),
            None,
        )
        .await;
    assert!(status.is_success());
    let mut body = form(&connection, &list, &segment);
    body["sync_mode"] = json!(mode);
    if !guards.is_null() {
        body["guards"] = guards;
    }
    let (status, export) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            "/api/v1/exports",
            Some(body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{export}");
    assert_eq!(export["sync_mode"], mode);
    (export["id"].as_str().unwrap().to_owned(), list)
}

/// Runs the export to its end (a full resync when asked) and returns the run.
pub(crate) async fn run_to_end(app: &TestApp, export: &str, full_resync: bool) -> Value {
    let (status, queued) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/exports/{export}/run?full_resync={full_resync}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["full_resync"], full_resync);
    ended(app, queued["id"].as_str().unwrap()).await
}

async fn dry_run(app: &TestApp, export: &str) -> Value {
    let (status, report) = app
        .call(
            Some(Role::Contributor),
            Method::POST,
            &format!("/api/v1/exports/{export}/dry-run"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

async fn skipped_csv(app: &TestApp, run: &Value) -> String {
    app.request(
        Some(Role::Contributor),
        Method::GET,
        &format!("/api/v1/runs/{}/skipped.csv", run["id"].as_str().unwrap()),
    )
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap()
}

/// Rewrites the profiles the server reads.
pub(crate) fn write_profiles(app: &TestApp, csv: &str) {
    std::fs::write(
        app.config().profiles.as_ref().unwrap().location.as_str(),
        csv,
    )
    .unwrap();
}

fn sync(run: &Value) -> &Value {
    &run["report"]["sync"]
}

#[tokio::test]
async fn a_delta_run_sends_only_new_and_changed_members_and_a_full_resync_sends_all() {
    let app = spawn_app().await;
    let (export, list) = export_in_mode(&app, "add_only", |_, _| {}).await;

    let first = run_to_end(&app, &export, false).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    assert_eq!(
        (
            sync(&first)["adds"].clone(),
            first["report"]["sent"].clone()
        ),
        (json!(2), json!(2))
    );

    let again = run_to_end(&app, &export, false).await;
    assert_eq!(again["status"], "succeeded", "{again}");
    assert_eq!(again["report"]["sent"], 0, "nothing changed: nothing sent");
    assert_eq!(sync(&again)["unchanged"], 2);
    assert_eq!(
        app.sandbox.state().imports_accepted(),
        1,
        "no import at all"
    );

    // Zoë's first name changes; Ada's does not.
    write_profiles(&app, &PROFILES_CSV.replace("Zoë", "Zoé"));
    let report = dry_run(&app, &export).await;
    assert_eq!(
        (
            report["would_send"].clone(),
            report["sync"]["updates"].clone(),
            report["sync"]["unchanged"].clone()
        ),
        (json!(1), json!(1), json!(1)),
        "{report}"
    );
    assert_eq!(report["imports"], 1);
    let changed = run_to_end(&app, &export, false).await;
    assert_eq!(changed["report"]["sent"], 1, "{changed}");
    assert_eq!(sync(&changed)["updates"], 1);
    assert_eq!(sync(&changed)["unchanged"], 1);
    assert_eq!(app.sandbox.state().imports_accepted(), 2);
    assert_eq!(
        app.sandbox
            .state()
            .contact("zoe@example.com")
            .unwrap()
            .fields["first_name"],
        "Zoé"
    );

    let full = run_to_end(&app, &export, true).await;
    assert_eq!(full["status"], "succeeded", "{full}");
    assert_eq!(full["report"]["full_resync"], true);
    assert_eq!(full["report"]["sent"], 2, "a full resync sends everyone");
    assert_eq!(sync(&full)["updates"], 2);
    assert_eq!(
        app.list_members(&list),
        ["ada@example.com", "zoe@example.com"]
    );
}

#[tokio::test]
async fn mirror_mode_removes_members_who_left_but_only_those_it_added() {
    let app = spawn_app().await;
    // Someone put Zoë on the list before the export ever ran.
    let (export, list) = export_with_guards(&app, "mirror", guards_off(), |app, list| {
        assert!(
            app.sandbox
                .state()
                .add_to_list(list.parse().unwrap(), "zoe@example.com")
        );
    })
    .await;
    let first = run_to_end(&app, &export, false).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    assert_eq!(first["report"]["sent"], 2);

    // Both leave the gold segment.
    write_profiles(
        &app,
        &PROFILES_CSV
            .replace("Lovelace,US,gold", "Lovelace,US,bronze")
            .replace("O'Brien,FR,gold", "O'Brien,FR,bronze"),
    );
    let report = dry_run(&app, &export).await;
    assert_eq!(
        report["would_remove"], 1,
        "only Ada was put there by the export: {report}"
    );
    let second = run_to_end(&app, &export, false).await;
    assert_eq!(second["status"], "succeeded", "{second}");
    assert_eq!(second["report"]["removed"], 1);
    assert_eq!(
        app.list_members(&list),
        ["zoe@example.com"],
        "Zoë was on the list before the export: she stays"
    );
    let ada = app.sandbox.state().contact("ada@example.com").unwrap();
    assert_ne!(
        ada.permission_to_send, "unsubscribed",
        "removing never unsubscribes"
    );

    // Ada comes back: she is added again, and owned again.
    write_profiles(&app, PROFILES_CSV);
    let third = run_to_end(&app, &export, false).await;
    assert_eq!(sync(&third)["adds"], 1, "{third}");
    assert_eq!(
        app.list_members(&list),
        ["ada@example.com", "zoe@example.com"]
    );
}

/// Requests the sandbox received to `endpoint` so far.
fn requests_to(app: &TestApp, endpoint: &str) -> usize {
    app.sandbox
        .state()
        .requests()
        .iter()
        .filter(|request| request.endpoint == endpoint)
        .count()
}

/// A thousand and more leavers: their removals (500 contacts each) go back to back and are
/// followed together, and one that Constant Contact fails is sent again by the next run.
#[tokio::test]
async fn mirror_removals_go_back_to_back_and_one_that_fails_is_retried_next_run() {
    let app = spawn_app().await;
    let (export, list) = export_with_guards(&app, "mirror", guards_off(), |_, _| {}).await;
    let many: String = (0..1_200)
        .map(|n| format!("{},member{n}@example.com,M,Ember,US,gold,1\n", 100 + n))
        .collect();
    write_profiles(&app, &format!("{PROFILES_CSV}{many}"));
    let first = run_to_end(&app, &export, false).await;
    assert_eq!(first["report"]["sent"], 1_202, "{first}");
    assert_eq!(app.list_members(&list).len(), 1_202);

    // Every member leaves the segment; Constant Contact fails the first removal.
    write_profiles(&app, &PROFILES_CSV.replace(",gold,", ",bronze,"));
    app.sandbox
        .state()
        .fail_next_activities(1, cc_sandbox::state::activities::ActivityState::Failed);
    let (removals, reads, single_reads) = (
        removal_requests(&app),
        requests_to(&app, "get_activities"),
        requests_to(&app, "get_activity"),
    );
    let second = run_to_end(&app, &export, false).await;
    assert_eq!(
        removal_requests(&app) - removals,
        3,
        "1,202 leavers, 500 per removal: {second}"
    );
    assert_eq!(
        requests_to(&app, "get_activity"),
        single_reads,
        "no removal was followed on its own"
    );
    assert!(
        requests_to(&app, "get_activities") - reads <= 3,
        "the removals were followed together"
    );
    assert_eq!(second["report"]["removed"], 702, "{second}");
    assert_eq!(app.list_members(&list).len(), 500, "the failed removal's");

    let third = run_to_end(&app, &export, false).await;
    assert_eq!(third["status"], "succeeded", "{third}");
    assert_eq!(third["report"]["removed"], 500, "{third}");
    assert!(app.list_members(&list).is_empty());
}

/// How many removals from lists the sandbox was asked for.
pub(crate) fn removal_requests(app: &TestApp) -> usize {
    app.sandbox
        .state()
        .requests()
        .iter()
        .filter(|request| request.endpoint == "remove_list_memberships")
        .count()
}

#[tokio::test]
async fn a_member_who_unsubscribes_leaves_the_list_and_mirror_mode_has_nothing_to_remove() {
    let app = spawn_app().await;
    let (export, list) = export_with_guards(&app, "mirror", guards_off(), |_, _| {}).await;
    let first = run_to_end(&app, &export, false).await;
    assert_eq!(first["report"]["sent"], 2, "{first}");
    assert_eq!(
        app.list_members(&list),
        ["ada@example.com", "zoe@example.com"]
    );

    // Zoë unsubscribes: Constant Contact takes her off every list.
    app.sandbox
        .state()
        .unsubscribe(&["zoe@example.com".to_owned()]);
    assert_eq!(app.list_members(&list), ["ada@example.com"]);

    // Still in the segment, unchanged: nothing is sent and nothing removed.
    let second = run_to_end(&app, &export, false).await;
    assert_eq!(second["status"], "succeeded", "{second}");
    assert_eq!(second["report"]["sent"], 0, "{second}");
    assert_eq!(second["report"]["removed"], 0);

    // She leaves the segment: the run learned her opt-out before it sent, so she is no
    // leaver to remove and no removal is asked for.
    write_profiles(
        &app,
        &PROFILES_CSV.replace("O'Brien,FR,gold", "O'Brien,FR,bronze"),
    );
    let removals_before = removal_requests(&app);
    let third = run_to_end(&app, &export, false).await;
    assert_eq!(third["status"], "succeeded", "{third}");
    assert_eq!(third["report"]["removed"], 0, "{third}");
    assert_eq!(third["report"]["already_off_list"], 0, "{third}");
    assert_eq!(removal_requests(&app), removals_before);
    assert_eq!(app.list_members(&list), ["ada@example.com"]);
}

#[tokio::test]
async fn update_only_mode_leaves_out_a_member_who_unsubscribed_and_so_left_the_list() {
    let app = spawn_app().await;
    let (export, list) = export_in_mode(&app, "update_only", |app, list| {
        let state = app.sandbox.state();
        for email in ["ada@example.com", "zoe@example.com"] {
            assert!(state.add_to_list(list.parse().unwrap(), email));
        }
        state.unsubscribe(&["zoe@example.com".to_owned()]);
    })
    .await;
    assert_eq!(app.list_members(&list), ["ada@example.com"]);
    let run = run_to_end(&app, &export, false).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["report"]["sent"], 1, "Ada only: {run}");
    // Her opt-out was learned before the run sent: known unsubscribed, not merely off the list.
    assert_eq!(sync(&run)["unsubscribed"], 1, "{run}");
    assert_eq!(sync(&run)["not_on_list"], 0, "{run}");
    assert_eq!(
        run["report"]["constant_contact"]["cannot_add_to_list_count"], 0,
        "Zoë was not sent at all"
    );
    assert!(
        skipped_csv(&app, &run)
            .await
            .contains("zoe@example.com,unsubscribed")
    );
}

#[tokio::test]
async fn update_only_mode_updates_contacts_on_the_list_and_adds_nobody() {
    let app = spawn_app().await;
    let (export, list) = export_in_mode(&app, "update_only", |app, list| {
        assert!(
            app.sandbox
                .state()
                .add_to_list(list.parse().unwrap(), "ada@example.com")
        );
    })
    .await;
    let report = dry_run(&app, &export).await;
    assert_eq!(report["would_send"], 1, "{report}");
    assert_eq!(report["skipped"]["not on the list"], 1);
    let run = run_to_end(&app, &export, false).await;
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["report"]["sent"], 1);
    assert_eq!(sync(&run)["not_on_list"], 1);
    assert_eq!(app.list_members(&list), ["ada@example.com"]);
    assert_eq!(
        app.sandbox
            .state()
            .contact("ada@example.com")
            .unwrap()
            .fields["last_name"],
        "Lovelace",
        "Ada's fields were updated"
    );
    assert!(
        skipped_csv(&app, &run)
            .await
            .contains("zoe@example.com,not_on_list")
    );
}

#[tokio::test]
async fn unsubscribed_contacts_are_remembered_reported_and_never_sent_again() {
    let app = spawn_app().await;
    let (export, list) = export_in_mode(&app, "add_only", |app, _| {
        app.sandbox
            .state()
            .unsubscribe(&["zoe@example.com".to_owned()]);
    })
    .await;
    let first = run_to_end(&app, &export, false).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    // Her opt-out is learned before the run sends: she is never sent, not even once.
    assert_eq!(
        first["report"]["constant_contact"]["cannot_add_to_list_count"], 0,
        "{first}"
    );
    assert_eq!(sync(&first)["unsubscribed"], 1, "{first}");
    assert_eq!(
        sync(&first)["unsubscribed_samples"],
        json!(["zoe@example.com"])
    );
    assert!(
        skipped_csv(&app, &first)
            .await
            .contains("zoe@example.com,unsubscribed")
    );
    assert_eq!(app.list_members(&list), ["ada@example.com"]);

    // Not even a full resync sends her again.
    let full = run_to_end(&app, &export, true).await;
    assert_eq!(full["status"], "succeeded", "{full}");
    assert_eq!(full["report"]["sent"], 1, "Ada only");
    assert_eq!(sync(&full)["unsubscribed"], 1);
    assert_eq!(
        sync(&full)["unsubscribed_samples"],
        json!(["zoe@example.com"])
    );
    assert_eq!(
        full["report"]["constant_contact"]["cannot_add_to_list_count"],
        0
    );
    assert!(
        skipped_csv(&app, &full)
            .await
            .contains("zoe@example.com,unsubscribed")
    );
    let report = dry_run(&app, &export).await;
    assert_eq!(report["skipped"]["unsubscribed"], 1, "{report}");
}

#[tokio::test]
async fn members_of_an_import_that_failed_are_sent_again_by_the_next_run() {
    let app = spawn_app().await;
    let (export, list) = export_in_mode(&app, "add_only", |_, _| {}).await;
    app.sandbox
        .state()
        .fail_next_activities(1, cc_sandbox::state::activities::ActivityState::Failed);
    let failed = run_to_end(&app, &export, false).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(app.list_members(&list).is_empty());

    let next = run_to_end(&app, &export, false).await;
    assert_eq!(next["status"], "succeeded", "{next}");
    assert_eq!(next["report"]["sent"], 2, "both are sent again");
    assert_eq!(sync(&next)["updates"], 2);
    assert_eq!(
        app.list_members(&list),
        ["ada@example.com", "zoe@example.com"]
    );
}

#[tokio::test]
async fn a_record_constant_contact_refuses_is_isolated_reported_and_retried_next_run() {
    let app = spawn_app().await;
    let (export, list) = export_in_mode(&app, "add_only", |_, _| {}).await;
    // The import of both is refused, then Zoë's alone: two refusals.
    app.sandbox
        .state()
        .add_fault(cc_sandbox::Fault::reject_bodies_containing(
            "contacts_json_import",
            2,
            "zoe@example.com",
            "The email address zoe@example.com is not valid.",
        ));
    let first = run_to_end(&app, &export, false).await;
    assert_eq!(first["status"], "succeeded", "{first}");
    let report = &first["report"];
    assert_eq!(
        (report["sent"].clone(), report["rejected"].clone()),
        (json!(1), json!(1)),
        "{report}"
    );
    assert_eq!(report["rejected_samples"][0][0], "zoe@example.com");
    assert!(
        skipped_csv(&app, &first)
            .await
            .contains("zoe@example.com,rejected by Constant Contact: contacts.api.validation.error: The email address zoe@example.com is not valid.")
    );
    assert_eq!(app.list_members(&list), ["ada@example.com"]);
    let batches = app
        .state
        .store
        .run_batches(first["id"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        batches.len(),
        1,
        "refused imports leave no checkpoint: {batches:?}"
    );

    let next = run_to_end(&app, &export, false).await;
    assert_eq!(next["report"]["sent"], 1, "Zoë is tried again: {next}");
    assert_eq!(sync(&next)["unchanged"], 1);
    assert_eq!(
        app.list_members(&list),
        ["ada@example.com", "zoe@example.com"]
    );
}
