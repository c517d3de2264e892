//! Users, sessions, API tokens, the login throttle and the dismissed next steps.

use chrono::{Duration, Utc};
use segsync_store::{
    AttemptsAt, KeptCredential, LoginThrottle, NewUser, PasswordAttempt, Role, StoreError,
};

use crate::backends::{TestStore, on_both};

fn new_user(username: &str, role: Role) -> NewUser {
    NewUser {
        username: username.to_owned(),
        display_name: format!("{username} (display)"),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
    }
}

async fn users_are_created_found_and_unique(store: TestStore) {
    let ada = store
        .create_user(&new_user("ada", Role::Admin))
        .await
        .unwrap();
    store
        .create_user(&new_user("vic", Role::Viewer))
        .await
        .unwrap();
    assert_eq!(store.user(ada.id).await.unwrap(), ada);
    assert_eq!(
        store.user_by_username("ada").await.unwrap(),
        Some(ada.clone())
    );
    assert_eq!(store.user_by_username("nobody").await.unwrap(), None);
    let names: Vec<String> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["ada", "vic"]);
    assert_eq!(store.count_admins().await.unwrap(), 1);
    let taken = store
        .create_user(&new_user("ada", Role::Viewer))
        .await
        .unwrap_err();
    assert!(
        matches!(taken, StoreError::Conflict { kind: "user", .. }),
        "{taken}"
    );
    let missing = store.user(uuid::Uuid::new_v4()).await.unwrap_err();
    assert!(
        matches!(missing, StoreError::NotFound { kind: "user", .. }),
        "{missing}"
    );
}
on_both!(users_are_created_found_and_unique);

async fn next_steps_stay_dismissed_for_the_user_who_dismissed_them(store: TestStore) {
    let ada = store
        .create_user(&new_user("ada", Role::Admin))
        .await
        .unwrap();
    let vic = store
        .create_user(&new_user("vic", Role::Viewer))
        .await
        .unwrap();
    assert!(!store.next_steps_dismissed(ada.id).await.unwrap());
    store.dismiss_next_steps(ada.id, Utc::now()).await.unwrap();
    store.dismiss_next_steps(ada.id, Utc::now()).await.unwrap();
    assert!(store.next_steps_dismissed(ada.id).await.unwrap());
    assert!(
        !store.next_steps_dismissed(vic.id).await.unwrap(),
        "each user dismisses their own"
    );
}
on_both!(next_steps_stay_dismissed_for_the_user_who_dismissed_them);

async fn sessions_live_until_they_expire_or_end(store: TestStore) {
    let user = store
        .create_user(&new_user("cora", Role::Contributor))
        .await
        .unwrap();
    let now = Utc::now();
    store
        .create_session("hash-1", user.id, "csrf-1", now + Duration::hours(8))
        .await
        .unwrap();
    store
        .create_session("hash-2", user.id, "csrf-2", now - Duration::seconds(1))
        .await
        .unwrap();

    let live = store
        .session("hash-1", now)
        .await
        .unwrap()
        .expect("a live session");
    assert_eq!(live.user, user);
    assert_eq!(live.csrf_token, "csrf-1");
    assert!(
        store.session("hash-2", now).await.unwrap().is_none(),
        "an expired session is no session"
    );
    assert!(store.session("unknown", now).await.unwrap().is_none());
    assert_eq!(store.delete_expired_sessions(now).await.unwrap(), 1);
    store.delete_session("hash-1").await.unwrap();
    assert!(
        store.session("hash-1", now).await.unwrap().is_none(),
        "signed out"
    );
}
on_both!(sessions_live_until_they_expire_or_end);

async fn api_tokens_find_their_user_and_can_be_revoked(store: TestStore) {
    let user = store
        .create_user(&new_user("bot", Role::Contributor))
        .await
        .unwrap();
    let token = store
        .create_api_token(user.id, "nightly job", "token-hash")
        .await
        .unwrap();
    assert_eq!(
        store.user_by_api_token("token-hash").await.unwrap(),
        Some(user.clone())
    );
    assert_eq!(store.user_by_api_token("other").await.unwrap(), None);
    let listed = store.api_tokens(user.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "nightly job");
    assert!(
        listed[0].last_used_at.is_some(),
        "using a token records when"
    );
    assert!(
        !store
            .delete_api_token(uuid::Uuid::new_v4(), token.id)
            .await
            .unwrap(),
        "only its owner revokes it"
    );
    assert!(store.delete_api_token(user.id, token.id).await.unwrap());
    assert_eq!(store.user_by_api_token("token-hash").await.unwrap(), None);
}
on_both!(api_tokens_find_their_user_and_can_be_revoked);

