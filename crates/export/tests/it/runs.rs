//! Export runs against the sandbox.

use std::sync::Mutex;

use segsync_engine::{ProfileSource, Profiles};
use segsync_export::{ExportError, Progress, RunOutcome, run_export};
use tokio_util::sync::CancellationToken;

use crate::helpers::*;

const CSV: &str = "\
email,first_name,last_name,country,tier,last_purchase_at
ada@example.com,Ada,Lovelace,US,gold,2026-06-01T10:00:00Z
  ADA@Example.com ,Augusta,King,US,gold,2026-06-02T10:00:00Z
zoe@example.com,Zoë,O'Brien,FR,gold,2026-06-10T10:00:00Z
,Nobody,Noemail,US,gold,2026-06-10T10:00:00Z
not an email,Bad,Address,US,gold,2026-06-10T10:00:00Z
averyveryveryveryverylongaddress.0123456789@example.com,Long,Address,US,gold,2026-06-10T10:00:00Z
max@example.com,Max,Wolfeschlegelsteinhausenbergerdorff-Featherstonehaugh-Junior,US,platinum,2026-06-11T10:00:00Z
quit@example.com,Quinn,Quit,US,gold,2026-06-12T10:00:00Z
old@example.com,Olga,Old,US,gold,2025-01-01T10:00:00Z
bronze@example.com,Bruno,Bronze,US,bronze,2026-06-12T10:00:00Z
ca@example.com,Chloé,Canuck,CA,silver,2026-06-12T10:00:00Z
";

const SEGMENTS: &str = r#"
segments:
  - name: gold-us-recent
    rule:
      all:
        - { attribute: tier, op: in, values: [gold, platinum] }
        - { attribute: country, op: equals, value: us, case_insensitive: true }
        - { attribute: last_purchase_at, op: within_last, amount: 90, unit: days }
  - name: french-or-canadian
    rule: { any: [ { attribute: country, op: equals, value: FR }, { attribute: country, op: equals, value: CA } ] }
  - name: non-gold
    rule: { not: { attribute: tier, op: in, values: [gold, platinum] } }
  - name: everyone-but-non-gold
    rule: { except: [everyone, non-gold] }
  - name: everyone
    rule: { attribute: email, op: is_not_null }
"#;

#[tokio::test]
async fn a_csv_export_accounts_for_every_profile() {
    let app = spawn_app().await;
    app.sandbox
        .state()
        .unsubscribe(&["quit@example.com".to_owned()]);
    let profiles = Profiles::open(ProfileSource::new(app.write("profiles.csv", CSV)))
        .await
        .unwrap();
    let plan = plan(
        &app,
        &["gold-us-recent", "french-or-canadian"],
        segments(SEGMENTS),
    );
    let report = run(&app, &profiles, &plan).await.unwrap();

    assert_eq!(report.outcome, RunOutcome::Succeeded);
    assert_eq!(report.profiles_read, 11);
    // In the segments: the two Adas, Zoë, the three bad addresses, Max, Quinn, Chloé.
    assert_eq!(report.profiles_in_segments, 9);
    assert_eq!(
        report.profiles_outside_segments, 2,
        "Olga bought too long ago, Bruno is bronze"
    );
    assert_eq!(
        report.members_per_segment,
        [
            ("gold-us-recent".to_owned(), 7),
            ("french-or-canadian".to_owned(), 2)
        ]
    );
    assert_eq!(report.invalid["missing_email"], 1);
    assert_eq!(report.invalid["malformed_email"], 1);
    assert_eq!(report.invalid["email_too_long"], 1);
    assert_eq!(report.duplicates_collapsed, 1);
    assert_eq!(
        report.duplicate_samples,
        [("ada@example.com".to_owned(), 1)]
    );
    assert_eq!(report.fields_truncated["last_name"], 1);
    assert_eq!(report.sent, 5);
    assert_eq!(report.constant_contact.person_count, 5);
    assert_eq!(
        report.constant_contact.cannot_add_to_list_count, 1,
        "Quinn unsubscribed and stays off the list"
    );
    assert!(report.totals_add_up(), "{report:#?}");
    assert_eq!(
        app.members(),
        [
            "ada@example.com",
            "ca@example.com",
            "max@example.com",
            "zoe@example.com"
        ]
    );
    let ada = app.sandbox.state().contact("ada@example.com").unwrap();
    assert_eq!(
        ada.fields["first_name"], "Ada",
        "the first profile of a shared email wins"
    );
    let max = app.sandbox.state().contact("max@example.com").unwrap();
    assert_eq!(max.fields["last_name"].chars().count(), 50);
    assert!(
        report.requests_used >= 3,
        "list check, import, poll: {}",
        report.requests_used
    );
}

