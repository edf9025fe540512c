//! Operators see the conflicts, decide them, and their decisions stand until they clear them.

use entity::conflicts::{ConflictKind, ConflictStatus};
use entity::operators::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, clickup_task_update, hubspot_property, now_ms, spawn_app_with};

/// An app with one steward, `alice`, and her token.
pub struct OperatedApp {
    pub app: TestApp,
    pub token: String,
}

impl std::ops::Deref for OperatedApp {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

on_both_backends!(
    the_operator_api_refuses_requests_without_the_token,
    accepting_clickups_value_pins_it_over_later_hubspot_changes_until_the_pin_is_cleared,
    keeping_hubspots_value_is_not_asked_again_for_the_same_values,
    an_ambiguous_match_is_resolved_by_linking_the_record_to_the_chosen_client,
    a_decision_that_does_not_fit_the_conflict_is_refused_and_changes_nothing,
);

pub(crate) async fn operator_app(backend: Backend) -> OperatedApp {
    let app = spawn_app_with(backend, |_| {}).await;
    let token = app.add_operator("alice", Role::Steward).await;
    OperatedApp { app, token }
}

impl OperatedApp {
    pub(crate) async fn operator_get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn operator_send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn resolve(&self, conflict: &str, decision: Value) -> (StatusCode, Value) {
        let path = format!("/api/v1/conflicts/{conflict}/resolve");
        self.operator_send(reqwest::Method::POST, &path, Some(decision))
            .await
    }