async fn repeated_failed_sign_ins_lock_the_username(store: TestStore) {
    let now = Utc::now();
    let until = now + Duration::minutes(15);
    for taken in 1..=5 {
        assert_eq!(
            store
                .take_attempt(AttemptsAt::SignIn { username: "ada" }, 5, now, until)
                .await
                .unwrap(),
            PasswordAttempt::Granted
        );
        assert_eq!(store.login_throttle("ada").await.unwrap().failures, taken);
        store
            .attempt_failed(AttemptsAt::SignIn { username: "ada" }, 5, until)
            .await
            .unwrap();
    }
    let locked = store.login_throttle("ada").await.unwrap();
    assert_eq!(
        locked.locked_until.map(|t| t.timestamp_millis()),
        Some(until.timestamp_millis()),
        "the fifth failure locks"
    );
    assert_eq!(
        store
            .take_attempt(
                AttemptsAt::SignIn { username: "ada" },
                5,
                now + Duration::minutes(1),
                until
            )
            .await
            .unwrap(),
        PasswordAttempt::Locked {
            until: locked.locked_until.unwrap()
        }
    );
    assert_eq!(store.login_throttle("bob").await.unwrap().failures, 0);
    assert_eq!(
        store
            .take_attempt(
                AttemptsAt::SignIn { username: "ada" },
                5,
                until + Duration::seconds(1),
                until
            )
            .await
            .unwrap(),
        PasswordAttempt::Granted,
        "the lock ended"
    );
    assert_eq!(
        store.login_throttle("ada").await.unwrap(),
        LoginThrottle {
            failures: 1,
            locked_until: None
        },
        "and the count started again"
    );
    store
        .take_attempt(AttemptsAt::SignIn { username: "ada" }, 1, now, until)
        .await
        .unwrap();
    assert!(
        store
            .login_throttle("ada")
            .await
            .unwrap()
            .locked_until
            .is_some()
    );
    store.clear_login_failures("ada").await.unwrap();
    assert_eq!(
        store.login_throttle("ada").await.unwrap().locked_until,
        None
    );
}
on_both!(repeated_failed_sign_ins_lock_the_username);

async fn sign_in_attempts_at_the_same_moment_get_no_more_than_the_limit(store: TestStore) {
    let now = Utc::now();
    let until = now + Duration::minutes(15);
    let attempts =
        (0..40).map(|_| store.take_attempt(AttemptsAt::SignIn { username: "ada" }, 5, now, until));
    let answers = futures_util::future::try_join_all(attempts)
        .await
        .expect("concurrent attempts wait their turn instead of failing");
    let granted = answers
        .iter()
        .filter(|answer| **answer == PasswordAttempt::Granted)
        .count();
    assert_eq!(granted, 5, "{answers:?}");
    assert!(
        answers.iter().all(|answer| match answer {
            PasswordAttempt::Granted => true,
            PasswordAttempt::Locked { until: locked } =>
                locked.timestamp_millis() == until.timestamp_millis(),
        }),
        "{answers:?}"
    );
}
on_both!(sign_in_attempts_at_the_same_moment_get_no_more_than_the_limit);

async fn password_change_attempts_are_counted_apart_from_sign_ins(store: TestStore) {
    let ada = store
        .create_user(&new_user("ada", Role::Viewer))
        .await
        .unwrap();
    let now = Utc::now();
    let until = now + Duration::minutes(15);
    let change = AttemptsAt::PasswordChange { user_id: ada.id };
    store
        .take_attempt(AttemptsAt::SignIn { username: "ada" }, 0, now, until)
        .await
        .unwrap();
    assert!(
        store
            .login_throttle("ada")
            .await
            .unwrap()
            .locked_until
            .is_some()
    );
    assert_eq!(
        store.take_attempt(change, 1, now, until).await.unwrap(),
        PasswordAttempt::Granted,
        "a locked sign-in leaves password changes alone"
    );
    store.attempt_failed(change, 1, until).await.unwrap();
    assert!(matches!(
        store.take_attempt(change, 1, now, until).await.unwrap(),
        PasswordAttempt::Locked { .. }
    ));
    store.clear_attempts(change).await.unwrap();
    assert_eq!(
        store.take_attempt(change, 1, now, until).await.unwrap(),
        PasswordAttempt::Granted
    );
}
on_both!(password_change_attempts_are_counted_apart_from_sign_ins);