#[tokio::test]
async fn a_parquet_export_with_set_operations() {
    let app = spawn_app().await;
    let csv = Profiles::open(ProfileSource::new(app.write("profiles.csv", CSV)))
        .await
        .unwrap();
    // The same profiles in Parquet, written by DataFusion itself.
    let parquet_path = app.folder.path().join("profiles.parquet");
    let frame = csv_frame(&app).await;
    frame
        .write_parquet(&parquet_path.to_string_lossy(), Default::default(), None)
        .await
        .unwrap();
    drop(csv);
    let profiles = Profiles::open(ProfileSource::new(parquet_path.to_string_lossy()))
        .await
        .unwrap();
    let plan = plan(&app, &["everyone-but-non-gold"], segments(SEGMENTS));
    let report = run(&app, &profiles, &plan).await.unwrap();
    assert_eq!(report.outcome, RunOutcome::Succeeded);
    // Gold and platinum with an email: both Adas (one contact), Zoë, the two bad addresses,
    // Max, Quinn, Olga.
    assert_eq!(report.profiles_in_segments, 8);
    assert!(report.totals_add_up());
    assert_eq!(
        app.members(),
        [
            "ada@example.com",
            "max@example.com",
            "old@example.com",
            "quit@example.com",
            "zoe@example.com"
        ]
    );
}

