//! Limits and failures: a 429 storm, 5xx and dropped connections, 401 then refresh, the daily
//! quota, per second spacing as the sandbox measures it.

use std::sync::Arc;

use cc_sandbox::Fault;
use chrono::{Days, Utc};
use constant_contact::Error;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_429_storm_is_ridden_out_at_no_more_than_four_requests_a_second() {
    let client_id = unique_client_id();
    // Constant Contact's real limit on both sides.
    let app = spawn_app_with(
        cc_sandbox::SandboxConfig {
            requests_per_second: 4,
            ..fast_sandbox(&client_id)
        },
        &client_id,
        4,
    )
    .await;
    let list_id = app.list_id("Newsletter");
    let throttled = json!({ "error_key": "throttled", "error_message": "Too Many Requests" });
    app.sandbox
        .state()
        .add_fault(Fault::respond("get_contact_list", 6, 429, throttled));

    let client = Arc::new(app.client);
    let callers: Vec<_> = (0..3)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                for _ in 0..4 {
                    client.get_list(list_id).await.unwrap();
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap();
    }

    let requests: Vec<_> = app
        .sandbox
        .state()
        .requests()
        .into_iter()
        .filter(|r| r.client_id.is_some())
        .collect();
    assert_eq!(requests.len(), 18, "12 successes and 6 throttled attempts");
    assert_eq!(
        requests.iter().filter(|r| r.status == 429).count(),
        6,
        "only the injected 429s"
    );
    let times: Vec<f64> = requests.iter().map(|r| r.elapsed_ms).collect();
    for (i, start) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|t| **t - start < 1000.0)
            .count();
        assert!(
            in_window <= 4,
            "{in_window} requests within one second from {start} ms: {times:?}"
        );
    }
}

#[tokio::test]
async fn server_errors_and_dropped_connections_are_retried() {
    let app = spawn_app().await;
    let list_id = app.list_id("Newsletter");
    let state = app.sandbox.state();
    state.add_fault(Fault::respond(
        "get_contact_list",
        2,
        503,
        json!([{ "error_key": "unavailable", "error_message": "try later" }]),
    ));
    state.add_fault(Fault::drop_connection("get_contact_list", 1));
    state.add_fault(Fault::respond("get_contact_list", 1, 500, json!({})));
    assert_eq!(app.client.get_list(list_id).await.unwrap().list_id, list_id);
    let statuses: Vec<u16> = app
        .requests_to("get_contact_list")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses,
        [503, 503, 500, 500, 200],
        "the dropped connection is logged as 500 by the sandbox"
    );
}

#[tokio::test]
async fn unauthorized_refreshes_then_succeeds() {
    let app = spawn_app().await;
    let list_id = app.list_id("Newsletter");
    app.client.get_list(list_id).await.unwrap();
    // The token is refused although its expiry has not come (revoked early, clocks apart).
    app.sandbox.state().add_fault(Fault::respond(
        "get_contact_list",
        1,
        401,
        json!({ "error_key": "unauthorized", "error_message": "Unauthorized" }),
    ));
    app.client.get_list(list_id).await.unwrap();
    let statuses: Vec<u16> = app
        .requests_to("get_contact_list")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [200, 401, 200]);
    assert_eq!(
        app.store.saved().len(),
        1,
        "the refreshed tokens were saved"
    );
}

#[tokio::test]
async fn quota_exceeded_stops_with_the_reset_time_and_sends_nothing_more() {
    let client_id = unique_client_id();
    let config = cc_sandbox::SandboxConfig {
        daily_quota: 3,
        ..fast_sandbox(&client_id)
    };
    let app = spawn_app_with(config, &client_id, 1_000).await;
    let list_id = app.list_id("Newsletter");
    for _ in 0..3 {
        app.client.get_list(list_id).await.unwrap();
    }
    let error = app.client.get_list(list_id).await.unwrap_err();
    let tomorrow = Utc::now()
        .date_naive()
        .checked_add_days(Days::new(1))
        .unwrap();
    match error {
        Error::QuotaExceeded { resets_at } => {
            assert_eq!(resets_at, tomorrow.and_hms_opt(0, 0, 0).unwrap().and_utc())
        }
        other => panic!("unexpected {other:?}"),
    }
    let sent = app.requests_to("get_contact_list").len();
    let again = app.client.get_list(list_id).await.unwrap_err();
    assert!(matches!(again, Error::QuotaExceeded { .. }));
    assert_eq!(
        app.requests_to("get_contact_list").len(),
        sent,
        "refused locally, without a request"
    );
    assert_eq!(app.client.budget().remaining_today(), 0);
}

#[tokio::test]
async fn our_own_daily_count_refuses_before_constant_contact_has_to() {
    let client_id = unique_client_id();
    let sandbox = spawn_sandbox(cc_sandbox::SandboxConfig {
        auto_approve: true,
        ..fast_sandbox(&client_id)
    })
    .await;
    let config = api_config(&sandbox, &client_id)
        .with_daily_quota(2)
        .with_requests_per_second(1_000);
    let tokens = authorize(&config).await;
    let budget = Arc::new(constant_contact::ApiKeyBudget::new(1_000, 2));
    let client = constant_contact::ConstantContact::connect(
        &config,
        tokens,
        Arc::new(constant_contact::MemoryTokenStore::default()),
    )
    .unwrap()
    .with_budget(budget);
    let list_id = sandbox.state().lists()[0].list_id;
    client.get_list(list_id).await.unwrap();
    client.get_list(list_id).await.unwrap();
    assert!(matches!(
        client.get_list(list_id).await.unwrap_err(),
        Error::QuotaExceeded { .. }
    ));
    assert_eq!(
        sandbox
            .state()
            .requests()
            .iter()
            .filter(|r| r.endpoint == "get_contact_list")
            .count(),
        2
    );
}

#[tokio::test]
async fn clients_of_one_key_share_one_budget() {
    let registry = constant_contact::BudgetRegistry::default();
    let a = registry.budget_for("shared-key", 4, 3);
    let b = registry.budget_for("shared-key", 4, 3);
    drop(a.acquire().await.unwrap());
    drop(b.acquire().await.unwrap());
    drop(a.acquire().await.unwrap());
    assert!(matches!(
        b.acquire().await.unwrap_err(),
        Error::QuotaExceeded { .. }
    ));
}
