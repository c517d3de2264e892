//! The ledger of what each export sent, and the checkpoints of a run's imports.

use segsync_store::{BatchState, LedgerEntry, LedgerOf, SentMember, StoreError, Trigger};
use uuid::Uuid;

use crate::backends::{TestStore, on_both};
use crate::runs::an_export;

fn member(n: u64, fingerprint: u64, owned: bool) -> SentMember {
    SentMember {
        // High bits set: the hashes are stored bit for bit in signed columns.
        email_key: u64::MAX - n,
        fingerprint,
        owned,
    }
}

async fn ledger_of(store: &TestStore, of: LedgerOf, run: Uuid) -> Vec<LedgerEntry> {
    let mut entries = Vec::new();
    store
        .load_ledger(of.export_id, of.list_id, run, |entry| entries.push(entry))
        .await
        .unwrap();
    entries.sort_by_key(|entry| entry.email_key);
    entries
}

async fn imports_are_checkpointed_and_remembered(store: TestStore) {
    let (export, by) = an_export(&store).await;
    let list = store.export(export).await.unwrap().list_id;
    let of = LedgerOf {
        export_id: export,
        list_id: list,
    };
    store
        .queue_run(export, Trigger::Manual, Some(by), Some(by))
        .await
        .unwrap();
    let claim = store
        .claim_next_run("node")
        .await
        .unwrap()
        .unwrap()
        .held_claim();
    let run = claim.run_id;
    // 2,500 members: several statements' worth of rows on either database.
    let members: Vec<SentMember> = (0..2_500).map(|n| member(n, n + 1, n % 2 == 0)).collect();
    store.plan_batch(&claim, 1, &members).await.unwrap();
    assert_eq!(
        store.run_batches(run).await.unwrap()[0].state,
        BatchState::Planned
    );
    assert_eq!(
        store.batch_members(run, 1).await.unwrap(),
        members,
        "a planned import keeps its members until it ends"
    );
    assert!(
        ledger_of(&store, of, run).await.is_empty(),
        "nothing remembered before it is sent"
    );

    let activity = Uuid::new_v4();
    store
        .batch_sent(&claim, 1, activity, of, &members)
        .await
        .unwrap();
    let batch = &store.run_batches(run).await.unwrap()[0];
    assert_eq!(
        (batch.state, batch.activity_id, batch.contacts),
        (BatchState::Sent, Some(activity), 2_500)
    );
    let entries = ledger_of(&store, of, run).await;
    assert_eq!(entries.len(), 2_500);
    let last = entries.last().unwrap();
    assert_eq!(
        (
            last.email_key,
            last.fingerprint,
            last.owned,
            last.sent_by_this_run,
            last.unsubscribed
        ),
        (u64::MAX, 1, true, true, false)
    );
    let another_run = Uuid::new_v4();
    assert!(
        ledger_of(&store, of, another_run)
            .await
            .iter()
            .all(|entry| !entry.sent_by_this_run)
    );

    // The import failed: its members are to be sent again, and what it carried is dropped.
    store
        .batch_ended(
            &claim,
            1,
            false,
            &serde_json::json!({"error_count": 2_500}),
            of,
        )
        .await
        .unwrap();
    assert!(
        ledger_of(&store, of, run)
            .await
            .iter()
            .all(|entry| entry.fingerprint == 0)
    );
    assert!(store.batch_members(run, 1).await.unwrap().is_empty());
    assert_eq!(
        store.run_batches(run).await.unwrap()[0].state,
        BatchState::Failed
    );

    // Sent again, changed: the row is updated, ownership as the new send says.
    let again: Vec<SentMember> = members
        .iter()
        .map(|m| SentMember {
            fingerprint: 9,
            ..m.clone()
        })
        .collect();
    store.plan_batch(&claim, 2, &again).await.unwrap();
    store
        .batch_sent(&claim, 2, Uuid::new_v4(), of, &again)
        .await
        .unwrap();
    store
        .batch_ended(&claim, 2, true, &serde_json::json!({}), of)
        .await
        .unwrap();
    assert!(
        ledger_of(&store, of, run)
            .await
            .iter()
            .all(|entry| entry.fingerprint == 9)
    );
    assert_eq!(store.ledger_size(export, list).await.unwrap(), 2_500);

    // More keys than one statement takes, on either database.
    let keys: Vec<u64> = members.iter().take(1_500).map(|m| m.email_key).collect();
    let marked = store
        .mark_unsubscribed(&claim, export, list, &[keys[0], keys[1], 12345])
        .await
        .unwrap();
    assert_eq!(marked.len(), 2, "only emails the export sent are marked");
    assert_eq!(
        store
            .mark_unsubscribed(&claim, export, list, &keys[..1])
            .await
            .unwrap(),
        Vec::<u64>::new(),
        "an email already known unsubscribed is not reported twice"
    );
    store
        .forget_members(&claim, export, list, &keys)
        .await
        .unwrap();
    assert_eq!(store.ledger_size(export, list).await.unwrap(), 1_000);

    // An import planned and never sent is dropped when settled.
    store.plan_batch(&claim, 3, &members[..1]).await.unwrap();
    store.drop_unsent_batch(&claim, 3).await.unwrap();
    assert_eq!(store.run_batches(run).await.unwrap().len(), 2);

    // Once the run is taken over, its old claim writes nothing more.
    store
        .requeue_interrupted_runs("", chrono::Utc::now() + chrono::Duration::seconds(1), 3)
        .await
        .unwrap();
    let taken_over = store.claim_next_run("another node").await.unwrap().unwrap();
    assert_eq!(taken_over.id, run);
    assert_ne!(taken_over.held_claim(), claim);
    for refused in [
        store.plan_batch(&claim, 4, &members[..1]).await,
        store
            .batch_sent(&claim, 2, Uuid::new_v4(), of, &members[..1])
            .await,
        store.forget_members(&claim, export, list, &keys).await,
        store
            .add_run_skips(&claim, &[("a".into(), "b".into())])
            .await,
        store.confirm_claim(&claim).await,
    ] {
        assert!(
            matches!(refused, Err(StoreError::ClaimLost { run_id }) if run_id == run),
            "{refused:?}"
        );
    }
    assert!(matches!(
        store
            .set_run_progress(&claim, &segsync_domain::RunProgress::default())
            .await,
        Err(StoreError::ClaimLost { .. })
    ));
    assert_eq!(
        store.run_batches(run).await.unwrap().len(),
        2,
        "nothing planned by the old claim"
    );
    store
        .plan_batch(&taken_over.held_claim(), 4, &members[..1])
        .await
        .unwrap();
}

