//! Exports: saved with their segments in order, changed, detached, removed; and what they hold
//! on to.

use segsync_store::{
    ExportDraft, NewConnection, NewUser, Role, SegmentDraft, StoreError, UsableBy,
};

use segsync_store::{Connection, Store};

use crate::backends::{TestStore, on_both};

async fn a_contributor(store: &Store) -> uuid::Uuid {
    store
        .create_user(&NewUser {
            username: "cora".into(),
            display_name: "Cora".into(),
            role: Role::Contributor,
            password_hash: "x".into(),
        })
        .await
        .unwrap()
        .id
}

async fn a_shared_connection(store: &Store, by: uuid::Uuid) -> Connection {
    store
        .create_connection(&NewConnection {
            name: "CC".into(),
            usable_by: UsableBy::AdminsAndContributors,
            created_by: by,
        })
        .await
        .unwrap()
}

async fn exports_keep_their_segments_in_order_and_protect_what_they_use(store: TestStore) {
    let by = a_contributor(&store).await;
    let segment = |name: &str| SegmentDraft {
        name: name.into(),
        description: None,
        rule: serde_json::from_value(
            serde_json::json!({"attribute": "email", "op": "is_not_null"}),
        )
        .unwrap(),
    };
    let first = store.create_segment(&segment("first"), by).await.unwrap();
    let second = store.create_segment(&segment("second"), by).await.unwrap();
    let connection = a_shared_connection(&store, by).await;
    let draft = ExportDraft {
        name: "weekly".into(),
        connection_id: connection.id,
        list_id: uuid::Uuid::new_v4(),
        mapping: [("email".to_owned(), "email".to_owned())].into(),
        schedule_override: None,
        sync_mode: segsync_domain::SyncMode::Mirror,
        guards: Default::default(),
        verify: Default::default(),
        segment_ids: vec![second.id, first.id],
    };
    let export = store.create_export(&draft, by).await.unwrap();
    assert_eq!(export.sync_mode, segsync_domain::SyncMode::Mirror);
    assert_eq!(export.guards, segsync_domain::RemovalGuards::default());
    let guarded = segsync_domain::RemovalGuards {
        max_removal_share: segsync_domain::Share::from_fraction(0.125).unwrap(),
        max_member_drop: segsync_domain::Share::from_fraction(1.0).unwrap(),
    };
    let export = store
        .update_export(
            export.id,
            &ExportDraft {
                guards: guarded,
                ..draft.clone()
            },
            by,
        )
        .await
        .unwrap();
    assert_eq!(export.guards, guarded, "the guards are kept as set");
    assert_eq!(
        export.segment_ids,
        [second.id, first.id],
        "the order chosen is kept"
    );
    assert!(matches!(
        store.create_export(&draft, by).await,
        Err(StoreError::Conflict { kind: "export", .. })
    ));
    assert!(matches!(
        store.delete_segment(first.id).await,
        Err(StoreError::InUse { .. })
    ));

    let changed = store
        .update_export(
            export.id,
            &ExportDraft {
                segment_ids: vec![first.id],
                ..draft.clone()
            },
            by,
        )
        .await
        .unwrap();
    assert_eq!(changed.segment_ids, [first.id]);
    store
        .delete_segment(second.id)
        .await
        .expect("no export sends it any more");

    let unknown_segment = ExportDraft {
        segment_ids: vec![uuid::Uuid::new_v4()],
        ..draft.clone()
    };
    assert!(
        store
            .update_export(export.id, &unknown_segment, by)
            .await
            .is_err(),
        "a missing segment is refused"
    );
    assert_eq!(
        store.export(export.id).await.unwrap().segment_ids,
        [first.id],
        "and nothing of that change is kept"
    );

    let detached = store.detach_export(export.id, by).await.unwrap();
    assert_eq!(detached.connection_id, None);
    store
        .delete_connection(connection.id)
        .await
        .expect("a detached export no longer holds its connection");
    assert_eq!(store.exports().await.unwrap().len(), 1);
    store.delete_export(export.id).await.unwrap();
    assert!(store.exports().await.unwrap().is_empty());
    store
        .delete_segment(first.id)
        .await
        .expect("a removed export lets its segments go");
}
on_both!(exports_keep_their_segments_in_order_and_protect_what_they_use);

/// A stored value that no longer reads (written by hand, or by a future version) is one clear
/// error wherever the export is read — never a default in one place and a failure in another.
async fn a_corrupt_stored_value_is_one_clear_error_wherever_the_export_is_read(store: TestStore) {
    let by = a_contributor(&store).await;
    let segment = store
        .create_segment(
            &SegmentDraft {
                name: "everyone".into(),
                description: None,
                rule: serde_json::from_value(
                    serde_json::json!({"attribute": "email", "op": "is_not_null"}),
                )
                .unwrap(),
            },
            by,
        )
        .await
        .unwrap();
    let connection = a_shared_connection(&store, by).await;
    let export = store
        .create_export(
            &ExportDraft {
                name: "weekly".into(),
                connection_id: connection.id,
                list_id: uuid::Uuid::new_v4(),
                mapping: [("email".to_owned(), "email".to_owned())].into(),
                schedule_override: None,
                sync_mode: segsync_domain::SyncMode::Mirror,
                guards: Default::default(),
                verify: Default::default(),
                segment_ids: vec![segment.id],
            },
            by,
        )
        .await
        .unwrap();
    for (column, value, named) in [
        ("sync_mode", "mirrror", "sync mode"),
        ("mapping", "{not json", "data matching"),
        ("schedule_override", r#"{"frequency":"hourly"}"#, "schedule"),
    ] {
        let restore: Option<String> =
            sqlx::query_scalar(&format!("SELECT {column} FROM exports WHERE id = $1"))
                .bind(export.id.to_string())
                .fetch_one(store.pool())
                .await
                .unwrap();
        sqlx::query(&format!("UPDATE exports SET {column} = $1 WHERE id = $2"))
            .bind(value)
            .bind(export.id.to_string())
            .execute(store.pool())
            .await
            .unwrap();
        for read in [
            store.export(export.id).await,
            store.exports().await.map(|mut all| all.remove(0)),
        ] {
            match read {
                Err(StoreError::Corrupt(message)) => assert!(
                    message.contains(&export.id.to_string()) && message.contains(named),
                    "{message}"
                ),
                other => panic!("a corrupt {column} read as {other:?}"),
            }
        }
        sqlx::query(&format!("UPDATE exports SET {column} = $1 WHERE id = $2"))
            .bind(restore)
            .bind(export.id.to_string())
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(store.export(export.id).await.unwrap(), export);
    }
}
on_both!(a_corrupt_stored_value_is_one_clear_error_wherever_the_export_is_read);
