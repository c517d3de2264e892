//! Segments and connections, what refuses to be removed while exports use it, and the OAuth
//! flows that authenticate connections.

use segsync_store::{Health, NewConnection, NewUser, Role, SegmentDraft, StoreError, UsableBy};

use crate::backends::{TestStore, on_both};

pub(crate) async fn admin(store: &TestStore) -> uuid::Uuid {
    store
        .create_user(&NewUser {
            username: "ada".into(),
            display_name: "Ada".into(),
            role: Role::Admin,
            password_hash: "x".into(),
        })
        .await
        .unwrap()
        .id
}

/// An export row written directly, as the exports module of a later version would.
async fn export_using(
    store: &TestStore,
    name: &str,
    connection: uuid::Uuid,
    segment: uuid::Uuid,
    by: uuid::Uuid,
) {
    let export_id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO exports (id, name, connection_id, list_id, mapping, created_by, created_at, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, '{}', $5, 0, $5, 0)",
    )
    .bind(&export_id)
    .bind(name)
    .bind(connection.to_string())
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(by.to_string())
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("INSERT INTO export_segments (export_id, segment_id, position) VALUES ($1, $2, 0)")
        .bind(&export_id)
        .bind(segment.to_string())
        .execute(store.pool())
        .await
        .unwrap();
}

async fn segments_and_connections_in_use_are_not_removed(store: TestStore) {
    let by = admin(&store).await;
    let draft = SegmentDraft {
        name: "gold".into(),
        description: Some("Gold tier".into()),
        rule: serde_json::from_value(
            serde_json::json!({"attribute": "tier", "op": "equals", "value": "gold"}),
        )
        .unwrap(),
    };
    let segment = store.create_segment(&draft, by).await.unwrap();
    assert!(segment.active);
    assert!(matches!(
        store.create_segment(&draft, by).await,
        Err(StoreError::Conflict {
            kind: "segment",
            ..
        })
    ));
    let renamed = store
        .update_segment(
            segment.id,
            &SegmentDraft {
                name: "gold-tier".into(),
                ..draft.clone()
            },
            by,
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "gold-tier");
    assert!(
        !store
            .set_segment_active(segment.id, false, by)
            .await
            .unwrap()
            .active
    );

    let connection = store
        .create_connection(&NewConnection {
            name: "CC".into(),
            usable_by: UsableBy::Admins,
            created_by: by,
        })
        .await
        .unwrap();
    assert_eq!(connection.health, Health::NotAuthenticated);
    store
        .set_connection_tokens(connection.id, b"sealed")
        .await
        .unwrap();
    assert_eq!(
        store.connection(connection.id).await.unwrap().health,
        Health::Healthy
    );

    export_using(&store, "weekly gold", connection.id, segment.id, by).await;
    match store.delete_segment(segment.id).await {
        Err(StoreError::InUse { users, .. }) => assert_eq!(users, ["weekly gold"]),
        other => panic!("a segment in use was not refused: {other:?}"),
    }
    match store.delete_connection(connection.id).await {
        Err(StoreError::InUse { users, .. }) => assert_eq!(users, ["weekly gold"]),
        other => panic!("a connection in use was not refused: {other:?}"),
    }
    assert_eq!(
        store.segments().await.unwrap().len(),
        1,
        "nothing was removed"
    );
    assert_eq!(store.connections().await.unwrap().len(), 1);

    let unused = store
        .create_segment(
            &SegmentDraft {
                name: "spare".into(),
                ..draft
            },
            by,
        )
        .await
        .unwrap();
    store.delete_segment(unused.id).await.unwrap();
    assert!(matches!(
        store.segment(unused.id).await,
        Err(StoreError::NotFound { .. })
    ));
}
on_both!(segments_and_connections_in_use_are_not_removed);

async fn an_oauth_flow_is_taken_once_even_by_redirects_at_the_same_moment(store: TestStore) {
    let by = admin(&store).await;
    let connection = store
        .create_connection(&NewConnection {
            name: "CC".into(),
            usable_by: UsableBy::Admins,
            created_by: by,
        })
        .await
        .unwrap();
    let flow = segsync_store::OAuthFlow {
        connection_id: connection.id,
        user_id: by,
        verifier_sealed: b"sealed verifier".to_vec(),
        created_at: chrono::Utc::now(),
    };
    store.create_oauth_flow("state-hash", &flow).await.unwrap();
    let (first, second) = tokio::join!(
        store.take_oauth_flow("state-hash"),
        store.take_oauth_flow("state-hash")
    );
    let taken: Vec<_> = [first.unwrap(), second.unwrap()]
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(taken.len(), 1, "one redirect wins, the other finds nothing");
    assert_eq!(taken[0].connection_id, connection.id);
    assert_eq!(taken[0].user_id, by);
    assert_eq!(taken[0].verifier_sealed, b"sealed verifier");
    assert!(store.take_oauth_flow("state-hash").await.unwrap().is_none());
}
on_both!(an_oauth_flow_is_taken_once_even_by_redirects_at_the_same_moment);