    pub(crate) async fn open_conflicts(&self, kind: &str) -> Vec<Value> {
        let (status, body) = self.operator_get(&format!("/api/v1/conflicts?kind={kind}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["items"].as_array().cloned().unwrap_or_default()
    }
}

/// One person in both systems, with phones that disagree: one field_mismatch conflict.
pub(crate) async fn phones_disagree(app: &OperatedApp, t: i64) {
    let contact = json!([
        hubspot_property(1, "email", "eva@example.com", t),
        hubspot_property(1, "phone", "+34 611 111 111", t + 1),
    ]);
    assert_eq!(app.post_hubspot(&contact).await.status(), 200);
    let task = clickup_task_update(
        "t1",
        &[
            ("h1", "Email", "eva@example.com"),
            ("h2", "Phone", "+34 622 222 222"),
        ],
        t + 2,
    );
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;
}

async fn the_operator_api_refuses_requests_without_the_token(backend: Backend) {
    let app = operator_app(backend).await;
    let url = format!("{}/api/v1/conflicts", app.address);
    let none = app.client.get(&url).send().await.expect("request");
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        none.headers().get("WWW-Authenticate").map(|v| v.as_bytes()),
        Some(&b"Bearer"[..])
    );
    let wrong = app
        .client
        .get(&url)
        .bearer_auth("not-the-token")
        .send()
        .await
        .expect("request");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body = wrong.text().await.unwrap_or_default();
    assert!(!body.contains(&app.token), "the token never appears in answers");
}

#[tokio::test]
async fn the_bearer_scheme_is_accepted_in_any_case() {
    let app = operator_app(Backend::Embedded).await;
    let url = format!("{}/api/v1/conflicts", app.address);
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = app
            .client
            .get(&url)
            .header("Authorization", format!("{scheme} {}", app.token))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{scheme}");
    }
}

async fn accepting_clickups_value_pins_it_over_later_hubspot_changes_until_the_pin_is_cleared(
    backend: Backend,
) {
    let app = operator_app(backend).await;
    let t = now_ms() - 60_000;
    phones_disagree(&app, t).await;
    let conflicts = app.open_conflicts("field_mismatch").await;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let id = conflicts[0]["id"].as_str().expect("id");
    let client = conflicts[0]["client_id"].as_str().expect("client").to_owned();

    let (status, body) = app.resolve(id, json!({"action": "accept_clickup"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "resolved");
    assert_eq!(body["resolved_by"], "alice");
    assert_eq!(app.clients().await[0].phone.as_deref(), Some("+34622222222"));

    // HubSpot changes the phone again: the pin stands and nobody is asked again.
    let later = json!([hubspot_property(1, "phone", "+34 633 333 333", t + 10)]);
    assert_eq!(app.post_hubspot(&later).await.status(), 200);
    app.drain_worker().await;
    assert_eq!(app.clients().await[0].phone.as_deref(), Some("+34622222222"));
    assert!(app.open_conflicts("field_mismatch").await.is_empty());
    let (_, view) = app.operator_get(&format!("/api/v1/clients/{client}")).await;
    assert_eq!(view["fields"]["phone"]["pinned"], true, "{view}");
    assert_eq!(view["fields"]["phone"]["source"], "operator");

    let (status, _) = app
        .operator_send(
            reqwest::Method::DELETE,
            &format!("/api/v1/clients/{client}/pins/phone"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.clients().await[0].phone.as_deref(),
        Some("+34633333333"),
        "HubSpot's again"
    );
    let (status, _) = app
        .operator_send(
            reqwest::Method::DELETE,
            &format!("/api/v1/clients/{client}/pins/phone"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no pin left to clear");
}

async fn keeping_hubspots_value_is_not_asked_again_for_the_same_values(backend: Backend) {
    let app = operator_app(backend).await;
    let t = now_ms() - 60_000;
    phones_disagree(&app, t).await;
    let id = app.open_conflicts("field_mismatch").await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, _) = app.resolve(&id, json!({"action": "keep_hubspot"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.clients().await[0].phone.as_deref(), Some("+34611111111"));

    // Another change re-derives the client with the same disagreement: decided, not reopened.
    let name = json!([hubspot_property(1, "firstname", "Eva", t + 10)]);
    assert_eq!(app.post_hubspot(&name).await.status(), 200);
    app.drain_worker().await;
    assert!(app.open_conflicts("field_mismatch").await.is_empty());

    // A new disagreement is news.
    let task = clickup_task_update("t1", &[("h9", "Phone", "+34 644 444 444")], t + 20);
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;
    assert_eq!(app.open_conflicts("field_mismatch").await.len(), 1);
}

/// Two Anas sharing an office line, then task t9 naming Ana with that line: one open
/// ambiguous_match between the two, returned as the API lists it.
pub(crate) async fn ana_between_two_anas(app: &OperatedApp, t: i64) -> Value {
    app.post_two_anas_sharing_an_office_line(t).await;
    let task = clickup_task_update(
        "t9",
        &[("h1", "name", "Ana Romero"), ("h2", "Phone", "911000111")],
        t + 10,
    );
    assert_eq!(app.post_clickup(&task).await.status(), 200);
    app.drain_worker().await;
    let ambiguous = app.open_conflicts("ambiguous_match").await;
    assert_eq!(ambiguous.len(), 1, "{ambiguous:?}");
    ambiguous[0].clone()
}

async fn an_ambiguous_match_is_resolved_by_linking_the_record_to_the_chosen_client(backend: Backend) {
    let app = operator_app(backend).await;
    let t = now_ms() - 60_000;
    let ambiguous = [ana_between_two_anas(&app, t).await];
    let chosen = ambiguous[0]["candidates"][1]["client_id"]
        .as_str()
        .expect("candidate")
        .to_owned();

    let id = ambiguous[0]["id"].as_str().expect("id");
    let (status, body) = app
        .resolve(id, json!({"action": "link", "client_id": chosen}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    assert_eq!(app.clients().await.len(), 2, "nothing else merged");
    let task = app
        .source_records()
        .await
        .into_iter()
        .find(|r| r.external_id == "task:t9")
        .expect("task");
    assert_eq!(task.client_id.map(|c| c.to_string()), Some(chosen));
    let (status, _) = app
        .resolve(id, json!({"action": "link", "client_id": task.client_id}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "already resolved");
}

async fn a_decision_that_does_not_fit_the_conflict_is_refused_and_changes_nothing(backend: Backend) {
    let app = operator_app(backend).await;
    phones_disagree(&app, now_ms() - 60_000).await;
    let id = app.open_conflicts("field_mismatch").await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, body) = app
        .resolve(&id, json!({"action": "link", "client_id": uuid::Uuid::new_v4()}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = app
        .resolve(&id, json!({"action": "pin", "value": "not a phone"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "unprocessable", "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|e| e.contains("phone")),
        "{body}"
    );
    let viewer = app.add_operator("vera", Role::Viewer).await;
    let refused = app
        .client
        .post(format!("{}/api/v1/conflicts/{id}/resolve", app.address))
        .bearer_auth(&viewer)
        .json(&json!({"action": "keep_hubspot"}))
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "a viewer only reads");
    let conflicts = app.conflicts().await;
    assert!(
        conflicts
            .iter()
            .all(|c| c.status == ConflictStatus::Open && c.kind == ConflictKind::FieldMismatch)
    );
}
