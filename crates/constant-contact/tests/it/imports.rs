//! Bulk imports end to end: batches split by count and by bytes land in the list, the upsert
//! rules hold, unsubscribed contacts are never re-added.

use constant_contact::batch::{MAX_CONTACTS_PER_IMPORT, MAX_IMPORT_BYTES, split_into_batches};
use constant_contact::wire::activities::ActivityState;
use constant_contact::wire::imports::ImportContact;

use crate::helpers::*;

fn people(range: std::ops::Range<usize>, street_length: usize) -> Vec<ImportContact> {
    range
        .map(|i| {
            let mut contact = ImportContact::with_email(format!("person{i}@example.com"));
            contact.set("first_name", format!("Person {i}"));
            if street_length > 0 {
                contact.set("street", "s".repeat(street_length));
            }
            contact
        })
        .collect()
}

#[tokio::test]
async fn imports_split_by_count_all_land_in_the_list() {
    let app = spawn_app().await;
    let list_id = app.list_id("Newsletter");
    let contacts = people(0..85_000, 0);
    let batches = split_into_batches(&contacts, &[list_id]).unwrap();
    assert_eq!(
        batches.iter().map(|b| b.n_contacts()).collect::<Vec<_>>(),
        [40_000, 40_000, 5_000]
    );

    let mut activity_ids = Vec::new();
    for batch in &batches {
        activity_ids.push(app.client.import_contacts(batch).await.unwrap().activity_id);
    }
    let activities = app
        .client
        .wait_for_activities(&activity_ids, &fast_polling())
        .await
        .unwrap();
    let person_counts: Vec<u64> = activities.iter().map(|a| a.status.person_count).collect();
    assert_eq!(person_counts, [40_000, 40_000, 5_000]);
    assert!(
        activities
            .iter()
            .all(|a| a.state == ActivityState::Completed)
    );
    let members = app.sandbox.state().list_members(list_id);
    assert_eq!(members.len(), 85_000);
    assert_eq!(
        app.client.get_list(list_id).await.unwrap().membership_count,
        Some(85_000)
    );
}

#[tokio::test]
async fn imports_split_by_bytes_lose_nothing() {
    let app = spawn_app().await;
    let list_id = app.list_id("VIP customers");
    // About 330 bytes a contact: 20,000 of them are far below 40,000 but over 4 MB.
    let contacts = people(0..20_000, 255);
    let batches = split_into_batches(&contacts, &[list_id]).unwrap();
    assert!(batches.len() >= 2);
    assert!(batches.iter().all(|b| b.n_contacts() < MAX_CONTACTS_PER_IMPORT && b.body().len() <= MAX_IMPORT_BYTES));
    let mut activity_ids = Vec::new();
    for batch in &batches {
        activity_ids.push(app.client.import_contacts(batch).await.unwrap().activity_id);
    }
    let activities = app
        .client
        .wait_for_activities(&activity_ids, &fast_polling())
        .await
        .unwrap();
    let total: u64 = activities.iter().map(|a| a.status.person_count).sum();
    assert_eq!(
        total, 20_000,
        "the sandbox drops contacts beyond 4 MB, so a full count proves the split"
    );
    assert_eq!(app.sandbox.state().list_members(list_id).len(), 20_000);
}

#[tokio::test]
async fn only_sent_fields_change_and_unsubscribed_contacts_are_not_re_added() {
    let app = spawn_app().await;
    let newsletter = app.list_id("Newsletter");
    let vip = app.list_id("VIP customers");
    let polling = fast_polling();

    let mut ada = ImportContact::with_email("Ada@Example.com");
    ada.set("first_name", "Ada").set("last_name", "Lovelace");
    let batches = split_into_batches([&ada], &[newsletter]).unwrap();
    let first = app.client.import_contacts(&batches[0]).await.unwrap();
    app.client
        .wait_for_activity(first.activity_id, &polling)
        .await
        .unwrap();

    app.sandbox
        .state()
        .unsubscribe(&["gone@example.com".to_owned()]);
    let mut update = ImportContact::with_email("ada@example.com");
    update.set("first_name", "Augusta");
    let gone = ImportContact::with_email("gone@example.com");
    let invalid = ImportContact::with_email("not an email");
    let batches = split_into_batches([&update, &gone, &invalid], &[vip]).unwrap();
    let second = app.client.import_contacts(&batches[0]).await.unwrap();
    let done = app
        .client
        .wait_for_activity(second.activity_id, &polling)
        .await
        .unwrap();

    assert_eq!(done.state, ActivityState::Completed);
    assert_eq!(done.status.person_count, 3);
    assert_eq!(done.status.cannot_add_to_list_count, 1);
    assert_eq!(done.status.correctable_count, 1);

    let ada = app.sandbox.state().contact("ada@example.com").unwrap();
    assert_eq!(ada.fields["first_name"], "Augusta");
    assert_eq!(
        ada.fields["last_name"], "Lovelace",
        "a field not sent keeps its value"
    );
    assert_eq!(ada.permission_to_send, "implicit");
    assert_eq!(
        ada.list_ids.len(),
        2,
        "memberships are added, never replaced"
    );

    let gone = app.sandbox.state().contact("gone@example.com").unwrap();
    assert_eq!(gone.permission_to_send, "unsubscribed");
    assert!(gone.list_ids.is_empty());
    assert_eq!(app.sandbox.state().list_members(vip), ["ada@example.com"]);
}

#[tokio::test]
async fn an_unknown_list_is_rejected_with_constant_contacts_message() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4();
    let batches =
        split_into_batches([&ImportContact::with_email("a@example.com")], &[unknown]).unwrap();
    let error = app.client.import_contacts(&batches[0]).await.unwrap_err();
    match error {
        constant_contact::Error::Rejected { status, errors } => {
            assert_eq!(status, 400);
            assert_eq!(errors[0].error_key, "contacts.api.validation.error");
            assert!(errors[0].error_message.contains(&unknown.to_string()));
        }
        other => panic!("unexpected {other:?}"),
    }
}
