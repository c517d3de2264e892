//! Posting an alert to a webhook, signed when the webhook has a secret.
//!
//! The signature follows the common scheme: `X-Segsync-Signature: t=<unix seconds>,v1=<hex>`,
//! where the hex is HMAC-SHA256 under the secret of `<t>.<body>`. A receiver recomputes it
//! and refuses old timestamps, which stops replays.

use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use super::config::WebhookConfig;
use super::payload::Alert;
use crate::secrets::to_hex;

/// Why a post to a webhook was not delivered. Its message never shows the URL, which may hold
/// a token.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PostFailure {
    #[error("no HTTP client: {0}")]
    NoClient(String),
    #[error("no answer")]
    NoAnswer(#[source] reqwest::Error),
    #[error("it answered {0}")]
    Refused(reqwest::StatusCode),
}

/// Posts `alert` to `webhook`; any 2xx answer is a delivery, anything else a failure that
/// says what happened.
pub(crate) async fn deliver(
    http: &reqwest::Client,
    webhook: &WebhookConfig,
    alert: &Alert,
) -> Result<(), PostFailure> {
    post(http, webhook, &alert.id, alert.event.as_str(), &alert.body).await
}

/// Posts `body` as the event `event` with the delivery id `id`.
pub(crate) async fn post(
    http: &reqwest::Client,
    webhook: &WebhookConfig,
    id: &str,
    event: &str,
    body: &serde_json::Value,
) -> Result<(), PostFailure> {
    let body = body.to_string();
    let mut request = http
        .post(webhook.url.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Segsync-Event", event)
        .header("X-Segsync-Delivery", id);
    if let Some(secret) = &webhook.secret {
        let timestamp = chrono::Utc::now().timestamp();
        request = request.header(
            "X-Segsync-Signature",
            signature(secret.expose_secret().as_bytes(), timestamp, &body),
        );
    }
    let response = request
        .body(body)
        .send()
        .await
        .map_err(|error| PostFailure::NoAnswer(error.without_url()))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(PostFailure::Refused(status))
    }
}

/// The `X-Segsync-Signature` value for `body` sent at `timestamp`.
pub(crate) fn signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let hex = to_hex(&mac.finalize().into_bytes());
    format!("t={timestamp},v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::signature;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_timestamp_and_body() {
        // Computed independently with
        // `printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret`.
        assert_eq!(
            signature(b"secret", 1_700_000_000, r#"{"a":1}"#),
            "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }
}
