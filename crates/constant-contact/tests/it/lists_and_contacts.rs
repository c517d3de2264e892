//! Lists (get, 404, create, 409, by name, paging) and contacts (by email, by list, paging,
//! removal of memberships).

use constant_contact::Error;
use constant_contact::api::ContactQuery;
use constant_contact::batch::split_into_batches;
use constant_contact::wire::imports::ImportContact;
use constant_contact::wire::lists::NewContactList;

use crate::helpers::*;

#[tokio::test]
async fn get_create_and_find_lists() {
    let app = spawn_app().await;
    let newsletter = app.list_id("Newsletter");
    assert_eq!(
        app.client.get_list(newsletter).await.unwrap().name,
        "Newsletter"
    );

    let missing = app.client.get_list(uuid::Uuid::new_v4()).await.unwrap_err();
    assert!(
        matches!(&missing, Error::Rejected { status: 404, .. }),
        "{missing:?}"
    );
    assert_eq!(missing.error_key(), Some("contacts.api.not_found"));

    let new = NewContactList {
        name: "Gold in the US".into(),
        favorite: false,
        description: Some("segment".into()),
    };
    let created = app.client.create_list(&new).await.unwrap();
    assert_eq!(created.name, "Gold in the US");
    let conflict = app.client.create_list(&new).await.unwrap_err();
    assert!(
        matches!(conflict, Error::Rejected { status: 409, .. }),
        "{conflict:?}"
    );

    let found = app
        .client
        .find_list_by_name("Gold in the US")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.list_id, created.list_id);
    assert!(
        app.client
            .find_list_by_name("No such list")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn all_lists_follows_the_cursor_past_one_page() {
    let client_id = unique_client_id();
    let names: Vec<String> = (0..620).map(|i| format!("List {i:03}")).collect();
    let config = cc_sandbox::SandboxConfig {
        seed_lists: names.clone(),
        ..fast_sandbox(&client_id)
    };
    let app = spawn_app_with(config, &client_id, 1_000).await;
    let lists = app.client.all_lists().await.unwrap();
    let got: Vec<String> = lists.into_iter().map(|list| list.name).collect();
    assert_eq!(got, names);
    assert_eq!(app.requests_to("get_contact_lists").len(), 2);
}

#[tokio::test]
async fn contacts_by_email_and_by_list_with_paging_and_removal() {
    let app = spawn_app().await;
    let list_id = app.list_id("Newsletter");
    let contacts: Vec<_> = (0..7)
        .map(|i| ImportContact::with_email(format!("c{i}@example.com")))
        .collect();
    let batch = &split_into_batches(&contacts, &[list_id]).unwrap()[0];
    let activity = app.client.import_contacts(batch).await.unwrap();
    app.client
        .wait_for_activity(activity.activity_id, &fast_polling())
        .await
        .unwrap();

    let one = app
        .client
        .contact_by_email("C3@example.com", &["list_memberships"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        one.email_address.as_ref().unwrap().address,
        "c3@example.com"
    );
    assert_eq!(one.list_memberships.as_deref(), Some(&[list_id][..]));
    assert!(
        app.client
            .contact_by_email("nobody@example.com", &[])
            .await
            .unwrap()
            .is_none()
    );

    let query = ContactQuery::in_list(list_id)
        .including("list_memberships")
        .with_limit(3);
    let first_page = app.client.contacts(&query).await.unwrap();
    assert_eq!(first_page.items.len(), 3);
    assert!(first_page.next.is_some());
    let all = app.client.all_contacts(&query).await.unwrap();
    assert_eq!(all.len(), 7);

    let leaving: Vec<uuid::Uuid> = all.iter().take(5).map(|c| c.contact_id).collect();
    let removal = app
        .client
        .remove_list_memberships(&leaving, &[list_id])
        .await
        .unwrap();
    let done = app
        .client
        .wait_for_activity(removal.activity_id, &fast_polling())
        .await
        .unwrap();
    assert_eq!(done.status.list_count, 1);
    assert_eq!(
        app.sandbox.state().list_members(list_id),
        ["c5@example.com", "c6@example.com"]
    );
    // Removing a membership neither deletes nor unsubscribes.
    let removed = app.sandbox.state().contact("c0@example.com").unwrap();
    assert_eq!(removed.permission_to_send, "implicit");
    assert!(removed.list_ids.is_empty());
}

#[tokio::test]
async fn removals_over_500_contacts_are_refused_before_sending_and_chunked_on_request() {
    let app = spawn_app().await;
    let list_id = app.list_id("Newsletter");
    let ids: Vec<uuid::Uuid> = (0..1_001).map(|_| uuid::Uuid::new_v4()).collect();
    let error = app
        .client
        .remove_list_memberships(&ids, &[list_id])
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest(_)), "{error:?}");
    assert!(app.requests_to("remove_list_memberships").is_empty());
    let activities = app
        .client
        .remove_list_memberships_in_chunks(&ids, &[list_id])
        .await
        .unwrap();
    assert_eq!(activities.len(), 3);
}