async fn accounts_live_and_end_and_the_last_admin_stays(store: TestStore) {
    let new = |username: &str, role| NewUser {
        username: username.into(),
        display_name: username.into(),
        role,
        password_hash: "hash".into(),
    };
    let admin = store.create_user(&new("ada", Role::Admin)).await.unwrap();
    let viewer = store.create_user(&new("vic", Role::Viewer)).await.unwrap();
    let now = chrono::Utc::now();
    store
        .create_session("live", viewer.id, "csrf", now + chrono::Duration::hours(1))
        .await
        .unwrap();
    store
        .create_session("old", viewer.id, "csrf", now - chrono::Duration::hours(1))
        .await
        .unwrap();
    store
        .create_expiring_api_token(viewer.id, "expired", "expired-hash", Some(now))
        .await
        .unwrap();
    store
        .create_api_token(viewer.id, "kept", "kept-hash")
        .await
        .unwrap();
    assert_eq!(store.purge_expired(now).await.unwrap(), 2);
    assert!(store.session("live", now).await.unwrap().is_some());
    assert!(
        store
            .user_by_api_token("kept-hash")
            .await
            .unwrap()
            .is_some()
    );

    store.set_user_disabled(viewer.id, true).await.unwrap();
    assert!(store.session("live", now).await.unwrap().is_none());
    assert!(
        store.api_tokens(viewer.id).await.unwrap().is_empty(),
        "tokens revoked"
    );
    assert!(
        !store
            .set_user_disabled(viewer.id, false)
            .await
            .unwrap()
            .disabled
    );

    for refused in [
        store.set_user_role(admin.id, Role::Viewer).await.err(),
        store.set_user_disabled(admin.id, true).await.err(),
    ] {
        assert!(
            matches!(refused, Some(StoreError::LastAdmin)),
            "{refused:?}"
        );
    }
    let still = store.user(admin.id).await.unwrap();
    assert_eq!(
        (still.role, still.disabled),
        (Role::Admin, false),
        "nothing changed"
    );
    store.set_user_role(viewer.id, Role::Admin).await.unwrap();
    store.set_user_role(admin.id, Role::Viewer).await.unwrap();
}
on_both!(accounts_live_and_end_and_the_last_admin_stays);

async fn a_new_password_ends_sessions_and_tokens_but_the_one_that_asked(store: TestStore) {
    let viewer = store
        .create_user(&new_user("vic", Role::Viewer))
        .await
        .unwrap();
    let later = Utc::now() + Duration::hours(1);
    for session in ["asking", "elsewhere"] {
        store
            .create_session(session, viewer.id, "csrf", later)
            .await
            .unwrap();
    }
    let asking = store
        .create_api_token(viewer.id, "asking", "asking-hash")
        .await
        .unwrap();
    store
        .create_api_token(viewer.id, "nightly", "nightly-hash")
        .await
        .unwrap();
    let ended = store
        .set_user_password(
            viewer.id,
            "new-hash",
            KeptCredential {
                session_hash: Some("asking"),
                api_token: Some(asking.id),
            },
        )
        .await
        .unwrap();
    assert_eq!(ended, ["nightly"]);
    let now = Utc::now();
    assert!(store.session("asking", now).await.unwrap().is_some());
    assert!(store.session("elsewhere", now).await.unwrap().is_none());
    let used = store.api_token_use("asking-hash").await.unwrap().unwrap();
    assert_eq!((used.user.id, used.token_id), (viewer.id, asking.id));
    assert_eq!(store.user_by_api_token("nightly-hash").await.unwrap(), None);

    let (sessions, tokens) = store.end_user_credentials(viewer.id).await.unwrap();
    assert_eq!((sessions, tokens), (1, vec!["asking".to_owned()]));
    assert_eq!(store.user_by_api_token("asking-hash").await.unwrap(), None);
}
on_both!(a_new_password_ends_sessions_and_tokens_but_the_one_that_asked);

/// Two admins demote each other at the same moment, many times over: one of them stays.
async fn two_admins_demoting_each_other_at_once_leave_one_admin(store: TestStore) {
    let mut survivors = Vec::new();
    for round in 0..20 {
        let first = store
            .create_user(&new_user(&format!("first-{round}"), Role::Admin))
            .await
            .unwrap();
        let second = store
            .create_user(&new_user(&format!("second-{round}"), Role::Admin))
            .await
            .unwrap();
        for survivor in survivors.drain(..) {
            store.set_user_role(survivor, Role::Viewer).await.unwrap();
        }
        let (one, other) = tokio::join!(
            store.set_user_role(first.id, Role::Viewer),
            store.set_user_role(second.id, Role::Viewer)
        );
        let refused = [&one, &other]
            .iter()
            .filter(|done| matches!(done, Err(StoreError::LastAdmin)))
            .count();
        assert_eq!(refused, 1, "round {round}: {one:?} {other:?}");
        survivors.push(if one.is_err() { first.id } else { second.id });
        let admins = store
            .users()
            .await
            .unwrap()
            .into_iter()
            .filter(|user| user.role == Role::Admin && !user.disabled)
            .count();
        assert_eq!(admins, 1, "round {round}");
    }
}
on_both!(two_admins_demoting_each_other_at_once_leave_one_admin);
