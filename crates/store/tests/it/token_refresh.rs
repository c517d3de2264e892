//! Refreshing a connection's tokens from several nodes: one turn at a time, rotations saved by
//! compare-and-set on the version, and only a refusal of the newest tokens marks the connection.

use std::time::Duration;

use segsync_store::{Health, NewConnection, RefreshTurn, UsableBy};

use crate::backends::{TestStore, on_both};

async fn an_authenticated_connection(store: &TestStore) -> uuid::Uuid {
    let by = crate::segments::admin(store).await;
    let connection = store
        .create_connection(&NewConnection {
            name: "CC".into(),
            usable_by: UsableBy::Admins,
            created_by: by,
        })
        .await
        .unwrap();
    store
        .set_connection_tokens(connection.id, b"first")
        .await
        .unwrap();
    connection.id
}

async fn one_node_refreshes_at_a_time_and_rotations_move_the_version(store: TestStore) {
    let id = an_authenticated_connection(&store).await;
    let version = store.connection(id).await.unwrap().tokens_version;
    let lease = Duration::from_secs(60);

    let RefreshTurn::Taken(seen) = store.take_token_refresh_turn(id, "a", lease).await.unwrap()
    else {
        panic!("a free turn is taken");
    };
    assert_eq!(
        (seen.version, seen.sealed.as_deref()),
        (version, Some(&b"first"[..]))
    );
    assert!(
        matches!(
            store.take_token_refresh_turn(id, "b", lease).await.unwrap(),
            RefreshTurn::Busy(_)
        ),
        "a second node waits while the first refreshes"
    );
    assert!(
        store
            .rotate_connection_tokens(id, version, b"second")
            .await
            .unwrap()
    );
    assert!(
        !store
            .rotate_connection_tokens(id, version, b"lost update")
            .await
            .unwrap(),
        "a rotation from a version that moved on saves nothing"
    );
    let RefreshTurn::Taken(seen) = store.take_token_refresh_turn(id, "b", lease).await.unwrap()
    else {
        panic!("the turn is free once the rotation is saved");
    };
    assert_eq!(
        (seen.version, seen.sealed.as_deref()),
        (version + 1, Some(&b"second"[..]))
    );
    store.release_token_refresh_turn(id, "b").await.unwrap();

    // A lapsed turn can be taken by another node.
    assert!(matches!(
        store
            .take_token_refresh_turn(id, "a", Duration::ZERO)
            .await
            .unwrap(),
        RefreshTurn::Taken(_)
    ));
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(matches!(
        store.take_token_refresh_turn(id, "b", lease).await.unwrap(),
        RefreshTurn::Taken(_)
    ));

    assert!(
        !store
            .mark_tokens_refused(id, version, "invalid_grant")
            .await
            .unwrap(),
        "the refusal of an older refresh token changes nothing"
    );
    assert_eq!(store.connection(id).await.unwrap().health, Health::Healthy);
    assert!(
        store
            .mark_tokens_refused(id, version + 1, "invalid_grant")
            .await
            .unwrap()
    );
    let connection = store.connection(id).await.unwrap();
    assert_eq!(connection.health, Health::NeedsReauthentication);
    assert_eq!(connection.health_reason.as_deref(), Some("invalid_grant"));

    // Authenticating again is a new version, healthy.
    store.set_connection_tokens(id, b"third").await.unwrap();
    let connection = store.connection(id).await.unwrap();
    assert_eq!(
        (connection.health, connection.tokens_version),
        (Health::Healthy, version + 2)
    );
}
on_both!(one_node_refreshes_at_a_time_and_rotations_move_the_version);
