//! The API's shape: every error is `{code, detail}` with the status that fits, never the
//! framework's plain text; the OpenAPI document is public, served as committed, and its docs
//! page works with no network.

use entity::operators::Role;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Backend, spawn_app};

async fn error_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{status}: {content_type}"
    );
    let body: Value = response.json().await.expect("json body");
    assert!(body["code"].is_string() && body["detail"].is_string(), "{body}");
    (status, body)
}

#[tokio::test]
async fn bad_ids_queries_bodies_paths_and_methods_get_json_errors_with_fitting_statuses() {
    let app = spawn_app(Backend::Embedded).await;
    let token = app.add_operator("alice", Role::Steward).await;
    let send = |method: Method, path: &str| {
        app.client
            .request(method, format!("{}{path}", app.address))
            .bearer_auth(&token)
    };
    let cases = [
        (
            send(Method::GET, "/api/v1/conflicts/not-a-uuid"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            send(Method::GET, "/api/v1/conflicts?limit=0"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            send(Method::GET, "/api/v1/conflicts?colour=red"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            send(Method::GET, "/api/v1/conflicts?kind=feelings"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            send(
                Method::POST,
                &format!("/api/v1/conflicts/{}/resolve", uuid::Uuid::nil()),
            )
            .header("content-type", "application/json")
            .body("{not json"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            send(
                Method::POST,
                &format!("/api/v1/conflicts/{}/resolve", uuid::Uuid::nil()),
            )
            .json(&serde_json::json!({"action": "keep_hubspot"})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            send(Method::GET, &format!("/api/v1/clients/{}", uuid::Uuid::nil())),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            send(Method::GET, "/api/v1/no-such-thing"),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            send(Method::PATCH, "/api/v1/conflicts"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (request, status, code) in cases {
        let (got, body) = error_of(request.send().await.expect("request")).await;
        assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{body}");
    }
}

#[tokio::test]
async fn the_openapi_document_is_public_and_served_as_committed() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json"))
        .expect("docs/openapi.json");
    let generated = clientsync::api::openapi::document();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: run `cargo run -q -- openapi > docs/openapi.json` and commit it"
    );
    let app = spawn_app(Backend::Embedded).await;
    let served: Value = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.address))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let committed: Value = serde_json::from_str(&committed).expect("json");
    assert_eq!(served, committed);
    assert_eq!(served["openapi"], "3.1.0");
    let mut ids: Vec<&str> = served["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(|item| item.as_object())
        .flat_map(|ops| ops.values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids are unique");
}

#[tokio::test]
async fn the_docs_page_and_its_assets_come_from_the_binary() {
    let app = spawn_app(Backend::Embedded).await;
    let page = app
        .client
        .get(format!("{}/api/v1/docs/", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap_or_default();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("//cdn") && !html.contains("unpkg.com"),
        "nothing from a CDN"
    );
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-initializer.js"] {
        let response = app
            .client
            .get(format!("{}/api/v1/docs/{asset}", app.address))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
        assert!(
            response.bytes().await.map(|b| b.len()).unwrap_or(0) > 100,
            "{asset} has content"
        );
    }
}
