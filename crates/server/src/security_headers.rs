//! The headers every answer carries so that a browser keeps the console to itself: no
//! framing by another site, no script or style from anywhere else (the console has no inline
//! script or style), no guessing of content types, and no full URLs in the `Referer` of links
//! that leave it. Nothing but the console's own stylesheet and script is kept by a browser or a
//! proxy (`Cache-Control: no-store`): answers show one-time secrets (a new API token, a
//! generated password), members of segments and who did what.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The policy of every answer. Forms post to this site only, but for the one that sends the
/// browser on to Constant Contact's authorisation server (`authorization_origin`).
pub(crate) fn content_security_policy(authorization_origin: &str) -> HeaderValue {
    let policy = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self' {authorization_origin}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'"))
}

pub(crate) async fn security_headers(
    policy: HeaderValue,
    request: Request,
    next: Next,
) -> Response {
    let static_asset = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !static_asset {
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(policy);
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}
