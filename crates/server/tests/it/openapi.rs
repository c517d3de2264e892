//! The OpenAPI document: served, complete, and the same as the copy in the repository.

use std::path::PathBuf;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::spawn_app;
use crate::roles::routes;

fn committed_copy() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[tokio::test]
async fn the_document_describes_every_route_and_matches_the_committed_copy() {
    let app = spawn_app().await;
    let response = app
        .request(None, Method::GET, "/api/openapi.json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the document is public");
    let document: Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let current = serde_json::to_string_pretty(&document).unwrap() + "\n";
    let path = committed_copy();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &current).unwrap();
    }

    for route in routes() {
        let method = route.method.as_str().to_ascii_lowercase();
        let path = route
            .path
            .replace("{connection}", "{id}")
            .replace("{shared}", "{id}")
            .replace("{segment}", "{id}")
            .replace("{doomed}", "{id}")
            .replace("{export}", "{id}")
            .replace("{run}", "{id}")
            .replace("{token}", "{id}")
            .replace("{someone}", "{id}")
            .replace("{erasure}", "{id}");
        let path = path.split('?').next().unwrap_or_default().to_owned();
        let operation = &document["paths"][&path][&method];
        assert!(operation.is_object(), "{method} {path} is not described");
        assert!(
            operation["responses"]["default"].is_object(),
            "{method} {path} does not describe its errors"
        );
        if path.contains("{id}") {
            let parameters = operation["parameters"].as_array().unwrap();
            assert!(
                parameters
                    .iter()
                    .any(|parameter| parameter["name"] == "id" && parameter["in"] == "path"),
                "{method} {path} does not describe its id"
            );
        }
    }
    let run_now = &document["paths"]["/api/v1/exports/{id}/run"]["post"];
    assert_eq!(run_now["tags"][0], "runs");
    assert!(run_now["responses"]["409"].is_object());
    let paged = &document["paths"]["/api/v1/runs"]["get"];
    let parameters: Vec<&str> = paged["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|parameter| parameter["name"].as_str().unwrap())
        .collect();
    assert_eq!(parameters, ["status", "limit", "offset"]);
    for schema in [
        "ErrorBody",
        "ExportView",
        "ExportForm",
        "RunView",
        "RefreshSchedule",
        "Role",
    ] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "no schema {schema}"
        );
    }
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["token"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(
        document["paths"]["/healthz"]["get"]["security"],
        serde_json::json!([{}]),
        "health checks need no credentials"
    );

    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == current,
        "docs/openapi.json differs from what the server serves; regenerate it with \
         UPDATE_OPENAPI=1 cargo test -p segsync-server --test it openapi"
    );
}
