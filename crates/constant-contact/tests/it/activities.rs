//! Polling activities to their end, including the ends nobody wants.

use constant_contact::Error;
use constant_contact::api::PollPolicy;
use constant_contact::batch::split_into_batches;
use constant_contact::wire::activities::ActivityState;
use constant_contact::wire::imports::ImportContact;
use std::time::Duration;

use crate::helpers::*;

async fn import_one(app: &TestApp, email: &str) -> uuid::Uuid {
    let batches = split_into_batches(
        [&ImportContact::with_email(email)],
        &[app.list_id("Newsletter")],
    )
    .unwrap();
    app.client
        .import_contacts(&batches[0])
        .await
        .unwrap()
        .activity_id
}

#[tokio::test]
async fn polls_to_completed_through_initialized_and_processing() {
    let app = spawn_app().await;
    let created = app
        .client
        .import_contacts(
            &split_into_batches(
                [&ImportContact::with_email("a@example.com")],
                &[app.list_id("Newsletter")],
            )
            .unwrap()[0],
        )
        .await
        .unwrap();
    assert_eq!(created.state, ActivityState::Initialized);
    let done = app
        .client
        .wait_for_activity(created.activity_id, &fast_polling())
        .await
        .unwrap();
    assert_eq!(done.state, ActivityState::Completed);
    assert_eq!(done.percent_done, 100);
    assert!(done.completed_at.is_some());
    let recent = app.client.recent_activities().await.unwrap();
    assert_eq!(recent[0].activity_id, created.activity_id);
}

#[tokio::test]
async fn polls_to_failed_and_timed_out() {
    let app = spawn_app().await;
    app.sandbox
        .state()
        .fail_next_activities(1, cc_sandbox::state::activities::ActivityState::Failed);
    app.sandbox
        .state()
        .fail_next_activities(1, cc_sandbox::state::activities::ActivityState::TimedOut);
    let failed = import_one(&app, "f@example.com").await;
    let timed_out = import_one(&app, "t@example.com").await;
    let fine = import_one(&app, "ok@example.com").await;
    let ended = app
        .client
        .wait_for_activities(&[failed, timed_out, fine], &fast_polling())
        .await
        .unwrap();
    let states: Vec<_> = ended.iter().map(|a| a.state).collect();
    assert_eq!(
        states,
        [
            ActivityState::Failed,
            ActivityState::TimedOut,
            ActivityState::Completed
        ]
    );
    assert!(!ended[0].activity_errors.is_empty());
    assert_eq!(
        app.sandbox.state().list_members(app.list_id("Newsletter")),
        ["ok@example.com"]
    );
}

#[tokio::test]
async fn polling_gives_up_with_the_last_state() {
    let client_id = unique_client_id();
    let config = cc_sandbox::SandboxConfig {
        activity_queue_time: Duration::from_secs(30),
        ..fast_sandbox(&client_id)
    };
    let app = spawn_app_with(config, &client_id, 1_000).await;
    let activity_id = import_one(&app, "slow@example.com").await;
    let impatient = PollPolicy {
        give_up_after: Duration::from_millis(200),
        ..fast_polling()
    };
    let error = app
        .client
        .wait_for_activity(activity_id, &impatient)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::PollTimedOut { state, .. } if state == "initialized"),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_unknown_activity_is_not_found() {
    let app = spawn_app().await;
    let error = app
        .client
        .get_activity(uuid::Uuid::new_v4())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Rejected { status: 404, .. }),
        "{error:?}"
    );
}

/// Once one import has ended, the next is polled when it is likely done: with the sandbox
/// taking 400 ms, one read finds it ended (two, should the machine be slower the second time),
/// where a fixed first wait (here 10 ms, growing) reads it again and again.
#[tokio::test]
async fn the_first_poll_comes_when_the_import_is_likely_done() {
    let client_id = unique_client_id();
    let sandbox = cc_sandbox::SandboxConfig {
        activity_queue_time: Duration::from_millis(100),
        activity_processing_time: Duration::from_millis(300),
        ..fast_sandbox(&client_id)
    };
    let app = spawn_app_with(sandbox, &client_id, 1_000).await;
    let reads = |app: &TestApp| app.requests_to("get_activity").len();

    let first = import_one(&app, "first@example.com").await;
    app.client
        .wait_for_activity(first, &fast_polling())
        .await
        .unwrap();
    let learning = reads(&app);
    assert!(learning > 3, "nothing known yet: polled {learning} times");

    let second = import_one(&app, "second@example.com").await;
    let started = tokio::time::Instant::now();
    let done = app
        .client
        .wait_for_activity(second, &fast_polling())
        .await
        .unwrap();
    assert_eq!(done.state, ActivityState::Completed);
    assert!(
        reads(&app) - learning <= 2,
        "read {} times, where learning took {learning}",
        reads(&app) - learning
    );
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn a_list_is_read_back_through_a_contact_export_and_its_file() {
    let app = spawn_app().await;
    let list = app.list_id("Newsletter");
    for email in ["ann@example.com", "bob@example.com"] {
        let activity = import_one(&app, email).await;
        app.client
            .wait_for_activity(activity, &fast_polling())
            .await
            .unwrap();
    }
    let export = constant_contact::api::ContactExport::of_list(list, &["email_address"]);
    let (file, ended) = app
        .client
        .export_contacts_to_file(&export, &fast_polling())
        .await
        .unwrap();
    assert_eq!(ended.state, ActivityState::Completed);
    assert_eq!(ended.status.items_total_count, 2);
    assert_eq!(
        ended.file_export_id(),
        Some(ended.activity_id.to_string().as_str())
    );
    assert_eq!(
        std::str::from_utf8(&file).unwrap(),
        "email_address\nann@example.com\nbob@example.com\n"
    );
    assert_eq!(app.requests_to("contact_exports").len(), 1);
    assert_eq!(app.requests_to("get_contact_export").len(), 1);

    // A file that is gone answers 404, as Constant Contact's does once it expired.
    let gone = app
        .client
        .contact_export_file(&uuid::Uuid::new_v4().to_string())
        .await
        .unwrap_err();
    assert!(
        matches!(gone, Error::Rejected { status: 404, .. }),
        "{gone:?}"
    );

    // An export that fails says so rather than handing back an empty file.
    app.sandbox
        .state()
        .fail_next_activities(1, cc_sandbox::state::activities::ActivityState::Failed);
    let failed = app
        .client
        .export_contacts_to_file(&export, &fast_polling())
        .await
        .unwrap_err();
    assert!(
        matches!(
            failed,
            Error::ActivityDidNotComplete {
                state: ActivityState::Failed,
                ..
            }
        ),
        "{failed:?}"
    );
}