async fn csv_frame(app: &TestApp) -> segsync_engine::datafusion::prelude::DataFrame {
    let ctx = segsync_engine::datafusion::prelude::SessionContext::new();
    let path = app.folder.path().join("profiles.csv");
    ctx.read_csv(path.to_string_lossy().into_owned(), Default::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_export_over_the_member_limit_is_refused_before_sending() {
    let app = spawn_app().await;
    let profiles = Profiles::open(ProfileSource::new(app.write("profiles.csv", CSV)))
        .await
        .unwrap();
    let plan = plan(&app, &["everyone"], segments(SEGMENTS)).with_member_limit(5);
    let error = run(&app, &profiles, &plan).await.unwrap_err();
    assert!(
        matches!(
            error,
            ExportError::OverLimit {
                members: 10,
                limit: 5
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("nothing was sent"));
    assert_eq!(app.imports_received(), 0);
}

#[tokio::test]
async fn an_unknown_list_or_a_bad_segment_stops_before_sending() {
    let app = spawn_app().await;
    let profiles = Profiles::open(ProfileSource::new(app.write("profiles.csv", CSV)))
        .await
        .unwrap();
    let mut wrong_list = plan(&app, &["everyone"], segments(SEGMENTS));
    wrong_list.list_id = uuid::Uuid::new_v4();
    let error = run(&app, &profiles, &wrong_list).await.unwrap_err();
    assert!(matches!(error, ExportError::ListNotFound { .. }), "{error}");

    let broken = segments("name: broken\nrule: { attribute: contry, op: equals, value: US }");
    let plan = plan(&app, &["broken"], broken);
    let error = run(&app, &profiles, &plan).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains(r#"unknown attribute "contry" (did you mean "country"?)"#),
        "{error}"
    );
    assert_eq!(app.imports_received(), 0);
}

/// Cancels the run as soon as the first import is accepted.
struct CancelAfterFirstBatch {
    cancel: CancellationToken,
    sent: Mutex<Vec<usize>>,
}

impl Progress for CancelAfterFirstBatch {
    fn batch_sent(&self, contacts: usize) {
        self.sent.lock().unwrap().push(contacts);
        self.cancel.cancel();
    }
}

#[tokio::test]
async fn cancellation_stops_between_batches_and_the_report_says_what_was_sent() {
    let app = spawn_app().await;
    let mut csv = String::from("email,first_name,last_name\n");
    for i in 0..100_000 {
        csv.push_str(&format!("person{i}@example.com,P{i},Q{i}\n"));
    }
    let profiles = Profiles::open(ProfileSource::new(app.write("many.csv", &csv)))
        .await
        .unwrap();
    let catalogue = segments("name: all\nrule: { attribute: email, op: is_not_empty }");
    let plan = plan(&app, &["all"], catalogue);
    let cancel = CancellationToken::new();
    let progress = CancelAfterFirstBatch {
        cancel: cancel.clone(),
        sent: Mutex::new(Vec::new()),
    };
    let report = run_export(&profiles, &plan, &app.client, &progress, &cancel)
        .await
        .unwrap()
        .report;
    assert_eq!(report.outcome, RunOutcome::Cancelled);
    assert_eq!(report.sent, 40_000);
    assert_eq!(report.not_sent, 60_000);
    assert!(report.totals_add_up());
    assert_eq!(app.imports_received(), 1);
    assert_eq!(app.members().len(), 40_000);
}

#[tokio::test]
async fn a_failed_activity_fails_the_run_and_says_which() {
    let app = spawn_app().await;
    app.sandbox
        .state()
        .fail_next_activities(1, cc_sandbox::state::activities::ActivityState::Failed);
    let profiles = Profiles::open(ProfileSource::new(app.write("profiles.csv", CSV)))
        .await
        .unwrap();
    let plan = plan(&app, &["everyone"], segments(SEGMENTS));
    let report = run(&app, &profiles, &plan).await.unwrap();
    match &report.outcome {
        RunOutcome::Failed { reason } => {
            assert!(reason.to_string().contains("ended failed"), "{reason}")
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        report.activities[0].state,
        segsync_export::ActivityState::Failed
    );
    assert!(report.totals_add_up());
}

#[tokio::test]
async fn profiles_sharing_an_email_across_segments_become_one_contact() {
    let app = spawn_app().await;
    let csv = "\
email,first_name,last_name,country
lee@example.com,Lee,Park,US
LEE@example.com ,Leonie,Park,FR
mo@example.com,Mo,Salah,FR
";
    let profiles = Profiles::open(ProfileSource::new(app.write("shared.csv", csv)))
        .await
        .unwrap();
    let catalogue = segments(
        r#"
segments:
  - name: american
    rule: { attribute: country, op: equals, value: US }
  - name: french
    rule: { attribute: country, op: equals, value: FR }
"#,
    );
    let plan = plan(&app, &["american", "french"], catalogue);
    let report = run(&app, &profiles, &plan).await.unwrap();

    assert_eq!(report.outcome, RunOutcome::Succeeded);
    assert_eq!(
        report.members_per_segment,
        [("american".to_owned(), 1), ("french".to_owned(), 2)]
    );
    assert_eq!(report.duplicates_collapsed, 1);
    assert_eq!(
        report.duplicate_samples,
        [("lee@example.com".to_owned(), 1)]
    );
    assert_eq!(report.sent, 2);
    assert!(report.totals_add_up(), "{report:#?}");
    assert_eq!(app.members(), ["lee@example.com", "mo@example.com"]);
}

/// Runs an export to its end, uncancelled and without progress reports.
async fn run(
    app: &TestApp,
    profiles: &Profiles,
    plan: &segsync_export::ExportPlan,
) -> Result<segsync_export::RunReport, ExportError> {
    run_export(
        profiles,
        plan,
        &app.client,
        &segsync_export::NoProgress,
        &CancellationToken::new(),
    )
    .await
    .map(|ended| ended.report)
}

#[tokio::test]
async fn an_export_that_cannot_finish_within_todays_quota_is_refused_before_sending() {
    let mut app = spawn_app().await;
    let profiles = Profiles::open(ProfileSource::new(app.write("profiles.csv", CSV)))
        .await
        .unwrap();
    let plan = plan(&app, &["everyone"], segments(SEGMENTS));
    // Two requests a day: the list check spends one, and sending needs two more (one import,
    // its poll). So tight a budget has the run sort its members first: seven unique contacts.
    let budget = std::sync::Arc::new(constant_contact::budget::ApiKeyBudget::new(1_000, 2));
    app.client = app.client.with_budget(budget);
    let error = run(&app, &profiles, &plan).await.unwrap_err();
    assert!(
        matches!(
            error,
            ExportError::OverQuota {
                members: 7,
                needed: 2,
                left: 1
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("nothing was sent"));
    assert_eq!(app.imports_received(), 0);
}

/// A dry run and a run count the same requests: a mirror run whose leavers need removals is
/// refused before sending exactly when the dry run said it would not fit, both counting the
/// list read and the removals, not only the imports.
#[tokio::test]
async fn a_run_fits_in_todays_quota_exactly_when_its_dry_run_says_so() {
    let mut app = spawn_app().await;
    let profiles = Profiles::open(ProfileSource::new(app.write("profiles.csv", CSV)))
        .await
        .unwrap();
    // A person confirmed the removals: the guards are not what this test is about.
    let plan = plan(&app, &["everyone"], segments(SEGMENTS))
        .with_mode(segsync_export::SyncMode::Mirror)
        .with_confirmed_removals(Some(u64::MAX));
    // An earlier run put 1,200 people on the list who have all left the segments since: three
    // removals of up to 500, each followed by a read of its status.
    let ledger = || {
        let mut ledger = segsync_export::Ledger::new();
        for n in 0..1_200 {
            ledger.insert(
                segsync_export::email_key(&format!("left-{n}@example.com")),
                segsync_export::Remembered {
                    fingerprint: 1,
                    owned: true,
                    unsubscribed: false,
                    sent_by_this_run: false,
                },
            );
        }
        ledger
    };
    // The list check, one page of the list, one import, its poll, three removals and their
    // three reads: ten requests in all.
    let whole_run = 10;
    // The dry run spends the list check; a run started after it then finds one request too few.
    let budget = std::sync::Arc::new(constant_contact::budget::ApiKeyBudget::new(
        1_000, whole_run,
    ));
    app.client = app.client.with_budget(budget);
    let dry_run = segsync_export::dry_run_in_step(&profiles, &plan, &app.client, ledger())
        .await
        .unwrap();
    assert_eq!(dry_run.requests_needed, u64::from(whole_run));
    assert_eq!(dry_run.requests.removals, 6);
    assert_eq!(dry_run.requests_left_today, u64::from(whole_run) - 1);
    assert!(!dry_run.fits_today, "{dry_run:#?}");

    let error = segsync_export::run_export_in_step(
        &profiles,
        &plan,
        &app.client,
        ledger(),
        &segsync_export::NoCheckpoints,
        &segsync_export::NoProgress,
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            error,
            ExportError::OverQuota {
                needed,
                left,
                ..
            } if needed == dry_run.requests.still_to_send_after_planning() && left == needed - 1
        ),
        "{error}"
    );
    assert_eq!(app.imports_received(), 0);
}
