//! The audit log and the store's durability across reopening.

use segsync_store::{AuditFilter, NewAuditEntry, Role, Store};

use crate::backends::{TestStore, on_both};

async fn the_audit_log_pages_newest_first(store: TestStore) {
    let actor = store
        .create_user(&segsync_store::NewUser {
            username: "ada".into(),
            display_name: "Ada".into(),
            role: Role::Admin,
            password_hash: "x".into(),
        })
        .await
        .unwrap();
    for i in 0..5 {
        store
            .audit(NewAuditEntry {
                actor_id: Some(actor.id),
                action: "created",
                object_kind: "segment",
                object_id: &format!("id-{i}"),
                object_name: &format!("segment {i}"),
                detail: Some(serde_json::json!({ "n": i })),
            })
            .await
            .unwrap();
    }
    let first = store
        .audit_log(&AuditFilter::default(), None, 2)
        .await
        .unwrap();
    assert_eq!(
        first
            .iter()
            .map(|e| e.object_name.as_str())
            .collect::<Vec<_>>(),
        ["segment 4", "segment 3"]
    );
    assert_eq!(first[0].actor_id, Some(actor.id));
    assert_eq!(first[0].detail, Some(serde_json::json!({ "n": 4 })));
    let next = store
        .audit_log(&AuditFilter::default(), Some(first[1].id), 10)
        .await
        .unwrap();
    assert_eq!(
        next.iter()
            .map(|e| e.object_name.as_str())
            .collect::<Vec<_>>(),
        ["segment 2", "segment 1", "segment 0"]
    );
}
on_both!(the_audit_log_pages_newest_first);

async fn the_audit_log_is_filtered_by_actor_action_kind_and_time(store: TestStore) {
    let mut actors = Vec::new();
    for name in ["ada", "bob"] {
        let user = store
            .create_user(&segsync_store::NewUser {
                username: name.into(),
                display_name: name.into(),
                role: Role::Admin,
                password_hash: "x".into(),
            })
            .await
            .unwrap();
        actors.push(user.id);
    }
    let entries = [
        (actors[0], "created", "segment"),
        (actors[1], "created", "export"),
        (actors[0], "removed", "export"),
        (actors[1], "ran", "export"),
    ];
    for (i, (actor, action, kind)) in entries.into_iter().enumerate() {
        store
            .audit(NewAuditEntry {
                actor_id: Some(actor),
                action,
                object_kind: kind,
                object_id: &i.to_string(),
                object_name: &format!("entry {i}"),
                detail: None,
            })
            .await
            .unwrap();
    }
    let names = |entries: Vec<segsync_store::AuditEntry>| {
        entries
            .into_iter()
            .map(|entry| entry.object_name)
            .collect::<Vec<_>>()
    };
    let by_ada = AuditFilter {
        actor_id: Some(actors[0]),
        ..AuditFilter::default()
    };
    assert_eq!(
        names(store.audit_log(&by_ada, None, 10).await.unwrap()),
        ["entry 2", "entry 0"]
    );
    let created_exports = AuditFilter {
        action: Some("created".into()),
        object_kind: Some("export".into()),
        ..AuditFilter::default()
    };
    assert_eq!(
        names(store.audit_log(&created_exports, None, 10).await.unwrap()),
        ["entry 1"]
    );
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let later = AuditFilter {
        since: Some(tomorrow),
        ..AuditFilter::default()
    };
    assert!(store.audit_log(&later, None, 10).await.unwrap().is_empty());
    let before_tomorrow = AuditFilter {
        until: Some(tomorrow),
        actor_id: Some(actors[1]),
        ..AuditFilter::default()
    };
    let page = store.audit_log(&before_tomorrow, None, 1).await.unwrap();
    assert_eq!(names(page.clone()), ["entry 3"]);
    assert_eq!(
        names(
            store
                .audit_log(&before_tomorrow, Some(page[0].id), 10)
                .await
                .unwrap()
        ),
        ["entry 1"],
        "the next page keeps the filter"
    );
    let (actions, kinds) = store.audit_vocabulary().await.unwrap();
    assert_eq!(actions, ["created", "ran", "removed"]);
    assert_eq!(kinds, ["export", "segment"]);
}
on_both!(the_audit_log_is_filtered_by_actor_action_kind_and_time);

#[tokio::test]
async fn a_sqlite_store_keeps_everything_when_reopened() {
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", folder.path().join("segsync.db").display());
    let store = Store::open(&url).await.unwrap();
    let user = store
        .create_user(&segsync_store::NewUser {
            username: "ada".into(),
            display_name: "Ada".into(),
            role: Role::Admin,
            password_hash: "x".into(),
        })
        .await
        .unwrap();
    store.close().await;
    let reopened = Store::open(&url).await.unwrap();
    assert_eq!(reopened.user(user.id).await.unwrap(), user);
    assert!(reopened.is_ready().await);
}

#[tokio::test]
async fn an_unknown_database_url_is_refused_by_name() {
    let error = Store::open("mysql://root:hunter2@localhost/db")
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("sqlite://"), "{message}");
    assert!(
        !message.contains("hunter2"),
        "the password is not shown: {message}"
    );
}

async fn settings_are_replaced_not_duplicated(store: TestStore) {
    assert_eq!(store.setting("refresh_schedule").await.unwrap(), None);
    store
        .set_setting(
            "refresh_schedule",
            &serde_json::json!({ "frequency": "off" }),
        )
        .await
        .unwrap();
    store
        .set_setting(
            "refresh_schedule",
            &serde_json::json!({ "frequency": "daily" }),
        )
        .await
        .unwrap();
    assert_eq!(
        store.setting("refresh_schedule").await.unwrap(),
        Some(serde_json::json!({ "frequency": "daily" }))
    );
}
on_both!(settings_are_replaced_not_duplicated);

async fn a_setting_is_replaced_by_one_of_several_contenders(store: TestStore) {
    let first = serde_json::json!("2031-01-01T08:00:00Z");
    let second = serde_json::json!("2031-01-01T09:00:00Z");
    assert!(store.replace_setting("cursor", None, &first).await.unwrap());
    assert!(
        !store
            .replace_setting("cursor", None, &second)
            .await
            .unwrap(),
        "the key exists now"
    );
    assert!(
        store
            .replace_setting("cursor", Some(&first), &second)
            .await
            .unwrap()
    );
    assert!(
        !store
            .replace_setting("cursor", Some(&first), &second)
            .await
            .unwrap(),
        "the second contender sees the value changed under it"
    );
    assert_eq!(store.setting("cursor").await.unwrap(), Some(second));
}
on_both!(a_setting_is_replaced_by_one_of_several_contenders);
