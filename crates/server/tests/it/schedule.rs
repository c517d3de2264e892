//! The refresh schedule through the API.

use reqwest::{Method, StatusCode};
use segsync_store::Role;
use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_schedule_is_off_until_an_admin_sets_it() {
    let app = spawn_app().await;
    let off: Value = app
        .request(Some(Role::Viewer), Method::GET, "/api/v1/schedule")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(off["schedule"]["frequency"], "off");
    assert_eq!(off["next_run"], Value::Null);

    let too_many = json!({ "frequency": "daily", "times": ["01:00:00", "02:00:00", "03:00:00", "04:00:00", "05:00:00"], "time_zone": "UTC" });
    let refused = app
        .request(Some(Role::Admin), Method::PUT, "/api/v1/schedule")
        .json(&too_many)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("at most 4"),
        "{body}"
    );

    let weekly = json!({ "frequency": "weekly", "days": ["Mon", "Thu"], "times": ["06:30:00"], "time_zone": "America/New_York" });
    let set: Value = app
        .request(Some(Role::Admin), Method::PUT, "/api/v1/schedule")
        .json(&weekly)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(set["schedule"], weekly);
    let next = chrono::DateTime::parse_from_rfc3339(set["next_run"].as_str().unwrap()).unwrap();
    let local = next.with_timezone(&chrono_tz::America::New_York);
    assert_eq!(local.format("%H:%M").to_string(), "06:30");
    assert!(matches!(
        chrono::Datelike::weekday(&local),
        chrono::Weekday::Mon | chrono::Weekday::Thu
    ));
    let read: Value = app
        .request(Some(Role::Viewer), Method::GET, "/api/v1/schedule")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["schedule"], weekly, "kept in the store");
}
