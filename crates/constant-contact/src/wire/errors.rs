//! Error bodies in the shapes Constant Contact uses: an array of `{error_key, error_message}`
//! (most endpoints), a single such object (authorisation and rate limits), or the OAuth
//! `{error, error_description}` of the token endpoint.

use serde::Deserialize;

use crate::error::ApiError;

#[derive(Deserialize)]
struct ErrorObject {
    #[serde(default)]
    error_key: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

impl ErrorObject {
    fn into_api_error(self) -> Option<ApiError> {
        match (self.error_key, self.error) {
            (Some(error_key), _) => Some(ApiError {
                error_key,
                error_message: self.error_message.unwrap_or_default(),
            }),
            (None, Some(error)) => Some(ApiError {
                error_key: error,
                error_message: self.error_description.unwrap_or_default(),
            }),
            (None, None) => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorBody {
    Many(Vec<ErrorObject>),
    One(ErrorObject),
}

/// Reads whatever error shape the body has. A body that is not one of the documented shapes
/// becomes one error with key `unrecognised_error_body` and the body's text, so nothing the
/// server said is lost.
pub fn parse_error_body(body: &[u8]) -> Vec<ApiError> {
    let parsed = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody::Many(objects)) => objects
            .into_iter()
            .filter_map(ErrorObject::into_api_error)
            .collect(),
        Ok(ErrorBody::One(object)) => object.into_api_error().into_iter().collect(),
        Err(_) => Vec::new(),
    };
    if !parsed.is_empty() || body.is_empty() {
        return parsed;
    }
    let text = String::from_utf8_lossy(body);
    vec![ApiError {
        error_key: "unrecognised_error_body".to_owned(),
        error_message: text.chars().take(500).collect(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_and_message(errors: &[ApiError]) -> Vec<(&str, &str)> {
        errors
            .iter()
            .map(|e| (e.error_key.as_str(), e.error_message.as_str()))
            .collect()
    }

    #[test]
    fn array_shape() {
        let body = br#"[{"error_key":"contacts.api.validation.error","error_message":"bad"},
                        {"error_key":"contacts.api.not_found","error_message":"gone"}]"#;
        assert_eq!(
            key_and_message(&parse_error_body(body)),
            [
                ("contacts.api.validation.error", "bad"),
                ("contacts.api.not_found", "gone")
            ]
        );
    }

    #[test]
    fn single_object_shape() {
        let body = br#"{"error_key":"quota_exceeded","error_message":"Limit Exceeded"}"#;
        assert_eq!(
            key_and_message(&parse_error_body(body)),
            [("quota_exceeded", "Limit Exceeded")]
        );
    }

    #[test]
    fn oauth_shape() {
        let body =
            br#"{"error":"invalid_grant","error_description":"The refresh token is invalid."}"#;
        assert_eq!(
            key_and_message(&parse_error_body(body)),
            [("invalid_grant", "The refresh token is invalid.")]
        );
    }

    #[test]
    fn unknown_shape_keeps_the_text() {
        let errors = parse_error_body(b"<html>Bad Gateway</html>");
        assert_eq!(
            key_and_message(&errors),
            [("unrecognised_error_body", "<html>Bad Gateway</html>")]
        );
    }

    #[test]
    fn empty_body_is_no_error_details() {
        assert!(parse_error_body(b"").is_empty());
    }
}