on_both!(imports_are_checkpointed_and_remembered);

async fn an_api_keys_day_is_reserved_settled_and_paused(store: TestStore) {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    assert_eq!(
        store.reserve_requests("key", day, 6, 10).await.unwrap(),
        Ok(())
    );
    assert_eq!(
        store.reserve_requests("key", day, 5, 10).await.unwrap(),
        Err(4),
        "six of ten are reserved by a run going on"
    );
    assert_eq!(
        store
            .reserve_requests("other key", day, 5, 10)
            .await
            .unwrap(),
        Ok(())
    );
    store.settle_requests("key", day, 6, 3).await.unwrap();
    let today = store.quota_day("key", day).await.unwrap();
    assert_eq!(
        (today.used, today.reserved, today.paused_until),
        (3, 0, None)
    );
    let tomorrow = day.succ_opt().unwrap();
    assert_eq!(
        store.quota_day("key", tomorrow).await.unwrap().used,
        0,
        "a new day, a new budget"
    );
    let reset = tomorrow.and_hms_opt(0, 0, 0).unwrap().and_utc();
    store.pause_api_key("key", day, reset).await.unwrap();
    assert_eq!(
        store.quota_day("key", day).await.unwrap().paused_until,
        Some(reset)
    );
    let keys: Vec<(String, u64, u64)> = store
        .quota_days(day)
        .await
        .unwrap()
        .into_iter()
        .map(|(key, today)| (key, today.used, today.reserved))
        .collect();
    assert_eq!(
        keys,
        [("key".to_owned(), 3, 0), ("other key".to_owned(), 0, 5)],
        "every key's day, by key"
    );
    assert!(store.quota_days(tomorrow).await.unwrap().is_empty());
}

on_both!(an_api_keys_day_is_reserved_settled_and_paused);
