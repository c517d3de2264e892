//! Exports: saved with their segments in order, changed, detached, removed; and what they hold
//! on to.

use segsync_store::{
    ExportDraft, NewConnection, NewUser, Role, SegmentDraft, StoreError, UsableBy,
};

use crate::backends::{TestStore, on_both};

async fn exports_keep_their_segments_in_order_and_protect_what_they_use(store: TestStore) {
    let by = store
        .create_user(&NewUser {
            username: "cora".into(),
            display_name: "Cora".into(),
            role: Role::Contributor,
            password_hash: "x".into(),
        })
        .await
        .unwrap()
        .id;
    let segment = |name: &str| SegmentDraft {
        name: name.into(),
        description: None,
        rule: "{}".into(),
    };
    let first = store.create_segment(&segment("first"), by).await.unwrap();
    let second = store.create_segment(&segment("second"), by).await.unwrap();
    let connection = store
        .create_connection(&NewConnection {
            name: "CC".into(),
            usable_by: UsableBy::AdminsAndContributors,
            created_by: by,
        })
        .await
        .unwrap();
    let draft = ExportDraft {
        name: "weekly".into(),
        connection_id: connection.id,
        list_id: uuid::Uuid::new_v4(),
        mapping: r#"{"email":"email"}"#.into(),
        schedule_override: None,
        sync_mode: "mirror".into(),
        segment_ids: vec![second.id, first.id],
    };
    let export = store.create_export(&draft, by).await.unwrap();
    assert_eq!(export.sync_mode, "mirror");
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
